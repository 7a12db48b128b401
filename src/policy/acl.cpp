#include "policy/acl.h"

#include "policy/ifname.h"

namespace ub::policy {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

Error at(std::string_view origin, int lineno, const std::string& msg) {
    return Error::msg(std::string(origin) + ":" + std::to_string(lineno) + ": " + msg);
}

Result<Line> parse_line(std::string_view line, std::string_view origin, int lineno) {
    std::size_t split = line.find_first_of(" \t");
    if (split == std::string_view::npos)
        return at(origin, lineno, "'" + printable(line) + "' needs an argument");
    std::string_view cmd = line.substr(0, split);
    std::string_view arg = trim(line.substr(split));
    if (arg.empty()) return at(origin, lineno, "'" + printable(cmd) + "' needs an argument");

    Verb verb;
    if (cmd == "allow") {
        verb = Verb::Allow;
    } else if (cmd == "deny") {
        verb = Verb::Deny;
    } else if (cmd == "include") {
        // A path may contain spaces, as in QEMU; it is resolved by the loader.
        return Line{Verb::Include, std::string(arg), lineno};
    } else {
        return at(origin, lineno, "unknown keyword '" + printable(cmd) +
                                      "' (expected allow, deny or include)");
    }
    if (arg != "all") {
        // QEMU rejects only names of 16 bytes or more and keeps names that can
        // never match (spaces, '/'); we reject every name the kernel would.
        if (std::string problem = ifname_problem(arg); !problem.empty())
            return at(origin, lineno, "bridge name '" + printable(arg) + "' " + problem);
    }
    return Line{verb, std::string(arg), lineno};
}

}  // namespace

Result<std::vector<Line>> parse(std::string_view text, std::string_view origin) {
    std::vector<Line> out;
    UB_TRYV(parse_each(text, origin, [&](Line&& l) { out.push_back(std::move(l)); }));
    return out;
}

Result<void> parse_each(std::string_view text, std::string_view origin,
                        const std::function<void(Line&&)>& each) {
    int lineno = 0;
    while (!text.empty()) {
        ++lineno;
        std::size_t nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);

        if (raw.find('\0') != std::string_view::npos)
            return at(origin, lineno, "contains a NUL byte");
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        each(UB_TRY(parse_line(line, origin, lineno)));
    }
    return Ok{};
}

Decision decide(const std::vector<Rule>& rules, std::string_view bridge,
                const std::vector<bool>* file_ok) {
    const Rule* allow = nullptr;
    const Rule* deny = nullptr;
    for (const Rule& r : rules) {
        if (file_ok && !(*file_ok)[static_cast<std::size_t>(r.file_index)]) continue;
        bool matches = r.bridge.empty() || r.bridge == bridge;
        if (!matches) continue;
        if (r.verb == Verb::Deny && !deny) deny = &r;
        if (r.verb == Verb::Allow && !allow) allow = &r;
    }
    auto where = [](const Rule* r) { return *r->file + ":" + std::to_string(r->lineno); };
    if (deny) return {false, deny, "denied by " + where(deny)};
    if (allow) return {true, allow, "allowed by " + where(allow)};
    return {false, nullptr, "no rule allows it (the default is deny)"};
}

}  // namespace ub::policy
