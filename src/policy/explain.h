// The policy in words, for `userbridge check`, `explain` and `status`: a
// rule written back, a rule's limits, why a rule applies to a user or not,
// and which rules only userbridged can grant by. Pure, so the wording is
// unit-tested. Neither the helper nor userbridged prints any of it, and
// neither links it: their refusals are acl.h's (Decision::reason,
// daemon_refusal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/daemon_options.h"

namespace ub::policy {

// Whether `rule` applies to `who` on `bridge`, and if not, why not: in
// words, what decide() tests (acl.h, is_for).
struct Applies {
    bool yes;
    std::string why;  // "for user alice", "for group vm, which the user is not in", ...
};
Applies applies(const Rule& rule, std::string_view bridge, const Credentials* who);

// `userbridge explain`: one line per rule that names this bridge (or all),
// saying whether it applies to `who` and why, then the decision and the
// limits it carries.
std::vector<std::string> explain(const std::vector<Rule>& rules, std::string_view bridge,
                                 const Credentials& who, const Readable* readable);

// "max-taps=2 max-queues=8 mac-prefix=52:54:00": every limit, defaults too.
std::string format_limits(const Limits& limits);

// The rule as it would be written back: "allow br0 group=vm max-taps=2".
std::string format_rule(const Rule& rule);

// Why userbridged alone can grant by `rule` ("" when the helper can too):
// it routes or makes a macvtap, filters the tap's traffic, polkit decides,
// it gives leases, or it sets another daemon-only option (acl.h,
// needs_daemon). For `userbridge check`.
std::string daemon_only(const Rule& rule);

}  // namespace ub::policy
