#include "privilege/release.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/fds.h"
#include "base/system.h"
#include "privilege/drop.h"
#include "privilege/seccomp.h"

namespace ub::privilege {

namespace {

bool is_netfilter_socket(int fd) {
    Result<int> domain = system::getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
    if (!domain.ok() || *domain != AF_NETLINK) return false;
    Result<int> protocol = system::getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
    return protocol.ok() && *protocol == NETLINK_NETFILTER;
}

// The child's whole life. Never returns.
[[noreturn]] void hold_until_parent_exits(int ready, int life, const std::vector<int>& keep,
                                          const sock_filter* filter, std::size_t len) {
    // Everything but `ready`, `life` and the netfilter sockets; stdio too,
    // which may be a pipe the caller reads to its end.
    std::vector<int> kept = keep;
    kept.push_back(ready);
    kept.push_back(life);
    if (!close_all_fds_except(kept).ok()) _exit(1);
    for (int fd = 0; fd < 3; ++fd)
        if (std::find(kept.begin(), kept.end(), fd) == kept.end()) close(fd);
    // The socket keeps its opener's privilege whatever ours are (netlink
    // checks the credentials it was opened with): the filter, which has no
    // write, send or ioctl, is what keeps it unused.
    bool confined = drop_to(DropTarget{}).ok() && install_bpf(filter, len).ok();
    if (!confined) _exit(1);  // the helper then keeps the wait
    close(ready);             // the helper's read sees end of file
    char byte;
    while (read(life, &byte, 1) > 0) {
    }
    _exit(0);
}

}  // namespace

void defer_netfilter_release(const sock_filter* filter, std::size_t len) {
    // The helper has a handful of fds; libnftables' socket is among them.
    std::vector<int> keep;
    for (int fd = 0; fd < 64; ++fd)
        if (is_netfilter_socket(fd)) keep.push_back(fd);
    if (keep.empty()) return;
    int ready[2], life[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, life) != 0) {
        close(ready[0]);
        close(ready[1]);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) hold_until_parent_exits(ready[1], life[1], keep, filter, len);
    close(ready[1]);
    close(life[1]);
    if (pid < 0) close(life[0]);
    // Until it is confined the child still holds the tun fds, which must not
    // become references to a tap: wait for it to close `ready` (or die).
    pollfd p{ready[0], POLLIN, 0};
    char byte;
    if (pid > 0 && poll(&p, 1, 1000) == 1 && read(ready[0], &byte, 1) > 0) {
        // Nothing is ever written: only end of file is expected.
    }
    close(ready[0]);
    // life[0] stays open until we exit: then the child ends, and with it
    // the socket.
}

}  // namespace ub::privilege
