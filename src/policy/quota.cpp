#include "policy/quota.h"

namespace ub::policy {

QuotaUse count_quota(const std::vector<TapSeen>& taps, uid_t uid, int bridge_ifindex, int mine) {
    QuotaUse use{0, 1};
    for (const TapSeen& t : taps) {
        if (t.ifindex == mine || t.uid != static_cast<long long>(uid)) continue;
        if (t.master != bridge_ifindex && t.master != 0) continue;
        ++use.held;
        if (t.ifindex < mine) ++use.rank;
    }
    return use;
}

std::optional<Refusal> check_quota(int max_taps, const QuotaUse& use, const std::string& bridge) {
    if (max_taps < 0 || use.rank <= max_taps) return std::nullopt;
    return Refusal{Refused::Quota, "quota reached: you hold " + std::to_string(use.held) + " tap" +
                      (use.held == 1 ? "" : "s") + " on " + bridge + " (or being set up), " +
                      "and the ACL allows at most " + std::to_string(max_taps)};
}

}  // namespace ub::policy
