// What a client asks for and how it reaches the one who grants it: the one
// request type of every client path (helper, daemon, either), and what
// comes back: the tap, or a refusal by policy (a value, with its kind).
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "base/refusal.h"
#include "client/tap_handle.h"
#include "protocol/wire.h"
#include "userbridge/userbridge.hpp"

namespace ub::client {

// Who grants: userbridged when it is there, the helper otherwise, or
// whichever the caller insists on. The public API's enum is the one type
// for this choice (the library passes it through unchanged); the grant
// engine's grant::Front is not this choice but which program is running,
// never "either" (grant/grant.h).
using Via = userbridge::Via;

struct OpenRequest {
    Via via = Via::Auto;
    std::string helper;  // path of a QEMU-compatible helper
    std::string socket;  // userbridged's socket
    // The tap: bridge, vnet_hdr (the helper's --use-vnet), queues and VM
    // name (our helper's --queues= and --vm=), and whether polkit may
    // prompt (the daemon only: the helper cannot ask polkit).
    protocol::Request tap;
    std::chrono::milliseconds timeout{10000};
};

using Opened = std::variant<TapHandle, Refusal>;

}  // namespace ub::client
