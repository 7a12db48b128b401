// The privileged act itself: make a tap and plug it into a bridge, QEMU's way.
#pragma once

#include <string>
#include <sys/types.h>

#include "base/result.h"
#include "net/rtnl.h"
#include "net/tap.h"

namespace ub::net {

// Looks up `name` and checks that it is a bridge. Creates nothing.
Result<LinkInfo> find_bridge(Rtnl& rtnl, const std::string& name);

// Called after each step of make_bridged_tap with the step's name
// ("after-create", "after-mtu", "after-mac", "after-attach", "after-up");
// an error stops the work there. For fault-injection tests; may be null.
using StepHook = Result<void> (*)(const char* step);

struct BridgedTap {
    Tap tap;
    Mac mac{};
    unsigned mtu = 0;
};

// Creates a tap, gives it the bridge's MTU and a MAC whose first byte is 0xfe
// (so the bridge, which takes the lowest port MAC as its own unless set, never
// adopts a VM's address), attaches it, and brings it up. On any error the tap
// is closed, and since it is not persistent the kernel removes it.
Result<BridgedTap> make_bridged_tap(Rtnl& rtnl, UniqueFd tun, const LinkInfo& bridge,
                                    VnetHdr vnet, uid_t owner, StepHook hook = nullptr);

}  // namespace ub::net
