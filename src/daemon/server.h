// userbridged's event loop: one thread, poll(2), a bounded table of
// connections. A connection lives for one request: read exactly one
// fixed-size request before its deadline, answer, close. No client can
// stall another: reads never block, each connection has a deadline, each
// uid a cap on open connections, the whole table a cap, and an oversized or
// malformed request is answered and dropped at once. Nothing a user can
// hold blocks the one thread: a request polkit decides waits parked,
// tried again from the loop with its answer. A uid's
// replies whose fds its clients leave unread are bounded (each in-flight
// fd counts against the daemon's own allowance, for everyone). Connections
// refused at a limit are logged as a count per uid, not a line each.
#pragma once

#include <chrono>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "compat/qemu_helper.h"
#include "daemon/userdb.h"
#include "daemon/announce.h"
#include "daemon/filters.h"
#include "policy/loader.h"
#include "daemon/macvtaps.h"
#include "policy/mac_key.h"

namespace ub::daemon {

class Closer;

struct Limits {
    // Accept to complete request.
    std::chrono::milliseconds deadline{5000};
    unsigned max_connections = 256;
    unsigned max_per_uid = 8;
    // Tap fds a uid's clients may leave unread in our replies; beyond it
    // the uid's grants are refused until they read or close them.
    unsigned max_unread_fds = 64;
};

struct ServerConfig {
    std::string acl_path;
    Limits limits;
    Filters* filters = nullptr;  // for rules that filter a tap's traffic; never null
    Announcer* announcer = nullptr;  // pinned guests' FDB and neighbour entries; never null
    Macvtaps* macvtaps = nullptr;  // for mode=macvtap rules; null: they fail
    UserDb* userdb = nullptr;  // names for audit records and the ACL; never null
    // Closes what clients hand us, off the serving thread (closer.h);
    // null only where no client can stall a close (unit tests).
    Closer* closer = nullptr;
    // For mac-prefix= rules: the MAC key, or why there is none.
    Result<policy::MacKey> mac_key = Error::msg("no MAC key loaded");
    // QEMU's helper where it is privileged, looked for as userbridged
    // starts, before its filter (which allows no link read); each load of
    // the ACL warns of the denies those ignore (compat/qemu_helper.h).
    std::vector<compat::PrivilegedHelper> qemu_helpers = {};
};

// Serves `listener` until SIGTERM or SIGINT. SIGHUP reloads the ACL; a bad
// new ACL is refused and the old one kept. Returns an error, having told
// the connections it holds to try again, once the user database process is
// gone (userdb.h): nothing is decided without it.
Result<void> serve(UniqueFd listener, const ServerConfig& config);

}  // namespace ub::daemon
