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
#include "client/tap_handle.h"

namespace ub::client {

struct HelperRequest {
    std::string helper;  // path of the helper program
    std::string bridge;
    bool vnet_hdr = true;  // pass --use-vnet, as QEMU does
    int queues = 1;        // more than 1: pass --queues=N (our helper's extension)
    std::string vm_name;   // non-empty: pass --vm=NAME (our helper's extension)
    std::chrono::milliseconds timeout{10000};
};

Result<TapHandle> open_tap_via_helper(const HelperRequest& req);

}  // namespace ub::client
