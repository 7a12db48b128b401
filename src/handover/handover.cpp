#include "handover/handover.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

#include "base/system.h"

namespace ub::handover {

namespace {

std::string what_is(mode_t mode) {
    if (S_ISFIFO(mode)) return "a pipe";
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a socket";
}

int sockopt_int(int fd, int opt) {
    Result<int> v = system::getsockopt_int(fd, SOL_SOCKET, opt, "getsockopt");
    return v.ok() ? *v : -1;
}

}  // namespace

Result<void> check_socket(int fd) {
    std::string name = "--fd=" + std::to_string(fd);
    Result<struct stat> st = system::fstat(fd, "cannot stat " + name);
    if (!st.ok() && st.error().code() == EBADF) return Error::msg(name + " is not an open file descriptor");
    if (!st.ok()) return st.error();
    if (!S_ISSOCK(st->st_mode))
        return Error::msg(name + " is " + what_is(st->st_mode) + ", not a unix socket");
    if (sockopt_int(fd, SO_DOMAIN) != AF_UNIX)
        return Error::msg(name + " is a socket but not an AF_UNIX one");
    if (sockopt_int(fd, SO_TYPE) != SOCK_STREAM)
        return Error::msg(name + " is a unix socket but not a stream socket");
    sockaddr_un peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0)
        return Error::msg(name + " is a unix stream socket that is not connected");
    // A caller whose end is closed could take no tap fd: refused now, before
    // a tap exists, not when sending fails. The kernel shuts a unix stream
    // socket down both ways when its peer closes, which poll reports as
    // POLLHUP (a peer that only shut down its writing gives POLLRDHUP alone,
    // and can still read).
    pollfd p{fd, 0, 0};
    if (poll(&p, 1, 0) < 0) return Error::sys("cannot poll " + name);
    if (p.revents & POLLHUP)
        return Error::msg(name + " is a unix stream socket whose other end is already closed");
    return Ok{};
}

ssize_t sendmsg_with_fds(int sock, const char* data, std::size_t len, const std::vector<int>& fds,
                         int flags) {
    if (fds.size() > kMaxFds) {
        errno = EINVAL;
        return -1;
    }
    iovec iov{const_cast<char*>(data), len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

Result<void> send_fds(int sock, const std::vector<int>& fds) {
    if (fds.empty()) return Error::msg("bad number of fds to send");
    char byte = 0;
    ssize_t n = sendmsg_with_fds(sock, &byte, 1, fds, 0);
    if (n == 1) return Ok{};
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        return Error::msg("cannot send the tap fd: the caller closed its socket");
    if (n < 0) return Error::sys("cannot send the tap fd");
    return Error::msg("cannot send the tap fd: short send");
}

}  // namespace ub::handover
