#include "client/open.h"

#include "client/daemon_client.h"
#include "client/helper_client.h"

namespace ub::client {

Result<Opened> open_tap(const OpenRequest& req) {
    switch (req.via) {
        case Via::Helper: return open_tap_via_helper(req);
        case Via::Daemon: return open_tap_via_daemon(req);
        case Via::Auto: break;
    }
    if (!daemon_socket_present(req.socket)) return open_tap_via_helper(req);
    Result<Opened> t = open_tap_via_daemon(req);
    if (!t.ok() && (t.error().code() == ECONNREFUSED || t.error().code() == ENOENT))
        return open_tap_via_helper(req);
    return t;
}

}  // namespace ub::client
