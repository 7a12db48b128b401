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

bool is_unicast(std::uint8_t first) { return (first & 1) == 0; }

struct RateUnit {
    const char* name;
    std::uint64_t bits;
};
constexpr RateUnit kRateUnits[] = {{"gbit", 1000ULL * 1000 * 1000}, {"mbit", 1000ULL * 1000}, {"kbit", 1000}};

struct ModeName {
    const char* name;
    Mode mode;
};
constexpr ModeName kModes[] = {{"bridge", Mode::Bridge}, {"routed", Mode::Routed}, {"macvtap", Mode::Macvtap}};

Result<Mode> parse_mode(std::string_view value) {
    std::string names;  // "bridge, routed or macvtap"
    for (std::size_t i = 0; i < std::size(kModes); ++i) {
        if (value == kModes[i].name) return kModes[i].mode;
        names += (i == 0 ? "" : i + 1 == std::size(kModes) ? " or " : ", ") + std::string(kModes[i].name);
    }
    return Error::msg("expected " + names);
}

// user=, group=, max-taps=, max-queues=, mac=, mac-prefix=, servers=, ip=,
// rate=, auth=, isolated=, mode=, lease=.
Result<void> parse_option(std::string_view opt, Line& out, std::string_view origin, int lineno) {
    std::size_t eq = opt.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == opt.size())
        return at(origin, lineno, "'" + printable(opt) + "': expected key=value");
    std::string_view key = opt.substr(0, eq);
    std::string_view value = opt.substr(eq + 1);
    auto bad = [&](const std::string& why) {
        return at(origin, lineno, std::string(key) + "=" + printable(value) + ": " + why);
    };
    bool allow_only = key != "user" && key != "group";
    if (allow_only && out.verb != Verb::Allow)
        return at(origin, lineno, std::string(key) + "= is for allow rules only");

    if (key == "user" || key == "group") {
        if (out.who.kind != Subject::Anyone)
            return at(origin, lineno, "a rule names one user or one group, not more");
        // Names as useradd(8) allows them, loosely: no blanks, '=', ':' or
        // control bytes. All digits means an id, as chown(1) takes it.
        for (char c : value) {
            auto u = static_cast<unsigned char>(c);
            if (u <= ' ' || u >= 0x7f || c == ':' || c == '=' || c == ',')
                return bad("not a user or group name");
        }
        if (value.size() > 64) return bad("name too long");
        out.who.kind = key == "user" ? Subject::User : Subject::Group;
        out.who.name = std::string(value);
        // 4294967295 is (uid_t)-1, "no user" to the kernel.
        if (auto id = parse_decimal(value, kMaxId)) out.who.id = *id;
        else if (value.find_first_not_of("0123456789") == std::string_view::npos)
            return bad("id out of range");
        return Ok{};
    }
    if (key == "max-taps") {
        auto n = parse_decimal(value, kMaxTapsCeiling);
        if (!n) return bad("expected a whole number, 0 to " + std::to_string(kMaxTapsCeiling));
        out.limits.max_taps = static_cast<int>(*n);
        return Ok{};
    }
    if (key == "max-queues") {
        auto n = parse_decimal(value, kMaxQueues);
        if (!n || *n < 1) return bad("expected a whole number, 1 to " + std::to_string(kMaxQueues));
        out.limits.max_queues = static_cast<int>(*n);
        return Ok{};
    }
    if (key == "mac" || key == "mac-prefix") {
        if (out.limits.mac.mode != MacPolicy::None)
            return at(origin, lineno, "a rule has one mac= or mac-prefix=, not more");
        bool prefix = key == "mac-prefix";
        int len = 0;
        Result<Mac> mac = parse_mac(value, &len);
        if (!mac.ok()) return bad(mac.error().message());
        if (prefix ? (len < 1 || len > 5) : len != 6)
            return bad(prefix ? "a prefix has 1 to 5 bytes" : "a MAC has 6 bytes");
        if (!is_unicast((*mac)[0])) return bad("a multicast address (first byte odd)");
        if (!prefix && *mac == Mac{}) return bad("the all-zero address");
        out.limits.mac = {prefix ? MacPolicy::Prefix : MacPolicy::Fixed, *mac, len};
        return Ok{};
    }
    if (key == "servers" || key == "isolated") {
        if (value != "yes" && value != "no") return bad("expected yes or no");
        (key == "servers" ? out.limits.servers : out.limits.isolated) = value == "yes";
        return Ok{};
    }
    if (key == "rate") {
        Result<std::uint64_t> bits = parse_rate(value);
        if (!bits.ok()) return bad(bits.error().message());
        out.limits.rate_bits = *bits;
        return Ok{};
    }
    if (key == "mode") {
        Result<Mode> mode = parse_mode(value);
        if (!mode.ok()) return bad(mode.error().message());
        out.limits.mode = *mode;
        return Ok{};
    }
    if (key == "lease") {
        Result<std::uint32_t> seconds = parse_duration(value);
        if (!seconds.ok()) return bad(seconds.error().message());
        out.limits.lease_max = *seconds;
        return Ok{};
    }
    if (key == "auth") {
        if (value != "polkit") return bad("expected polkit");
        out.auth = Auth::Polkit;
        return Ok{};
    }
    if (key == "ip") {
        Result<std::vector<IpPrefix>> ips = parse_ip_list(value);
        if (!ips.ok()) return bad(ips.error().message());
        out.limits.ips = std::move(*ips);
        return Ok{};
    }
    return at(origin, lineno, "unknown option '" + printable(key) +
                                  "' (expected user, group, max-taps, max-queues, mac, "
                                  "mac-prefix, servers, ip, rate, auth, isolated, mode or lease)");
}

