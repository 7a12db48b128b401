// The privileged act itself: make a tap and plug it into a bridge, QEMU's way,
// plus what our policy adds (queues, quota, a pinned MAC).
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/result.h"
#include "net/mac_pin.h"
#include "net/rtnl.h"
#include "net/tap.h"

namespace ub::net {

// Looks up `name` and checks that it is a bridge. Creates nothing.
Result<LinkInfo> find_bridge(Rtnl& rtnl, const std::string& name);

// make_bridged_tap calls its StepHook (net/tap.h) after each step with the
// step's name ("after-lock", "after-create", "after-setup", "after-quota",
// "after-no-ipv6", "after-pin", "after-attach", "after-up"), and passes it to
// create_tap ("before-owner").

// Whether TapSpec::lock_tun is still to become the owner's quota lock
// (take_quota_lock, waiting up to 5 s for another holder) or holds it
// already (try_quota_lock succeeded: the daemon, which never waits).
enum class QuotaLock { Take, Held };

struct TapSpec {
    std::vector<UniqueFd> tuns;  // from open_tun(): one per queue
    VnetHdr vnet = VnetHdr::Off;
    uid_t owner = 0;
    int max_taps = -1;             // live taps `owner` may hold on the bridge; -1: no limit
    UniqueFd lock_tun;             // from open_tun(): the quota lock, when max_taps >= 0
    QuotaLock lock = QuotaLock::Take;
    std::optional<Guard> guard;    // what the tap may send, and how fast
    Nft* nft = nullptr;            // required with guard
    std::string alias;             // IFLA_IFALIAS: who and what, for status and tools
    TapNames* names = nullptr;     // where the tap's name comes from; null: the kernel's tap%d
};

struct BridgedTap {
    Tap tap;
    Mac mac{};
    unsigned mtu = 0;
    int ifindex = 0;
};

// Creates a tap, gives it the bridge's MTU, a MAC whose first byte is 0xfe
// (so the bridge, which takes the lowest port MAC as its own unless set,
// never adopts a VM's address) and its label, counts it against the
// owner's quota (holding the owner's quota lock from before the tap exists
// until it is on the bridge), refuses a guest MAC another live tap's label
// already carries, pins the guest MAC, attaches it, and brings it up. On any error the tap is
// closed, and since it is not persistent the kernel removes it.
Result<BridgedTap> make_bridged_tap(Rtnl& rtnl, TapSpec spec, const LinkInfo& bridge,
                                    StepHook hook = nullptr);

}  // namespace ub::net
