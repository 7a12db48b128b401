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

#include "base/fd.h"
#include "base/result.h"

namespace ub::client {

struct HelperRequest {
    std::string helper;  // path of the helper program
    std::string bridge;
    bool vnet_hdr = true;  // pass --use-vnet, as QEMU does
    std::chrono::milliseconds timeout{10000};
};

struct TapHandle {
    UniqueFd fd;
    std::string ifname;
    std::string mac;
    unsigned mtu = 0;
    bool vnet_hdr = false;
};

Result<TapHandle> open_tap_via_helper(const HelperRequest& req);

// What the kernel says about a tap fd: name, MAC, MTU, vnet_hdr, and that it
// is attached to `bridge`.
Result<TapHandle> describe_tap(UniqueFd fd, const std::string& bridge);

// A MAC for the guest behind a tap: libvirt's convention is tap MAC = guest
// MAC with the first byte 0xfe; the reverse, with 0x52, gives a locally
// administered unicast address that pairs visibly with its tap.
std::string guest_mac(const std::string& tap_mac);

}  // namespace ub::client
