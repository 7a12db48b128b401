#include "policy/acl.h"

#include <algorithm>

#include "base/number.h"
#include "base/names.h"

namespace ub::policy {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Where the first space or tab is: find_first_of(" \t") calls memchr over
// the set for every byte, a large part of parsing a big ACL.
std::size_t find_space(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == ' ' || s[i] == '\t') return i;
    return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

Error at(std::string_view origin, int lineno, const std::string& msg) {
    return Error::msg(std::string(origin) + ":" + std::to_string(lineno) + ": " + msg);
}

bool is_daemon_only(std::string_view key) {
    for (std::string_view k : kDaemonOnly)
        if (k == key) return true;
    return false;
}

// A user= or group= value into `out`; "" when it is one, else why not.
std::string parse_subject(std::string_view key, std::string_view value, Line& out) {
    // Names as useradd(8) allows them, loosely: no blanks, '=', ':' or
    // control bytes. All digits means an id, as chown(1) takes it.
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u <= ' ' || u >= 0x7f || c == ':' || c == '=' || c == ',') return "not a user or group name";
    }
    if (value.size() > 64) return "name too long";
    out.who.kind = key == "user" ? Subject::User : Subject::Group;
    out.who.name = std::string(value);
    // 4294967295 is (uid_t)-1, "no user" to the kernel.
    if (auto id = parse_decimal(value, kMaxId)) out.who.id = *id;
    else if (value.find_first_not_of("0123456789") == std::string_view::npos) return "id out of range";
    return "";
}

// max-queues= into `out`; "" when it is one, else why not.
std::string parse_queues(std::string_view value, Line& out) {
    std::optional<long long> n = parse_decimal(value, kMaxQueues);
    if (!n || *n < 1) return "expected a whole number, 1 to " + std::to_string(kMaxQueues);
    out.limits.max_queues = static_cast<int>(*n);
    return "";
}

// user=, group=, max-queues=, isolated=; kDaemonOnly's values
// through `daemon`, or their names recorded, values unread, without.
Result<void> parse_option(std::string_view opt, Line& out, std::string_view origin, int lineno,
                          const DaemonOptions* daemon) {
    std::size_t eq = opt.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == opt.size())
        return at(origin, lineno, "'" + printable(opt) + "': expected key=value");
    std::string_view key = opt.substr(0, eq);
    std::string_view value = opt.substr(eq + 1);
    bool subject = key == "user" || key == "group";
    bool queues = key == "max-queues";
    if (!subject && !queues && key != "isolated" && !is_daemon_only(key))
        return at(origin, lineno, "unknown option '" + printable(key) +
                                      "' (expected user, group, max-taps, max-queues, mac, "
                                      "mac-prefix, servers, ip, rate, auth, isolated, mode or lease)");
    // By name, before any value is read: a deny takes a subject only.
    if (!subject && out.verb != Verb::Allow) return at(origin, lineno, std::string(key) + "= is for allow rules only");
    if (subject && out.who.kind != Subject::Anyone)
        return at(origin, lineno, "a rule names one user or one group, not more");

    if (is_daemon_only(key)) {
        // No daemon-only value holds '=', a blank or a byte outside
        // printable ASCII. One that does has swallowed the next option (a
        // comma or an odd space for a separator), perhaps the rule's user=,
        // which the helper, reading names only, would lose: the rule would
        // be for anyone, and a less specific allow could decide in its place.
        for (char c : value)
            if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f || c == '=')
                return at(origin, lineno, std::string(key) + "=" + printable(value) +
                                              ": not a value (a space missing before the next option?)");
        std::string& names = out.limits.daemon_only;
        names += (names.empty() ? "" : " ") + std::string(key) + "=";
        if (!daemon) return Ok{};
        Result<void> parsed = daemon->parse(key, value, out);
        return parsed.ok() ? parsed : at(origin, lineno, parsed.error().message());
    }
    std::string why;
    if (subject) {
        why = parse_subject(key, value, out);
    } else if (queues) {
        why = parse_queues(value, out);
    } else if (value == "yes" || value == "no") {
        out.limits.isolated = value == "yes";
    } else {
        why = "expected yes or no";
    }
    if (why.empty()) return Ok{};
    return at(origin, lineno, std::string(key) + "=" + printable(value) + ": " + why);
}

