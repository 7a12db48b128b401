#include "client/daemon_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "handover/handover.h"
#include "handover/receive.h"
#include "protocol/seen_wire.h"
#include "protocol/wire.h"

namespace ub::client {

namespace {

// However the daemon's hang-up shows (EOF, a reset, a broken pipe), one
// message; the daemon's log says why it hung up.
constexpr const char* kHungUp = "userbridged closed the connection without a full reply";

using Clock = std::chrono::steady_clock;

// How long a client waits for room in the daemon's listen queue, and the
// longest pause between tries.
constexpr auto kConnectWait = std::chrono::seconds(5);
constexpr auto kMaxConnectPause = std::chrono::milliseconds(10);

Result<void> wait_for(int fd, short events, Clock::time_point deadline, const char* what) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return Error::msg(std::string("userbridged did not answer in time (") + what + ")");
        pollfd p{fd, events, 0};
        int n = poll(&p, 1, static_cast<int>(left));
        if (n > 0) return Ok{};
        if (n < 0 && errno != EINTR) return Error::sys("poll");
    }
}

// userbridged closes its copies of the tap's fds and then says EOF.
// Waiting for that makes ours the tap's last close, so that when the tap
// goes, its teardown (long, in the kernel) runs in whoever closes it
// and not in the daemon's one serving thread, where it would hold up every
// other request.
Result<void> wait_for_eof(int fd, Clock::time_point deadline) {
    for (;;) {
        UB_TRYV(wait_for(fd, POLLIN, deadline, "closing"));
        char byte;
        ssize_t n = recv(fd, &byte, 1, 0);
        if (n == 0) return Ok{};
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) return Error::sys("userbridged's connection");
        return Error::msg("userbridged sent more than its reply");
    }
}

// The tap as the reply describes it, once the kernel agrees on what it can
// say without a netlink request: the fds are queues of one tap, the one the
// reply names. The rest (MAC, MTU, the guest MAC the policy set, the bridge)
// is taken as userbridged says it: it is root's, it made the tap, and its
// socket's path is root's; asking the kernel again cost every grant a
// netlink round trip under the RTNL lock right after the tap came up.
Result<TapHandle> tap_from_reply(std::vector<UniqueFd> fds, const protocol::Reply& rep) {
    TapHandle t = UB_TRY(hold_tap_fds(std::move(fds), "userbridged"));
    if (t.ifname != rep.ifname) return Error::msg("userbridged's reply names another tap than it sent");
    t.mac = rep.mac;
    t.mac_pinned = rep.pinned_mac.has_value();
    t.guest_mac = rep.pinned_mac.value_or(guest_mac(t.mac));
    t.mtu = rep.mtu;
    return t;
}

// connect() on a non-blocking unix stream socket fails with EAGAIN while
// the daemon's listen queue is full (unix_stream_connect): a burst of
// clients, or another user flooding it. Try again with a short backoff
// until `until`, rather than fail a well-behaved client at once.
Result<void> connect_daemon(int fd, const std::string& path, Clock::time_point until) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof sun.sun_path) return Error::msg("socket path too long");
    std::memcpy(sun.sun_path, path.c_str(), path.size());
    auto pause = std::chrono::microseconds(200);
    for (;;) {
        if (connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0 || errno == EINPROGRESS)
            return Ok{};
        if (errno != EAGAIN && errno != EINTR) return Error::sys("cannot connect to userbridged at " + path);
        if (Clock::now() + pause >= until)
            return Error::msg("cannot connect to userbridged at " + path +
                              ": its listen queue stayed full (is someone flooding it?)");
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::microseconds>(pause * 2, kMaxConnectPause);
    }
}

}  // namespace

bool daemon_socket_present(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

namespace {

// One request sent (with `netns_fd` on its first byte when it is not -1)
// and its reply received, with the fds it carries; the connection stays
// open for the EOF that follows a grant.
struct Exchanged {
    UniqueFd conn;
    protocol::Reply reply;
    std::vector<UniqueFd> fds;
};

Result<Exchanged> exchange(const std::string& socket, const protocol::Request& request, int netns_fd,
                           Clock::time_point deadline) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return Error::sys("socket");
    UB_TRYV(connect_daemon(fd.get(), socket, std::min(deadline, Clock::now() + kConnectWait)));

    auto bytes = protocol::encode(request);
    std::size_t sent = 0;
    Result<void> send_error = Ok{};
    while (sent < bytes.size()) {
        UB_TRYV(wait_for(fd.get(), POLLOUT, deadline, "sending"));
        // The namespace's fd rides on the request's first byte.
        std::vector<int> with;
        if (sent == 0 && netns_fd >= 0) with.push_back(netns_fd);
        ssize_t n = handover::sendmsg_with_fds(fd.get(), bytes.data() + sent, bytes.size() - sent, with,
                                               MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            // The daemon may have refused us (busy) and hung up: its reply
            // says why, so read it before reporting the hang-up.
            send_error = Error::msg(std::string(kHungUp) + " (it hung up before reading the request)");
            break;
        }
        if (n < 0) return Error::sys("cannot send the request to userbridged");
        sent += static_cast<std::size_t>(n);
    }

    // The reply, with the fds on its first byte: the first recvmsg carries
    // them; later ones only complete the bytes.
    std::string reply;
    std::vector<UniqueFd> fds;
    while (reply.size() < protocol::kReplySize) {
        UB_TRYV(wait_for(fd.get(), POLLIN, deadline, "receiving"));
        char buf[protocol::kReplySize];
        Result<handover::Received> got =
            handover::recvmsg_with_fds(fd.get(), buf, protocol::kReplySize - reply.size());
        if (!got.ok() && (got.error().code() == EAGAIN || got.error().code() == EINTR)) continue;
        if (!got.ok() && !send_error.ok()) return send_error.error();
        if (!got.ok() && got.error().code() == ECONNRESET) return Error::msg(kHungUp);
        if (!got.ok()) return got.error().context("cannot receive the reply from userbridged");
        for (UniqueFd& f : got->fds) fds.push_back(std::move(f));
        if (got->truncated) return Error::msg("the reply's fds were truncated");
        if (got->bytes == 0 && !send_error.ok()) return send_error.error();
        if (got->bytes == 0) return Error::msg(kHungUp);
        reply.append(buf, got->bytes);
    }
    return Exchanged{std::move(fd), UB_TRY(protocol::decode_reply(reply)), std::move(fds)};
}

}  // namespace

