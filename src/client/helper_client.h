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
#include "client/request.h"

namespace ub::client {

// Runs req.helper as QEMU does; a refusal when it exits with a refusal's
// status (base/refusal.h).
Result<Opened> open_tap_via_helper(const OpenRequest& req);

}  // namespace ub::client
