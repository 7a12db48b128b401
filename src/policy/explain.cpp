#include "policy/explain.h"

#include "policy/lease.h"

namespace ub::policy {

Applies applies(const Rule& r, std::string_view bridge, const Credentials* who) {
    if (!r.bridge.empty() && r.bridge != bridge) return {false, "for bridge " + r.bridge};
    bool yes = is_for(r.who, who);
    const std::string& name = r.who.name;
    switch (r.who.kind) {
    case Subject::Anyone:
        return {true, "for everyone"};
    case Subject::User:
        if (r.who.id < 0) return {false, "user " + name + " does not exist"};
        return {yes, yes ? "for user " + name : "for user " + name + " only"};
    case Subject::Group:
        if (r.who.id < 0) return {false, "group " + name + " does not exist"};
        return {yes, yes ? "for group " + name : "for group " + name + ", which the user is not in"};
    }
    return {false, "?"};
}

std::string daemon_only(const Rule& r) {
    if (r.verb != Verb::Allow) return "";
    if (r.limits.mode == Mode::Routed) return "it routes the tap to an uplink (mode=routed)";
    if (r.limits.mode == Mode::Macvtap) return "it gives a macvtap (mode=macvtap)";
    if (needs_filter(r.limits)) return "it filters the tap's traffic (" + traffic_words(r.limits).substr(1) + ")";
    if (r.auth == Auth::Polkit) return "polkit decides (auth=polkit)";
    if (r.limits.lease_max) return "it gives leases (lease=)";
    if (r.limits.max_taps != kUnlimited) return "it counts a quota (max-taps=)";
    if (needs_daemon(r.limits)) return "it sets " + r.limits.daemon_only + ", which the helper does not read";
    return "";
}

namespace {

// " mode=routed", or "" for the default mode.
std::string mode_words(const Limits& l) {
    return l.mode == Mode::Bridge ? "" : " mode=" + std::string(mode_name(l.mode));
}

// " lease=8h", or "" when the rule gives no leases.
std::string lease_word(const Limits& l) {
    return l.lease_max ? " lease=" + format_duration(l.lease_max) : "";
}

// " max-taps=2 mac=..." for what differs from the defaults; "" if nothing.
std::string limit_words(const Limits& l) {
    std::string s;
    if (l.max_taps != kUnlimited) s += " max-taps=" + std::to_string(l.max_taps);
    if (l.max_queues != kDefaultMaxQueues) s += " max-queues=" + std::to_string(l.max_queues);
    return s + traffic_words(l) + (l.isolated ? " isolated=yes" : "") + mode_words(l) + lease_word(l);
}

}  // namespace

std::string format_rule(const Rule& r) {
    std::string s = r.verb == Verb::Allow ? "allow " : "deny ";
    s += r.bridge.empty() ? "all" : r.bridge;
    if (r.who.kind != Subject::Anyone)
        s += (r.who.kind == Subject::User ? " user=" : " group=") + r.who.name;
    s += limit_words(r.limits);
    return r.auth == Auth::Polkit ? s + " auth=polkit" : s;
}

// Here, not in acl.cpp: only the explaining programs (the CLI, the
// daemon) need it, and the helper links no more than it uses.
std::string format_limits(const Limits& l) {
    std::string s = "max-taps=" + (l.max_taps == kUnlimited ? std::string("unlimited")
                                                             : std::to_string(l.max_taps));
    s += " max-queues=" + std::to_string(l.max_queues);
    if (l.mac.mode == MacPolicy::None && l.mode != Mode::Routed) s += " (MAC not pinned)";
    return s + traffic_words(l) + (l.isolated ? " isolated=yes" : "") + mode_words(l) + lease_word(l);
}

std::vector<std::string> explain(const std::vector<Rule>& rules, std::string_view bridge,
                                 const Credentials& who, const Readable* readable) {
    std::vector<std::string> out;
    Decision d = decide(rules, bridge, &who, readable);
    for (const Rule& r : rules) {
        if (!r.bridge.empty() && r.bridge != bridge) continue;
        std::string line = where(r) + ": " + format_rule(r) + ": ";
        Applies a = applies(r, bridge, &who);
        if (readable && !readable->counts(r))
            line += "does not apply (the user cannot read this file)";
        else if (!a.yes)
            line += "does not apply (" + a.why + ")";
        else if (&r == d.deciding)
            line += std::string("applies (") + a.why + "), DECIDES";
        else if (r.verb == Verb::Allow && (d.allowed || d.ask_polkit))
            line += "applies (" + a.why + "), but a more specific or earlier allow decides";
        else if (r.verb == Verb::Allow)
            line += "applies (" + a.why + "), but a deny wins";
        else
            line += "applies (" + a.why + "), but an earlier deny decides";
        out.push_back(std::move(line));
    }
    if (d.allowed && d.deciding->limits.mode == Mode::Routed)
        out.push_back("=> allowed by " + where(*d.deciding) + ", " + format_limits(d.deciding->limits) +
                      "; only through userbridged (userbridge-client, userbridge run), which routes "
                      "the tap to " + std::string(bridge) + " for exactly those addresses: the helper refuses");
    else if (d.allowed && d.deciding->limits.mode == Mode::Macvtap)
        out.push_back("=> allowed by " + where(*d.deciding) + ", " + format_limits(d.deciding->limits) +
                      "; only through userbridged (userbridge-client, userbridge run), which makes "
                      "the macvtap: the helper refuses");
    else if (d.allowed && needs_filter(d.deciding->limits))
        out.push_back("=> allowed by " + where(*d.deciding) + ", " + format_limits(d.deciding->limits) +
                      "; only through userbridged (userbridge-client, userbridge run), which "
                      "filters the tap's traffic: the helper refuses");
    else if (d.allowed && needs_daemon(d.deciding->limits))
        out.push_back("=> allowed by " + where(*d.deciding) + ", " + format_limits(d.deciding->limits) +
                      "; only through userbridged (userbridge-client, userbridge run): the helper refuses " +
                      d.deciding->limits.daemon_only);
    else if (d.allowed)
        out.push_back("=> allowed by " + where(*d.deciding) + ", " +
                      format_limits(d.deciding->limits));
    else if (d.ask_polkit)
        out.push_back("=> polkit decides: userbridged asks it for " + std::string(kPolkitAction) +
                      " (not asked here); if it says yes, allowed by " + where(*d.deciding) + ", " +
                      format_limits(d.deciding->limits) + "; the helper refuses");
    else
        out.push_back("=> denied: " + d.reason);
    return out;
}

}  // namespace ub::policy
