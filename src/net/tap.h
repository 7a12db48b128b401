// Tap devices through /dev/net/tun.
//
// A tap made here is never persistent: the kernel destroys it when the last
// fd to it closes. That makes rollback trivial and total. Dropping the Tap on
// any error path removes the interface, and the VM's exit removes it too.
#pragma once

#include <string>
#include <sys/types.h>

#include "base/fd.h"
#include "base/result.h"

namespace ub::net {

enum class VnetHdr { Off, IfSupported };

struct Tap {
    UniqueFd fd;
    std::string name;
    bool vnet_hdr = false;
};

// Opens the tun control device. Opening creates nothing; the setuid helper
// does it before dropping root so that a /dev/net/tun of mode 0600 (some
// distributions) does not stop it, as it stops qemu-bridge-helper.
Result<UniqueFd> open_tun();

// Turns an fd from open_tun() into tapN (IFF_TAP|IFF_NO_PI, plus IFF_VNET_HDR
// if asked and the kernel has it), owned by `owner` so that the kernel itself
// records who holds it.
Result<Tap> create_tap(UniqueFd tun, VnetHdr vnet, uid_t owner);

}  // namespace ub::net
