// Obtaining a tap from userbridged: connect, send one request, receive the
// reply with its fds, check both. Unprivileged code, with no netlink of its
// own (userbridge-client links neither libmnl nor any shared library).
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "base/fd.h"

#include "base/result.h"
#include "client/request.h"

namespace ub::client {

// How long a client that lets polkit prompt waits at least: userbridged
// waits 25 s for polkit's answer.
inline constexpr std::chrono::milliseconds kAskTimeout{30000};

// Asks userbridged at req.socket; a refusal when it denies.
Result<Opened> open_tap_via_daemon(const OpenRequest& req);

// A lease userbridged made (or a release it did): the tap's name, its
// message, and for a lease tied to its connection, that connection: the
// lease ends when it closes.
struct Leased {
    std::string ifname;
    std::string message;
    UniqueFd conn;
};

// Asks userbridged for a lease or a release (req.tap.kind); a refusal when
// it denies.
Result<std::variant<Leased, Refusal>> lease_via_daemon(const OpenRequest& req);

// True when `path` is a unix socket (the daemon may be listening on it).
bool daemon_socket_present(const std::string& path);

}  // namespace ub::client
