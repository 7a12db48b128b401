// Obtaining a tap from userbridged: connect, send one request, receive the
// reply with its fds, check both. Unprivileged code, with no netlink of its
// own (userbridge-client links neither libmnl nor any shared library).
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"
#include "client/tap_handle.h"

namespace ub::client {

struct DaemonRequest {
    std::string socket;
    std::string bridge;
    bool vnet_hdr = true;
    int queues = 1;
    std::string vm_name;
    std::chrono::milliseconds timeout{10000};
    // polkit may prompt (an auth=polkit rule); the timeout then covers the
    // prompt too (see kAskTimeout).
    bool ask = false;
};

// How long a client that lets polkit prompt waits at least: userbridged
// waits 25 s for polkit's answer.
inline constexpr std::chrono::milliseconds kAskTimeout{30000};

Result<TapHandle> open_tap_via_daemon(const DaemonRequest& req);

// True when `path` is a unix socket (the daemon may be listening on it).
bool daemon_socket_present(const std::string& path);

}  // namespace ub::client
