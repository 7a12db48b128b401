#include "handover/receive.h"

#include <sys/socket.h>

#include <cstring>

namespace ub::handover {

Result<Received> recvmsg_with_fds(int sock, char* buf, std::size_t len) {
    iovec iov{buf, len};
    // Room for as many fds as one message can carry (the kernel's
    // SCM_MAX_FD, 253), whatever we expect: those that do not fit the
    // kernel closes in our thread, which userbridged must never do for a
    // client (daemon/closer.h).
    constexpr std::size_t kScmMaxFd = 253;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kScmMaxFd)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;

    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Error::sys("recvmsg");

    // Take ownership of every fd that arrived before judging the message, so
    // that nothing unexpected stays open in our process.
    Received r;
    r.bytes = static_cast<std::size_t>(n);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        if (c->cmsg_len < CMSG_LEN(0)) continue;
        std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < k; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            r.fds.emplace_back(fd);
        }
    }
    r.truncated = (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0;
    return r;
}

Result<std::vector<UniqueFd>> recv_fds(int sock, int count) {
    if (count < 1 || count > kMaxFds) return Error::msg("bad number of fds to receive");
    char byte = 0;
    Result<Received> r = recvmsg_with_fds(sock, &byte, 1);
    if (!r.ok()) return r.error().context("cannot receive the tap fd");
    if (r->bytes == 0 && r->fds.empty())
        return Error::msg("the helper closed the socket without sending a tap fd");
    if (r->truncated) return Error::msg("the tap fd message was truncated");
    if (r->fds.size() != static_cast<std::size_t>(count))
        return Error::msg("expected " + std::to_string(count) + " fd(s) from the helper, got " +
                          std::to_string(r->fds.size()));
    return std::move(r->fds);
}

}  // namespace ub::handover
