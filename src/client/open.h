// One way in for every client: the daemon when it is there, the helper
// otherwise, or whichever the caller insists on.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"
#include "client/helper_client.h"

namespace ub::client {

enum class Via { Auto, Daemon, Helper };

struct OpenRequest {
    Via via = Via::Auto;
    std::string helper;  // path of a QEMU-compatible helper
    std::string socket;  // userbridged's socket
    std::string bridge;
    bool vnet_hdr = true;
    int queues = 1;
    std::string vm_name;
    std::chrono::milliseconds timeout{10000};
    bool ask = false;  // polkit may prompt (daemon only; the helper cannot ask polkit)
};

// Auto: the daemon if `socket` is a socket that accepts connections, else
// the helper. A daemon's denial is final; only an absent daemon (no
// socket, or nobody listening) falls back to the helper.
Result<TapHandle> open_tap(const OpenRequest& req);

}  // namespace ub::client
