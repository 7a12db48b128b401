// Obtaining a tap from userbridged: connect, send one request, receive the
// reply with its fds, check both. Unprivileged code, with no netlink of its
// own (userbridge-client links neither libmnl nor any shared library).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "base/fd.h"
#include "base/result.h"
#include "client/request.h"
#include "protocol/seen_wire.h"

namespace ub::client {

// How long a client that lets polkit prompt waits at least: userbridged
// waits 25 s for polkit's answer.
inline constexpr std::chrono::milliseconds kAskTimeout{30000};

// Asks userbridged at req.socket; a refusal when it denies.
Result<Opened> open_tap_via_daemon(const OpenRequest& req);

// What userbridged at `socket` has seen guests use on the caller's taps
// (on every tap, for root): protocol/seen_wire.h.
Result<protocol::SeenReply> query_seen(const std::string& socket, std::chrono::milliseconds timeout);

// A veth pair userbridged granted into a network namespace.
struct Veth {
    std::string host;            // its end on the bridge
    std::string peer;            // its end in the namespace
    std::uint32_t peer_ifindex;  // that end's ifindex there
    std::uint32_t mtu;
    std::string rule;            // what allowed it
};
using VethOpened = std::variant<Veth, Refusal>;

// Asks userbridged at `socket` for a veth pair between req.bridge and the
// network namespace `netns_fd` (sent with the request; the daemon checks
// that it is the caller's), its end there named req.netns_peer.
Result<VethOpened> grant_veth_via_daemon(const std::string& socket, const protocol::Request& req, int netns_fd,
                                         std::chrono::milliseconds timeout);

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
