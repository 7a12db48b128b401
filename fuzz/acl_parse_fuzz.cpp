// libFuzzer: the ACL grammar (QEMU's and our options, in userbridged's and the helper's readings), the decision, the
// explanation, the terms, the MAC derivation and ip='s and rate='s round trips on arbitrary bytes; and the
// tap label parser on the same bytes, since both read text from outside.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/daemon_options.h"
#include "policy/ip_prefix.h"
#include "policy/explain.h"
#include "policy/mac_key.h"
#include "protocol/tap_label.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // A label written back reads as the same (the daemon and status read
    // what the helper wrote, of any version).
    if (auto label = ub::protocol::parse_label(text))
        if (ub::protocol::parse_label(ub::protocol::format_label(*label)) != label) __builtin_trap();
    const ub::policy::DaemonOptions* daemon = &ub::policy::daemon_options();
    std::vector<std::string> problems;
    (void)ub::policy::parse_each(text, "fuzz.conf", [](ub::policy::Line&&) {}, &problems, daemon);
    // The helper's reading (no daemon options) of the same bytes.
    std::vector<ub::policy::Line> seen;
    auto seen_ok = ub::policy::parse_each(text, "fuzz.conf", [&](ub::policy::Line&& l) { seen.push_back(std::move(l)); });
    std::vector<ub::policy::Line> lines;
    if (!ub::policy::parse_each(text, "fuzz.conf", [&](ub::policy::Line&& l) { lines.push_back(std::move(l)); },
                                nullptr, daemon)
             .ok())
        return 0;
    // What userbridged takes, the helper takes line for line: the same
    // subjects and own limits, and the same daemon-only options named, so
    // that each rule the daemon reads as needing it the helper refuses.
    if (!seen_ok.ok() || seen.size() != lines.size()) __builtin_trap();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto &h = seen[i].limits, &d = lines[i].limits;
        if (seen[i].verb != lines[i].verb || seen[i].arg != lines[i].arg || seen[i].who.name != lines[i].who.name ||
            h.max_queues != d.max_queues || h.isolated != d.isolated ||
            h.daemon_only != d.daemon_only)
            __builtin_trap();
        bool daemons = d.mode != ub::policy::Mode::Bridge || ub::policy::needs_filter(d) || d.lease_max ||
                       d.max_taps != ub::policy::kUnlimited ||
                       lines[i].auth == ub::policy::Auth::Polkit;
        if (daemons && !ub::policy::needs_daemon(h)) __builtin_trap();
    }
    std::vector<ub::policy::Rule> rules;
    auto name = std::make_shared<const std::string>("fuzz.conf");
    for (const auto& l : lines)
        if (l.verb != ub::policy::Verb::Include)
            rules.push_back({l.verb, l.arg == "all" ? "" : l.arg, name, l.lineno, 0, l.who, l.limits, l.auth});
    ub::policy::Credentials who{4711, 4711, {4800}};
    ub::policy::Decision d = ub::policy::decide(rules, "br0", &who);
    (void)ub::policy::explain(rules, "br0", who, nullptr);
    static const ub::Result<ub::policy::MacKey> key = ub::policy::MacKey{{1, 2, 3}};
    (void)ub::policy::check_queues(d, 2);
    if (auto t = ub::policy::terms_of(d, ub::policy::deriver_for(key), 4711, "vm", "br0"); t.ok())
        (void)ub::policy::format_limits(t->limits);
    for (const auto& r : rules) {
        (void)ub::policy::format_rule(r);
        // ip= and rate= written back read as the same.
        if (r.limits.rate_bits) {
            auto rate = ub::policy::parse_rate(ub::policy::format_rate(r.limits.rate_bits));
            if (!rate.ok() || *rate != r.limits.rate_bits) __builtin_trap();
        }
        if (r.limits.ips.empty()) continue;
        auto again = ub::policy::parse_ip_list(ub::policy::format_ip_list(r.limits.ips));
        if (!again.ok() || *again != r.limits.ips) __builtin_trap();
    }
    return 0;
}
