// Quota arithmetic: pure, so the counting rule is unit-tested apart from
// the netlink dump that feeds it (net/live_taps.h). Only userbridged counts
// quotas: max-taps= is daemon-only (policy/acl.h), and the helper links
// none of this.
//
// Nothing is stored: a user's usage is read off the live taps themselves
// (the uid in their label, and their bridge), so a VM that dies frees its
// share at once and nothing can go stale. The label (IFLA_IFALIAS) is set
// by us alone, with CAP_NET_ADMIN. The tun owner is not counted: whoever
// holds a tap's fd may change it (TUNSETOWNER), handing the tap, and its
// share, to someone else. Nor can a tap outlive its holders to keep a
// share: one made persistent is removed (net::tampered_tap).
// Requests are serial: userbridged, which alone counts quotas, grants one
// at a time in its one thread, and reads every queued link event before a
// count (net::LiveLinks). A request counts its own tap's rank, by ifindex,
// among the user's taps that are on the bridge or on none yet, and keeps
// it only if the rank is within the quota. A tap not yet labelled counts
// only as the request's own. (A count that missed another grant's tap,
// made and labelled in separate steps, let 3 of 16 concurrent grants
// under a quota of 2 through.)
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/refusal.h"
#include "base/result.h"

namespace ub::policy {

struct TapSeen {
    int ifindex;
    long long uid;    // the uid in its label; -1: not labelled (yet)
    int master;       // 0: on no bridge
};

struct QuotaUse {
    int held;  // the user's other taps that count (on the bridge or on none)
    int rank;  // 1-based position of our tap among all counted, by ifindex
};

QuotaUse count_quota(const std::vector<TapSeen>& taps, uid_t uid, int bridge_ifindex,
                     int mine);

// Nothing when our tap may stay; otherwise the refusal.
std::optional<Refusal> check_quota(int max_taps, const QuotaUse& use, const std::string& bridge);

}  // namespace ub::policy
