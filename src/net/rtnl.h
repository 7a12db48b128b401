// rtnetlink through libmnl: look up links and change them, one checked
// request at a time. Every reply is matched on sequence number and port id;
// an NLMSG_ERROR becomes an Error carrying the kernel's errno.
#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mac.h"
#include "base/result.h"

namespace ub::net {

// An open rtnetlink socket; closed with the holder.
struct MnlCloser {
    void operator()(mnl_socket* nl) const;
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlCloser>;


struct LinkInfo {
    int ifindex = 0;
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", "tun", ... or empty
    unsigned mtu = 0;
    Mac mac{};  // all zero when the link has no 6-byte address
    int master = 0;  // ifindex of the master device, 0 if none
    int link = 0;    // IFLA_LINK: a veth's peer's ifindex (in the peer's namespace), a macvtap's lower device; 0 if none
    unsigned flags = 0;
    std::string alias;        // IFLA_IFALIAS
    long long tun_owner = -1;  // IFLA_TUN_OWNER of a tun/tap, -1 if none
    long long tun_group = -1;  // IFLA_TUN_GROUP, -1 if none
    bool tun_persist = false;  // IFLA_TUN_PERSIST: outlives its last fd
    // A multiqueue tun/tap's queues: attached and enabled
    // (IFLA_TUN_NUM_QUEUES), and attached but disabled with TUNSETQUEUE
    // (IFLA_TUN_NUM_DISABLED_QUEUES). -1 for a single-queue one, for which
    // the kernel does not say.
    int tun_num_queues = -1;
    int tun_num_disabled = -1;
    bool deleted = false;      // from an RTM_DELLINK (LinkMonitor only, net/link_monitor.h)
};

// A netlink socket of family `bus` (NETLINK_ROUTE for Rtnl and
// LinkMonitor, net/link_monitor.h) with NETLINK_EXT_ACK and NETLINK_CAP_ACK
// asked for and bound. `flags` adds to SOCK_CLOEXEC; `groups`: the
// multicast groups to join (RTMGRP_*), 0 for requests only; `what` names
// it in errors.
Result<MnlSocket> open_netlink(int bus, int flags, unsigned groups, const char* what);

// A libmnl data callback (mnl_cb_t): appends the link an RTM_NEWLINK or
// RTM_DELLINK message describes to the std::vector<LinkInfo> at `links`,
// attribute types checked; other messages, and the bridge's own port
// notices, it skips. MNL_CB_ERROR for a message it cannot parse.
int parse_link_msg(const nlmsghdr* nlh, void* links);

// Whether every netlink message in a datagram of n bytes lies within it.
// libmnl's own check compares lengths as signed ints and lets a message
// through that says it is longer than what was received; each datagram is
// checked with this before libmnl walks it. Pure: unit-tested and fuzzed.
bool well_framed(const char* buf, std::size_t n);

// An NLMSG_ERROR message decoded: 0 for an ACK, else a positive errno
// (EBADMSG when it is too short to be one or says it is longer than the
// `avail` bytes at nlh, EPROTO for an error value the kernel never sends),
// with the extended ACK's message put in `why` when it carries one. Reads
// nothing past nlh + avail. Pure: unit-tested and fuzzed.
int decode_ack(const nlmsghdr* nlh, std::size_t avail, std::string& why);

// An rtnetlink message under construction, in its own buffer. The buffer
// is left unzeroed (libmnl clears each header and attribute it puts): an
// exec'd helper pays a page fault for every page it touches.
struct Message {
    std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = nullptr;
    // The netlink header, then the family header (ifinfomsg, rtmsg, ...),
    // zeroed, which it returns.
    template <typename Header>
    Header* start(std::uint16_t type, std::uint16_t flags = 0) {
        nlh = mnl_nlmsg_put_header(buf.get());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        return static_cast<Header*>(mnl_nlmsg_put_extra_header(nlh, sizeof(Header)));
    }
};

// A port is the bridge's: the host's own IP stack takes nothing from it.
// The bridge hands a frame to a link-local group (01:80:c2:00:00:0X) that it
// does not forward up the port's own stack, past every bridge hook
// (br_handle_frame; docs/SECURITY.md, review item 32-4). On the port, by its
// sysctls: IPv4 reverse-path filtered, which drops every packet whose source
// is not 0.0.0.0 on a device without an address (__fib_validate_source); IPv6
// off, which also keeps the port from any address of its own, and the host
// from sending duplicate-address checks, router solicitations and MLD
// reports from it into the guest's segment. The caller needs CAP_NET_ADMIN.
Result<void> no_host_stack(const std::string& name);

// The interface group (IFLA_GROUP) of every bridge port userbridge makes.
// Reverse-path filtering lets an IPv4 packet from 0.0.0.0 to a broadcast
// or multicast address through to the host's sockets, and ARP has no such
// switch: userbridged's tables drop what arrives on a port of this group
// at the IP and ARP hooks (daemon/filters.h, Filters::guard_ports), which
// only frames the bridge passed up the port's own stack do (a bridge hands
// what it forwards up its own device). No other device may have it.
inline constexpr std::uint32_t kPortGroup = 30050;

class Rtnl {
public:
    static Result<Rtnl> open();

    Result<LinkInfo> get_link(const std::string& name);
    // MTU, MAC and (unless empty) IFLA_IFALIAS in one request: a port's
    // settings before it joins its bridge.
    Result<void> set_port(int ifindex, unsigned mtu, const Mac& mac, const std::string& alias);
    Result<int> ifindex(const std::string& name);
    // Also puts the port in kPortGroup. Its master again: a no-op but for that.
    Result<void> set_master(int ifindex, int master_ifindex);
    Result<void> set_up(int ifindex);
    // A new bridge port's guards, in one request: bpdu_guard always
    // (IFLA_BRPORT_GUARD, Linux 3.7): a port that receives a BPDU is
    // disabled, since a guest's BPDUs reach the bridge's STP past every
    // netfilter hook and could make it the root bridge; with `isolated`,
    // an isolated port too (IFLA_BRPORT_ISOLATED, Linux 4.18): the bridge
    // forwards nothing between two isolated ports. Only once it is a port:
    // the kernel takes port options from the master it has when the request
    // comes (rtnl_newlink's slave_changelink).
    Result<void> guard_port(int ifindex, bool isolated);
    // RTM_DELLINK. For a tun/tap this unregisters the device whoever holds
    // its fds, persistent or not: the kernel detaches every queue
    // (tun_detach_all), where closing our own fds would leave it alive while
    // another holds one.
    Result<void> delete_link(int ifindex);
    // Every link of this kind ("tun" for taps) in our network namespace; the
    // kernel filters the dump, asked again when links changed under it (this
    // socket is then replaced). In rtnl_dump.cpp, which the helper does not link.
    Result<std::vector<LinkInfo>> list_links(const std::string& kind);
    // Sends `msg` (built here, or elsewhere: veths, macvtaps, routes) with
    // NLM_F_REQUEST, and NLM_F_ACK unless it is a dump, and waits for its
    // ACK or the dump's end; the links the replies describe go to `links`
    // (none wanted: null). `what` names it in errors.
    Result<void> request(nlmsghdr* msg, const std::string& what, std::vector<LinkInfo>* links = nullptr);

private:
    explicit Rtnl(MnlSocket nl);
    Result<std::vector<LinkInfo>> dump_links(const std::string& kind);

    MnlSocket nl_;
    unsigned portid_;
    unsigned seq_;
};

}  // namespace ub::net