Result<Line> parse_line(std::string_view line, std::string_view origin, int lineno, const DaemonOptions* daemon) {
    std::size_t split = find_space(line);
    std::string_view cmd = line.substr(0, split);
    std::string_view rest = split == std::string_view::npos ? "" : trim(line.substr(split));
    if (rest.empty()) return at(origin, lineno, "'" + printable(cmd) + "' needs an argument");

    Verb verb;
    if (cmd == "allow") {
        verb = Verb::Allow;
    } else if (cmd == "deny") {
        verb = Verb::Deny;
    } else if (cmd == "include") {
        // A path may contain spaces, as in QEMU; it is resolved by the loader.
        return Line{Verb::Include, std::string(rest), lineno};
    } else {
        return at(origin, lineno, "unknown keyword '" + printable(cmd) +
                                      "' (expected allow, deny or include)");
    }
    std::size_t name_end = find_space(rest);
    std::string_view arg = rest.substr(0, name_end);
    if (arg != "all") {
        // QEMU rejects only names of 16 bytes or more and keeps names that can
        // never match (spaces, '/'); we reject every name the kernel would.
        if (std::string problem = ifname_problem(arg); !problem.empty())
            return at(origin, lineno, "bridge name '" + printable(arg) + "' " + problem);
        // The kernel takes '=' in a name, but `deny br0user=bob` is a typo
        // that would make a deny that names nothing, and lapses unseen.
        if (arg.find('=') != std::string_view::npos)
            return at(origin, lineno, "bridge name '" + printable(arg) + "' holds '=' (a space missing?)");
    }
    Line out{verb, std::string(arg), lineno};
    std::string_view opts = name_end == std::string_view::npos ? "" : rest.substr(name_end);
    std::vector<std::string_view> seen;
    while (!(opts = trim(opts)).empty()) {
        std::size_t end = find_space(opts);
        std::string_view opt = opts.substr(0, end);
        opts = end == std::string_view::npos ? "" : opts.substr(end);
        std::string_view key = opt.substr(0, opt.find('='));
        for (std::string_view k : seen)
            if (k == key) return at(origin, lineno, printable(key) + "= given twice");
        seen.push_back(key);
        UB_TRYV(parse_option(opt, out, origin, lineno, daemon));
    }
    out.limits.values_read = daemon != nullptr;
    if (daemon && !out.limits.daemon_only.empty())
        if (std::string why = daemon->check(out); !why.empty()) return at(origin, lineno, why);
    return out;
}

}  // namespace

Result<void> parse_each(std::string_view text, std::string_view origin,
                        const std::function<void(Line&&)>& each,
                        std::vector<std::string>* problems, const DaemonOptions* daemon) {
    int lineno = 0;
    // Lines are searched for NUL bytes only when the text has one.
    bool any_nul = text.find('\0') != std::string_view::npos;
    while (!text.empty()) {
        ++lineno;
        std::size_t nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);

        std::string_view line = trim(raw);
        bool has_nul = any_nul && raw.find('\0') != std::string_view::npos;
        if (!has_nul && (line.empty() || line.front() == '#')) continue;
        Result<Line> parsed = has_nul ? Result<Line>(at(origin, lineno, "contains a NUL byte"))
                                      : parse_line(line, origin, lineno, daemon);
        if (parsed.ok()) {
            each(std::move(*parsed));
        } else if (problems) {
            problems->push_back(parsed.error().message());
        } else {
            return parsed.error();
        }
    }
    return Ok{};
}

bool Credentials::in_group(gid_t g) const {
    return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end() ||
           std::find(account_groups.begin(), account_groups.end(), g) != account_groups.end();
}

std::string where(const Rule& r) { return *r.file + ":" + std::to_string(r.lineno); }

bool is_for(const Subject& s, const Credentials* who) {
    switch (s.kind) {
    case Subject::Anyone:
        return true;
    case Subject::User:
        return s.id >= 0 && who &&
               (static_cast<long long>(who->uid) == s.id || (who->owner && static_cast<long long>(*who->owner) == s.id));
    case Subject::Group:
        return s.id >= 0 && who && who->in_group(static_cast<gid_t>(s.id));
    }
    return false;
}

namespace {

// Higher is more specific: the subject first, then a named bridge.
int specificity(const Rule& r) {
    int subject = r.who.kind == Subject::User ? 2 : r.who.kind == Subject::Group ? 1 : 0;
    return subject * 2 + (r.bridge.empty() ? 0 : 1);
}

}  // namespace

Decision decide(const std::vector<Rule>& rules, std::string_view bridge, const Credentials* who,
                const Readable* readable) {
    const Rule* allow = nullptr;
    const Rule* deny = nullptr;
    for (const Rule& r : rules) {
        if (readable && !readable->counts(r)) continue;
        // The cheap test first: a 10,000-rule ACL is mostly other bridges.
        if (!r.bridge.empty() && r.bridge != bridge) continue;
        if (!is_for(r.who, who)) continue;
        if (r.verb == Verb::Deny && !deny) deny = &r;
        if (r.verb == Verb::Allow && (!allow || specificity(r) > specificity(*allow))) allow = &r;
    }
    if (deny) return {false, deny, "denied by " + where(*deny)};
    if (allow && allow->auth == Auth::Polkit)
        return {false, allow,
                "polkit decides (auth=polkit at " + where(*allow) +
                    "), which only userbridged asks: use userbridge-client or userbridge run", true};
    if (allow) return {true, allow, "allowed by " + where(*allow)};
    return {false, nullptr, "no rule allows it (the default is deny)"};
}

std::string daemon_refusal(const Rule& r) {
    return where(r) + " asks for " + r.limits.daemon_only +
           ", which only userbridged does: use userbridge-client (QEMU's helper=) or userbridge run";
}

std::optional<Refusal> check_queues(const Decision& d, int queues) {
    int most = d.limits().max_queues;
    if (queues <= most) return std::nullopt;
    return Refusal{Refused::Acl, "asked for " + std::to_string(queues) + " queues; " +
                   (d.deciding ? where(*d.deciding) : std::string("the ACL")) + " allows at most " +
                   std::to_string(most)};
}

}  // namespace ub::policy
