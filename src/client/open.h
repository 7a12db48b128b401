// One way in for every client: the daemon when it is there, the helper
// otherwise, or whichever the caller insists on (OpenRequest::via).
#pragma once

#include "base/result.h"
#include "client/request.h"

namespace ub::client {

// Auto: the daemon if `socket` is a socket that accepts connections, else
// the helper. A daemon's denial is final; only an absent daemon (no
// socket, or nobody listening) falls back to the helper.
Result<Opened> open_tap(const OpenRequest& req);

}  // namespace ub::client