// What a mode=routed rule must and must not say: the addresses routed to
// its tap are ip='s, one each (a prefix would have the host answer ARP for
// a whole range on the uplink); the rest is bridge-family filtering and
// bridge-port state, which a tap on no bridge has none of.
std::string routed_problem(const Limits& l) {
    if (l.ips.empty()) return "mode=routed needs ip= (the guest's addresses)";
    for (const IpPrefix& p : l.ips)
        if (p.len != p.bits() || is_link_local(p))
            return "mode=routed: ip= lists single addresses, not link-local, not prefixes (" +
                   format_ip_prefix(p) + ")";
    if (l.mac.mode != MacPolicy::None || !l.servers || l.rate_bits || l.isolated)
        return "mode=routed takes no mac=, mac-prefix=, servers=, rate= or isolated=: its tap is no bridge port";
    return "";
}

Result<Line> parse_line(std::string_view line, std::string_view origin, int lineno) {
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
        UB_TRYV(parse_option(opt, out, origin, lineno));
    }
    // The filter that drops a guest's server messages is the MAC pin's.
    if (!out.limits.servers && out.limits.mac.mode == MacPolicy::None)
        return at(origin, lineno, "servers=no needs mac= or mac-prefix= on the same rule");
    if (out.limits.lease_max && out.limits.mode != Mode::Bridge)
        return at(origin, lineno, "lease= is for mode=bridge rules: a lease is a tap on a bridge");
    // Only a bridge is checked to be one (find_bridge): "all" with another
    // mode would let a user route to, or put a macvtap on, any interface of
    // the host, another user's veth end or a bridge among them.
    if (out.limits.mode != Mode::Bridge && out.arg == "all")
        return at(origin, lineno, "mode=" + std::string(mode_name(out.limits.mode)) +
                                      " names its interface: not all");
    if (out.limits.mode == Mode::Routed) {
        if (std::string why = routed_problem(out.limits); !why.empty()) return at(origin, lineno, why);
        return out;
    }
    if (!out.limits.ips.empty() && out.limits.mac.mode == MacPolicy::None)
        return at(origin, lineno, "ip= needs mac= or mac-prefix= on the same rule");
    // nftables' bridge family sees bridge ports only, and a macvtap is none.
    const Limits& l = out.limits;
    if (l.mode == Mode::Macvtap && (!l.servers || !l.ips.empty() || l.rate_bits || l.isolated))
        return at(origin, lineno,
                  "mode=macvtap takes no servers=, ip=, rate= or isolated=: a macvtap is no bridge port");
    return out;
}

}  // namespace

Result<std::uint64_t> parse_rate(std::string_view text) {
    for (const RateUnit& u : kRateUnits) {
        std::string_view unit = u.name;
        if (text.size() <= unit.size() || text.substr(text.size() - unit.size()) != unit) continue;
        std::string_view digits = text.substr(0, text.size() - unit.size());
        std::optional<long long> n = parse_decimal(digits, static_cast<long long>(kMaxRateBits / u.bits));
        if (!n || *n < 1 || digits[0] == '0') break;
        return static_cast<std::uint64_t>(*n) * u.bits;
    }
    return Error::msg("expected a whole number and kbit, mbit or gbit, 1kbit to 100gbit");
}