Result<Opened> open_tap_via_daemon(const OpenRequest& req) {
    auto deadline = Clock::now() + (req.tap.interactive ? std::max(req.timeout, kAskTimeout) : req.timeout);
    Exchanged x = UB_TRY(exchange(req.socket, req.tap, -1, deadline));
    const protocol::Reply& rep = x.reply;
    if (rep.status == protocol::Status::Denied) return Opened{Refusal{rep.refused, "userbridged: " + rep.message}};
    if (rep.status != protocol::Status::Granted)
        return Error::msg("userbridged: " + rep.message);
    std::size_t want = req.tap.queues;
    if (x.fds.size() != rep.nfds || x.fds.size() != want || rep.peer_ifindex != 0 || rep.lease)
        return Error::msg("userbridged sent " + std::to_string(x.fds.size()) + " fds, expected " +
                          std::to_string(want));
    UB_TRYV(wait_for_eof(x.conn.get(), deadline));
    return Opened{UB_TRY(tap_from_reply(std::move(x.fds), rep))};
}

Result<VethOpened> grant_veth_via_daemon(const std::string& socket, const protocol::Request& req, int netns_fd,
                                         std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + (req.interactive ? std::max(timeout, kAskTimeout) : timeout);
    Exchanged x = UB_TRY(exchange(socket, req, netns_fd, deadline));
    const protocol::Reply& rep = x.reply;
    if (rep.status == protocol::Status::Denied)
        return VethOpened{Refusal{rep.refused, "userbridged: " + rep.message}};
    if (rep.status != protocol::Status::Granted) return Error::msg("userbridged: " + rep.message);
    if (!x.fds.empty() || rep.peer_ifindex == 0) return Error::msg("userbridged granted a tap, not a veth pair");
    UB_TRYV(wait_for_eof(x.conn.get(), deadline));
    return VethOpened{Veth{rep.ifname, req.netns_peer, rep.peer_ifindex, rep.mtu, rep.message}};
}

// A status reply is read to the daemon's EOF; a daemon too busy to answer
// sends a grant-sized refusal instead, which says why.
Result<protocol::SeenReply> query_seen(const std::string& socket, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return Error::sys("socket");
    UB_TRYV(connect_daemon(fd.get(), socket, std::min(deadline, Clock::now() + kConnectWait)));
    auto query = protocol::encode_seen_query();
    UB_TRYV(wait_for(fd.get(), POLLOUT, deadline, "sending"));
    // An empty socket takes 96 bytes whole.
    if (send(fd.get(), query.data(), query.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(query.size()))
        return Error::sys("cannot send the status query to userbridged");
    constexpr std::size_t kMost = protocol::kSeenHeaderSize + protocol::kMaxSeen * protocol::kSeenRecordSize;
    std::string reply;
    for (;;) {
        UB_TRYV(wait_for(fd.get(), POLLIN, deadline, "receiving"));
        char buf[4096];
        ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) return Error::sys("cannot receive the status reply from userbridged");
        if (n == 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > kMost) return Error::msg("userbridged sent more than a status reply");
    }
    if (reply.size() == protocol::kReplySize && reply.rfind("UBRP", 0) == 0) {
        protocol::Reply r = UB_TRY(protocol::decode_reply(reply));
        return Error::msg("userbridged: " + r.message);
    }
    protocol::SeenReply r = UB_TRY(protocol::decode_seen_reply(reply));
    if (!r.ok) return Error::msg("userbridged: " + r.message);
    return r;
}

Result<std::variant<Leased, Refusal>> lease_via_daemon(const OpenRequest& req) {
    auto deadline = Clock::now() + (req.tap.interactive ? std::max(req.timeout, kAskTimeout) : req.timeout);
    Exchanged x = UB_TRY(exchange(req.socket, req.tap, -1, deadline));
    using Answer = std::variant<Leased, Refusal>;
    if (x.reply.status == protocol::Status::Denied)
        return Answer(Refusal{x.reply.refused, "userbridged: " + x.reply.message});
    if (x.reply.status != protocol::Status::Granted) return Error::msg("userbridged: " + x.reply.message);
    if (!x.reply.lease || !x.fds.empty()) return Error::msg("userbridged's reply is not a lease's");
    Leased out{x.reply.ifname, x.reply.message, {}};
    // Tied: the connection is the lease; else the daemon's EOF ends it.
    if (req.tap.tied) out.conn = std::move(x.conn);
    else UB_TRYV(wait_for_eof(x.conn.get(), deadline));
    return Answer(std::move(out));
}

}  // namespace ub::client
