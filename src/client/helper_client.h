// Obtaining a tap from any QEMU-compatible bridge helper, exactly as QEMU
// does: socketpair, fork, exec HELPER [--use-vnet] --fd=N --br=BRIDGE,
// receive one fd by SCM_RIGHTS, reap the helper. Unprivileged code.
//
// Unlike QEMU, the wait is bounded (a helper that hangs is killed), the
// helper's stderr comes back in the error, and the fd received is checked:
// it must be a tap, and it must be on the bridge we asked for.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace ub::client {

struct HelperRequest {
    std::string helper;  // path of the helper program
    std::string bridge;
    bool vnet_hdr = true;  // pass --use-vnet, as QEMU does
    int queues = 1;        // more than 1: pass --queues=N (our helper's extension)
    std::string vm_name;   // non-empty: pass --vm=NAME (our helper's extension)
    std::chrono::milliseconds timeout{10000};
};

struct TapHandle {
    UniqueFd fd;                   // queue 0: the only one of a plain tap
    std::vector<UniqueFd> extra;   // queues 1..N-1 of a multiqueue tap
    std::string ifname;
    std::string mac;        // the tap's own MAC (fe:...)
    std::string guest_mac;  // the MAC the guest must use: policy's, or derived from mac
    bool mac_pinned = false;  // frames from any other guest MAC are dropped
    unsigned mtu = 0;
    bool vnet_hdr = false;
    int queues() const { return 1 + static_cast<int>(extra.size()); }
};

Result<TapHandle> open_tap_via_helper(const HelperRequest& req);

// What the kernel says about the fds of one tap: name, MAC, MTU, vnet_hdr,
// the guest MAC from its userbridge label, and that every fd is a queue of
// that one tap and the tap is attached to `bridge`. `sender` (the helper's
// path, or "userbridged") names who sent them in errors.
Result<TapHandle> describe_tap(std::vector<UniqueFd> fds, const std::string& bridge,
                               const std::string& sender);

// A MAC for the guest behind a tap: libvirt's convention is tap MAC = guest
// MAC with the first byte 0xfe; the reverse, with 0x52, gives a locally
// administered unicast address that pairs visibly with its tap.
std::string guest_mac(const std::string& tap_mac);

}  // namespace ub::client