Result<std::uint32_t> parse_duration(std::string_view text) {
    for (const DurationUnit& u : kDurationUnits) {
        if (text.size() < 2 || text.back() != u.name) continue;
        std::string_view digits = text.substr(0, text.size() - 1);
        std::optional<long long> n = parse_decimal(digits, kMaxLeaseSeconds / u.seconds);
        if (!n || *n < 1 || digits[0] == '0') break;
        return static_cast<std::uint32_t>(*n * u.seconds);
    }
    return Error::msg("expected a whole number and s, m, h or d, 1s to 366d");
}

std::string format_rate(std::uint64_t bits) {
    for (const RateUnit& u : kRateUnits)
        if (bits % u.bits == 0) return std::to_string(bits / u.bits) + u.name;
    return std::to_string(bits) + "bit";
}

Result<void> parse_each(std::string_view text, std::string_view origin,
                        const std::function<void(Line&&)>& each,
                        std::vector<std::string>* problems) {
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
                                      : parse_line(line, origin, lineno);
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

std::string_view mode_name(Mode mode) {
    for (const ModeName& m : kModes)
        if (m.mode == mode) return m.name;
    return "?";
}

bool Credentials::in_group(gid_t g) const {
    return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

std::string where(const Rule& r) { return *r.file + ":" + std::to_string(r.lineno); }

bool is_for(const Subject& s, const Credentials* who) {
    switch (s.kind) {
    case Subject::Anyone:
        return true;
    case Subject::User:
        return s.id >= 0 && who && static_cast<long long>(who->uid) == s.id;
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
                const std::vector<bool>* file_ok) {
    const Rule* allow = nullptr;
    const Rule* deny = nullptr;
    for (const Rule& r : rules) {
        if (file_ok && !(*file_ok)[static_cast<std::size_t>(r.file_index)]) continue;
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

Decision polkit_granted(const Decision& d) {
    return {true, d.deciding, "allowed by " + where(*d.deciding) + " and polkit"};
}

std::string traffic_words(const Limits& l) {
    std::string s;
    if (l.mac.mode == MacPolicy::Fixed) s += " mac=" + format_mac(l.mac.bytes);
    if (l.mac.mode == MacPolicy::Prefix)
        s += " mac-prefix=" + format_mac(l.mac.bytes, l.mac.prefix_len);
    if (!l.servers) s += " servers=no";
    if (!l.ips.empty()) s += " ip=" + format_ip_list(l.ips);
    if (l.rate_bits) s += " rate=" + format_rate(l.rate_bits);
    return s;
}

bool needs_filter(const Limits& l) {
    return l.mac.mode != MacPolicy::None || !l.servers || !l.ips.empty() || l.rate_bits != 0;
}

std::string filter_refusal(const Rule& r) {
    return where(r) + " filters the tap's traffic (" + traffic_words(r.limits).substr(1) +
           "), which only userbridged does: use userbridge-client (QEMU's helper=) or userbridge run";
}

std::optional<Refusal> check_queues(const Decision& d, int queues) {
    int most = d.limits().max_queues;
    if (queues <= most) return std::nullopt;
    return Refusal{Refused::Acl, "asked for " + std::to_string(queues) + " queues; " +
                   (d.deciding ? where(*d.deciding) : std::string("the ACL")) + " allows at most " +
                   std::to_string(most)};
}

Result<Terms> terms_of(const Decision& d, const MacDeriver& derive, uid_t uid, std::string_view vm_name,
                       std::string_view bridge) {
    Terms t{d.limits()};
    if (t.limits.mac.mode != MacPolicy::None) {
        t.has_mac = true;
        t.guest_mac = t.limits.mac.bytes;
        if (t.limits.mac.mode == MacPolicy::Prefix) {
            Result<Mac> mac = derive ? derive(t.limits.mac, uid, vm_name, bridge)
                                     : Error::msg("no MAC key to derive the guest MAC with");
            if (!mac.ok())
                return mac.error().context("mac-prefix= at " +
                                           (d.deciding ? where(*d.deciding) : std::string("?")));
            t.guest_mac = *mac;
        }
        t.no_servers = !t.limits.servers;
    }
    return t;
}

}  // namespace ub::policy
