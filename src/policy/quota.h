// Quota arithmetic: pure, so the counting rule is unit-tested apart from
// the netlink dump that feeds it.
//
// Nothing is stored: a user's usage is read off the live taps themselves
// (their TUNSETOWNER owner and their bridge), so a VM that dies frees its
// share at once and nothing can go stale. Requests of one user are
// serialized by their quota lock (net::take_quota_lock, a device only a
// privileged process can make, dropped by the kernel when its holder dies).
// Within that, a request counts its own tap's rank, by ifindex, among the
// user's taps that are on the bridge or on none yet, and keeps it only if
// the rank is within the quota. (Without the lock that ranking alone is not
// enough: a tap is made and given its owner by two separate ioctls, and a
// count between the two misses it. Measured: 3 of 16 concurrent grants
// under a quota of 2.)
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace ub::policy {

struct TapSeen {
    int ifindex;
    long long owner;  // -1: no owner
    int master;       // 0: on no bridge
};

struct QuotaUse {
    int held;  // the user's other taps that count (on the bridge or on none)
    int rank;  // 1-based position of our tap among all counted, by ifindex
};

QuotaUse count_quota(const std::vector<TapSeen>& taps, uid_t uid, int bridge_ifindex,
                     int mine);

// Ok when our tap may stay; otherwise the message for the user.
Result<void> check_quota(int max_taps, const QuotaUse& use, const std::string& bridge);

}  // namespace ub::policy
