// A macvtap on a NIC (mode=macvtap), made for userbridged only: the
// helper neither links nor calls this (grant::Resources::make, daemon/grant.cpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "net/bridge_port.h"
#include "net/rtnl.h"

namespace ub::net {

// Opens `queues` fds of the macvtap `ifname` (`ifindex`) through its
// character device, /dev/tap<ifindex>: userbridged's (daemon/macvtaps.h),
// which also learns when the last of them closes.
using MacvtapOpener = std::function<Result<std::vector<UniqueFd>>(const std::string& ifname, int ifindex, int queues)>;

// make_bridged_tap's counterpart for a NIC without a bridge
// (mode=macvtap): a new macvtap on the NIC `nic` (an error naming it when
// there is no such interface), bridge mode, with the lower device's MTU, the rule's guest MAC
// (spec.label.mac) or a random 52:54:00 one as its address (its guest must
// send and receive with it: the kernel hands a macvtap only the frames for
// its address), labelled and counted as a tap (its lower device stands for
// the bridge in the quota), `queues` fds from `open` (IFF_VNET_HDR as
// spec.vnet says), and up. A macvtap outlives its fds: on any error or
// refusal it is deleted here, and the one made is deleted when dropped
// uncommitted (TapUndo), as a tap is; once handed over and committed,
// deleting it when its fds are gone is the caller's (daemon/macvtaps.h).
// spec.before_attach runs before its fds are opened: where userbridged
// pins its MAC (daemon/filters.h); spec.tuns is unused.
Result<Made> make_macvtap(Rtnl rtnl, TapSpec spec, const std::string& nic, int queues,
                          const MacvtapOpener& open, StepHook hook = nullptr);

}  // namespace ub::net
