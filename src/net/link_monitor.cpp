#include "net/link_monitor.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "base/system.h"

namespace ub::net {

Result<LinkMonitor> LinkMonitor::open() {
    MnlSocket nl = UB_TRY(open_netlink(NETLINK_ROUTE, SOCK_NONBLOCK, RTMGRP_LINK, "rtnetlink monitor socket"));
    // Room for a burst of events (the default, rmem_default, holds a few
    // hundred): every overrun costs a rebuild from dumps. Past rmem_max,
    // which only CAP_NET_ADMIN may do; without it the default stays.
    (void)system::setsockopt_int(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20, "");
    return LinkMonitor(std::move(nl));
}

int LinkMonitor::fd() const { return mnl_socket_get_fd(nl_.get()); }

Result<LinkEvents> LinkMonitor::read() {
    constexpr int kMaxDatagrams = 4096;
    LinkEvents events;
    std::vector<LinkInfo>& links = events.links;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    for (int datagrams = 0;; ++datagrams) {
        if (datagrams == kMaxDatagrams) {
            events.more = true;
            return events;
        }
        ssize_t n = mnl_socket_recvfrom(nl_.get(), buf.data(), buf.size());
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return events;
        if (n < 0) return Error::sys("link monitor");
        if (!well_framed(buf.data(), static_cast<std::size_t>(n)))
            return Error::msg("link monitor: a netlink message runs past its datagram");
        // Events carry sequence 0 and port 0: the kernel's own.
        if (mnl_cb_run(buf.data(), static_cast<std::size_t>(n), 0, 0, parse_link_msg, &links) ==
            MNL_CB_ERROR)
            return Error::sys("link monitor: bad message");
    }
}

}  // namespace ub::net
