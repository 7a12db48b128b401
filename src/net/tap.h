// Tap devices through /dev/net/tun.
//
// A tap made here is not persistent, unless it is a lease (daemon/grant.cpp):
// the kernel destroys it when the last fd to it closes, and the VM's exit
// removes it. Closing our own fds undoes
// it only while no other process holds a queue, so three cases need
// RTM_DELLINK instead: a multiqueue tap another process joined before it
// had an owner (create_tap deletes it), one its owner's uid joined during
// a grant that then failed, after give_tap (bridge_port.h, TapUndo), and a tap its holder
// made persistent after the handover (userbridged's, net/live_taps.h).
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "net/rtnl.h"

namespace ub::net {

enum class VnetHdr { Off, IfSupported };

struct Tap {
    std::vector<UniqueFd> queues;  // one fd per queue; one for a plain tap
    std::string name;
    bool vnet_hdr = false;
    int fd() const { return queues.front().get(); }
};

// Opens the tun control device. Opening creates nothing; the setuid helper
// does it before dropping root so that a /dev/net/tun of mode 0600 (some
// distributions) does not stop it, as it stops qemu-bridge-helper.
Result<UniqueFd> open_tun();

// Names for taps: tap<first>, tap<first+1>, ... The kernel's "tap%d" picks
// the lowest free number by scanning every interface in the namespace, so
// its cost grows with the host (docs/PERFORMANCE.md). A counter costs
// nothing per interface, and a name is not
// handed out again soon, so two VMs' audit records do not share a tap name
// as they do when the kernel reuses the lowest number. userbridged counts
// from 0 for its lifetime; the helper, which makes one tap, starts at its
// pid, which no other live process has. Pure: which names exist is found
// out by the kernel (IFF_TUN_EXCL).
class TapNames {
public:
    static constexpr unsigned kWrap = 10'000'000;  // "tap9999999" fits IFNAMSIZ
    explicit TapNames(unsigned first = 0) : next_(first % kWrap) {}
    std::string next();                             // tap<n>, then n+1, wrapping
private:
    unsigned next_ = 0;
};

// Called at a named point of the work with the point's name; an error stops
// the work there. For fault-injection tests; may be null.
using StepHook = Result<void> (*)(const char* step);

// Turns fds from open_tun() into tapN (IFF_TAP|IFF_NO_PI, plus IFF_VNET_HDR
// if asked and the kernel has it), owned by root until give_tap: no one
// else may attach a queue to it, and write into it, before its filters
// are in (vhost-net writes into a tap that is down). One fd makes QEMU's single-queue tap; N fds make one
// IFF_MULTI_QUEUE tap with N queues, each fd one queue. With `names`, the
// name comes from it (skipping any name an interface already has); without,
// or when 64 names in a row are taken, the kernel picks the lowest free
// tapN, as qemu-bridge-helper lets it. With `fixed`, the tap has that name
// (a lease's), or none is made when an interface has it already.
//
// A multiqueue tap is ours alone when this returns: its queues are exactly
// our fds, its owner root and it has no group, as the kernel reports them
// (`rtnl`). If another process joined it while it had no owner, the tap is
// deleted and the error says so. `hook` is called at "before-owner", the
// moment a multiqueue tap can be joined.
Result<Tap> create_tap(Rtnl& rtnl, std::vector<UniqueFd> tuns, VnetHdr vnet, TapNames* names = nullptr,
                       StepHook hook = nullptr, const std::string& fixed = {});

// Gives the tap to `owner` (TUNSETOWNER): from then on its uid may attach
// queues. Once its filters are in, before it comes up.
Result<void> give_tap(const Tap& tap, uid_t owner);

// Why the multiqueue tap `link`, made with `ours` queues for `owner`, is not
// ours alone: another's queue, owner or group. Empty when it is ours. Pure.
std::string intrusion(const LinkInfo& link, std::size_t ours, uid_t owner);


}  // namespace ub::net
