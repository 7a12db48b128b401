#include "client/open.h"

#include "client/daemon_client.h"

namespace ub::client {

Result<TapHandle> open_tap(const OpenRequest& req) {
    HelperRequest via_helper{req.helper, req.bridge, req.vnet_hdr, req.queues, req.vm_name,
                             req.timeout};
    DaemonRequest via_daemon{req.socket, req.bridge, req.vnet_hdr, req.queues, req.vm_name,
                             req.timeout, req.ask};
    switch (req.via) {
        case Via::Helper: return open_tap_via_helper(via_helper);
        case Via::Daemon: return open_tap_via_daemon(via_daemon);
        case Via::Auto: break;
    }
    if (!daemon_socket_present(req.socket)) return open_tap_via_helper(via_helper);
    Result<TapHandle> t = open_tap_via_daemon(via_daemon);
    if (!t.ok() && (t.error().code() == ECONNREFUSED || t.error().code() == ENOENT))
        return open_tap_via_helper(via_helper);
    return t;
}

}  // namespace ub::client
