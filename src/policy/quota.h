// Quota arithmetic: pure, so the counting rule is unit-tested apart from
// the netlink dump that feeds it.
//
// Nothing is stored: a user's usage is read off the live taps themselves
// (their TUNSETOWNER owner and their bridge), so a VM that dies frees its
// share at once and nothing can go stale. Concurrent requests are ordered by
// the kernel itself: ifindexes are handed out in increasing order, and a
// request counts its own tap's rank among the user's taps that are on the
// bridge or not yet on any bridge (a concurrent request still setting up).
// A tap is kept only if its rank is within the quota, so however requests
// interleave, the k-th kept tap saw the k-1 before it and no more than
// max-taps survive. No lock file exists that another user could hold.
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
