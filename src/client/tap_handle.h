// A tap as a client holds it: its fds and what is known of it. Shared by the
// helper and daemon paths; no netlink here, so that userbridge-client can be
// linked without libmnl.
#pragma once

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/mac.h"
#include "base/result.h"

namespace ub::client {

struct TapHandle {
    UniqueFd fd;                   // queue 0: the only one of a plain tap
    std::vector<UniqueFd> extra;   // queues 1..N-1 of a multiqueue tap
    std::string ifname;
    Mac mac{};        // the tap's own MAC (fe:...)
    Mac guest_mac{};  // the MAC the guest must use: policy's, or derived from mac
    bool mac_pinned = false;  // frames from any other guest MAC are dropped
    unsigned mtu = 0;
    bool vnet_hdr = false;
    int queues() const { return 1 + static_cast<int>(extra.size()); }
};

// The fds received as one tap, checked with the kernel (TUNGETIFF): each
// is a tap (not a tun, not something else), and when there are several,
// all are queues of one multiqueue tap. The handle holds them, with the
// tap's name and whether vnet_hdr is on; the rest is the caller's to fill
// in. `sender` (a helper's path, or "userbridged") names who sent them in
// errors.
Result<TapHandle> hold_tap_fds(std::vector<UniqueFd> fds, const std::string& sender);

// A MAC for the guest behind a tap: libvirt's convention is tap MAC = guest
// MAC with the first byte 0xfe; the reverse, with 0x52, gives a locally
// administered unicast address that pairs visibly with its tap.
Mac guest_mac(const Mac& tap_mac);

}  // namespace ub::client
