#include "net/routed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <net/if.h>  // before the linux/ headers, which defer to it
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <tuple>

#include "base/fd.h"
#include "base/system.h"

namespace ub::net {

namespace {

int family_of(const policy::IpPrefix& p) { return p.v6 ? AF_INET6 : AF_INET; }
std::size_t size_of(const policy::IpPrefix& p) { return p.v6 ? 16 : 4; }

// An address as nft and the ACL write it: "10.0.0.5", "2001:db8::5".
std::string addr_text(const policy::IpPrefix& p) { return policy::format_ip_prefix(p); }

// Looks up the uplink: any interface but a tap. Creates nothing.
Result<LinkInfo> find_uplink(Rtnl& rtnl, const std::string& name) {
    Result<LinkInfo> link = rtnl.get_link(name);
    if (!link.ok() && link.error().code() == ENODEV) return Error::msg("interface " + name + " does not exist");
    if (link.ok() && link->kind == "tun") return Error::msg(name + " is a tap, not an uplink");
    return link;
}

// A routed tap is the host's own interface, unlike a bridge port
// (no_host_stack), but needs no address: left to the kernel, it gets an
// IPv6 link-local one when it comes up, and the host sends duplicate-address
// checks, router solicitations and MLD reports from it to the guest.
Result<void> no_ipv6_address(Rtnl& rtnl, int ifindex) {
    Message m;
    m.start<ifinfomsg>(RTM_NEWLINK)->ifi_index = ifindex;
    nlattr* af = mnl_attr_nest_start(m.nlh, IFLA_AF_SPEC);
    nlattr* in6 = mnl_attr_nest_start(m.nlh, AF_INET6);
    mnl_attr_put_u8(m.nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    mnl_attr_nest_end(m.nlh, in6);
    mnl_attr_nest_end(m.nlh, af);
    Result<void> r = rtnl.request(m.nlh, "turn off IPv6 addresses on tap " + std::to_string(ifindex));
    // The kernel has no IPv6, or not on this device: nothing to turn off.
    if (!r.ok() && r.error().code() == EAFNOSUPPORT) return Ok{};
    return r;
}

// make_bridged_tap's Join for a routed tap: made and filtered, still down
// and root's (make_routed_tap gives it to its caller and brings it up). Its
// caller can write into it once it is theirs, before any fd of ours leaves,
// through a queue it attaches itself (a multiqueue tap's owner may,
// tun_not_capable).
Result<Made> join_uplink(BridgedTap out, TapSpec spec, const LinkInfo& uplink, StepHook hook) {
    if (std::optional<Refusal> refused = UB_TRY(ready_port(out, spec, uplink, hook))) return Made{std::move(*refused)};
    UB_TRYV(port_step(out, hook, no_ipv6_address(out.undo.rtnl(), out.ifindex), "after-no-ipv6"));
    if (spec.before_attach)
        UB_TRYV(port_step(out, hook, spec.before_attach(out.tap.name, out.ifindex), "after-pin"));
    return Made{std::move(out)};
}

// A routed tap is on no bridge, whose veto (NETDEV_PRE_TYPE_CHANGE) keeps
// a port's link type: once the tap is its owner's and still down, they may
// join it and make it another kind of link (TUNSETLINK, which only a down
// tap takes; review item 34-3). Once it is up, no one can: read then.
Result<void> still_ethernet(const Tap& tap) {
    ifreq ifr{};
    UB_TRYV(system::ioctl(tap.fd(), SIOCGIFHWADDR, &ifr, "cannot read the link type of " + tap.name));
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
        return Error::msg("no Ethernet link any more: its owner changed its type while it was down");
    return Ok{};
}

}  // namespace

Result<Made> make_routed_tap(Rtnl rtnl, TapSpec spec, const std::string& uplink, StepHook hook,
                             const std::function<Result<void>(int ifindex)>& after_up) {
    LinkInfo link = UB_TRY(find_uplink(rtnl, uplink));
    uid_t spec_owner = spec.owner;
    Made made = UB_TRY(make_bridged_tap(std::move(rtnl), std::move(spec), link, hook, join_uplink));
    if (auto* out = std::get_if<BridgedTap>(&made)) {
        UB_TRYV(port_step(*out, hook, give_tap(out->tap, spec_owner), "after-owner"));
        UB_TRYV(port_step(*out, hook, out->undo.rtnl().set_up(out->ifindex), "after-up"));
        UB_TRYV(port_step(*out, hook, still_ethernet(out->tap), "after-type"));
        if (after_up) UB_TRYV(port_step(*out, hook, after_up(out->ifindex), "after-routes"));
    }
    return made;
}

std::string routed_table() {
    return "add table inet userbridge_routed\n"
           "add set inet userbridge_routed taps { type iface_index; }\n"
           "add set inet userbridge_routed uplinks { type iface_index; }\n"
           "add set inet userbridge_routed src4 { type iface_index . ipv4_addr; }\n"
           "add set inet userbridge_routed src6 { type iface_index . ipv6_addr; }\n"
           "add set inet userbridge_routed fwd4 { type iface_index . ipv4_addr . iface_index; }\n"
           "add set inet userbridge_routed fwd6 { type iface_index . ipv6_addr . iface_index; }\n"
           "add chain inet userbridge_routed from_tap\n"
           "add rule inet userbridge_routed from_tap iif . ip saddr @src4 accept\n"
           "add rule inet userbridge_routed from_tap iif . ip6 saddr @src6 accept\n"
           // Neighbour discovery needs link-local sources, and duplicate
           // address detection the unspecified one; nothing else passes.
           "add rule inet userbridge_routed from_tap ip6 saddr fe80::/10 icmpv6 type "
           "{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n"
           "add rule inet userbridge_routed from_tap ip6 saddr :: icmpv6 type nd-neighbor-solicit accept\n"
           "add rule inet userbridge_routed from_tap counter drop\n"
           "add chain inet userbridge_routed prerouting { type filter hook prerouting priority -150; }\n"
           "add rule inet userbridge_routed prerouting iif @taps jump from_tap\n"
           "add chain inet userbridge_routed forward { type filter hook forward priority -150; }\n"
           "add rule inet userbridge_routed forward iif . ip saddr . oif @fwd4 accept\n"
           "add rule inet userbridge_routed forward oif . ip daddr . iif @fwd4 accept\n"
           "add rule inet userbridge_routed forward iif . ip6 saddr . oif @fwd6 accept\n"
           "add rule inet userbridge_routed forward oif . ip6 daddr . iif @fwd6 accept\n"
           "add rule inet userbridge_routed forward iif @taps counter drop\n"
           "add rule inet userbridge_routed forward oif @taps counter drop\n"
           // Forwarding we turned on for the uplink forwards nothing else.
           "add rule inet userbridge_routed forward iif @uplinks counter drop\n";
}

GuardCommands routed_commands(const RoutedTap& r) {
    // Added by name (the tap's is ours, the uplink's the kernel's, checked
    // by the ACL's parser), deleted by ifindex: a dead tap's name no
    // longer resolves. Nothing from the caller reaches nft's parser.
    GuardCommands c;
    auto both = [&](const std::string& set, const std::string& key) {
        std::string by_name = key, by_index = key;
        for (auto [from, name, index] : {std::tuple{"TAP", "\"" + r.tap_name + "\"", std::to_string(r.tap)},
                                         std::tuple{"UPLINK", "\"" + r.uplink_name + "\"", std::to_string(r.uplink)}}) {
            if (std::size_t at = by_name.find(from); at != std::string::npos) {
                by_name.replace(at, std::string_view(from).size(), name);
                by_index.replace(by_index.find(from), std::string_view(from).size(), index);
            }
        }
        c.add += "add element inet userbridge_routed " + set + " { " + by_name + " }\n";
        c.remove += "delete element inet userbridge_routed " + set + " { " + by_index + " }\n";
    };
    both("taps", "TAP");
    for (const policy::IpPrefix& a : r.addrs) {
        std::string v = a.v6 ? "6" : "4";
        both("src" + v, "TAP . " + addr_text(a));
        both("fwd" + v, "TAP . " + addr_text(a) + " . UPLINK");
    }
    return c;
}

Result<void> set_ipv4_forwarding(Rtnl& rtnl, int ifindex, bool on, ProxyArp proxy_arp) {
    Message m;
    auto* ifm = m.start<ifinfomsg>(RTM_NEWLINK, 0);
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = ifindex;
    nlattr* spec = mnl_attr_nest_start(m.nlh, IFLA_AF_SPEC);
    nlattr* inet = mnl_attr_nest_start(m.nlh, AF_INET);
    nlattr* conf = mnl_attr_nest_start(m.nlh, IFLA_INET_CONF);
    // inet_set_link_af: each attribute's type is an IPV4_DEVCONF_ index.
    mnl_attr_put_u32(m.nlh, IPV4_DEVCONF_FORWARDING, on ? 1 : 0);
    if (proxy_arp == ProxyArp::On) mnl_attr_put_u32(m.nlh, IPV4_DEVCONF_PROXY_ARP, 1);
    mnl_attr_nest_end(m.nlh, conf);
    mnl_attr_nest_end(m.nlh, inet);
    mnl_attr_nest_end(m.nlh, spec);
    return rtnl.request(m.nlh, std::string(on ? "turn on" : "turn off") + " IPv4 forwarding of ifindex " +
                                   std::to_string(ifindex));
}

Result<bool> ipv4_forwarding(const std::string& ifname) {
    std::string path = "/proc/sys/net/ipv4/conf/" + ifname + "/forwarding";
    UniqueFd fd = UB_TRY(system::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW, "cannot open " + path));
    char c = 0;
    if (read(fd.get(), &c, 1) != 1) return Error::sys("cannot read " + path);
    return c == '1';
}

Result<void> add_host_route(Rtnl& rtnl, int ifindex, const policy::IpPrefix& addr) {
    Message m;
    auto* rt = m.start<rtmsg>(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    rt->rtm_family = static_cast<unsigned char>(family_of(addr));
    rt->rtm_dst_len = static_cast<unsigned char>(addr.bits());
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_STATIC;
    rt->rtm_scope = addr.v6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rt->rtm_type = RTN_UNICAST;
    mnl_attr_put(m.nlh, RTA_DST, size_of(addr), addr.addr.data());
    mnl_attr_put_u32(m.nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex));
    return rtnl.request(m.nlh, "route " + addr_text(addr) + " to ifindex " + std::to_string(ifindex));
}

namespace {

// Whether the host routes exactly `addr` (routed_already), asked on `nl`
// with sequence number `seq`.
Result<bool> routed_exactly(const MnlSocket& nl, const policy::IpPrefix& addr, unsigned seq) {
    std::string what = "look up the route to " + addr_text(addr);
    Message m;
    auto* rt = m.start<rtmsg>(RTM_GETROUTE, NLM_F_REQUEST);
    rt->rtm_family = static_cast<unsigned char>(family_of(addr));
    rt->rtm_dst_len = static_cast<unsigned char>(addr.bits());
    rt->rtm_flags = RTM_F_FIB_MATCH;
    mnl_attr_put(m.nlh, RTA_DST, size_of(addr), addr.addr.data());
    m.nlh->nlmsg_seq = seq;
    if (mnl_socket_sendto(nl.get(), m.nlh, m.nlh->nlmsg_len) != static_cast<ssize_t>(m.nlh->nlmsg_len))
        return Error::sys("cannot " + what);
    // One reply: the route (a few hundred bytes) or an error, which with
    // NETLINK_CAP_ACK echoes no more than our header.
    alignas(nlmsghdr) char buf[8192];
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf, sizeof buf);
    if (n < 0) return Error::sys("cannot " + what + ": netlink receive");
    auto size = static_cast<std::size_t>(n);
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    if (!well_framed(buf, size) || size < sizeof(nlmsghdr) || nlh->nlmsg_seq != seq ||
        nlh->nlmsg_pid != mnl_socket_get_portid(nl.get()))
        return Error::msg("cannot " + what + ": a reply not to us or cut short");
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        std::string why;
        int err = decode_ack(nlh, size, why);
        // No route, or one that refuses packets to it (unreachable,
        // prohibit, blackhole: their errors), over some wider prefix or
        // this very address: no interface holds it. (One of exactly this
        // address still refuses the tap's own route, EEXIST.)
        if (err == ENETUNREACH || err == EHOSTUNREACH || err == EACCES || err == EINVAL) return false;
        return Error::sys("cannot " + what + (why.empty() ? "" : ": " + why), err ? err : EPROTO);
    }
    if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg)))
        return Error::msg("cannot " + what + ": the reply is not a route");
    return static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh))->rtm_dst_len == addr.bits();
}

}  // namespace

Result<std::optional<policy::IpPrefix>> routed_already(const std::vector<policy::IpPrefix>& addrs) {
    if (addrs.empty()) return std::optional<policy::IpPrefix>();
    MnlSocket nl = UB_TRY(open_netlink(NETLINK_ROUTE, 0, 0, "rtnetlink socket"));
    auto seq = static_cast<unsigned>(time(nullptr));
    for (const policy::IpPrefix& a : addrs)
        if (UB_TRY(routed_exactly(nl, a, seq++))) return std::optional<policy::IpPrefix>(a);
    return std::optional<policy::IpPrefix>();
}

Result<void> proxy_neighbour(Rtnl& rtnl, int ifindex, const policy::IpPrefix& addr, Change change) {
    Message m;
    bool add = change == Change::Add;
    auto* nd = m.start<ndmsg>(add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    nd->ndm_family = static_cast<std::uint8_t>(family_of(addr));
    nd->ndm_ifindex = ifindex;
    nd->ndm_state = NUD_PERMANENT;
    nd->ndm_flags = NTF_PROXY;
    mnl_attr_put(m.nlh, NDA_DST, size_of(addr), addr.addr.data());
    return rtnl.request(m.nlh, std::string(add ? "add" : "delete") + " the proxy entry for " + addr_text(addr) +
                                   " on ifindex " + std::to_string(ifindex));
}

Result<void> add_gateway_address(Rtnl& rtnl, int ifindex) {
    Message m;
    auto* ifa = m.start<ifaddrmsg>(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    ifa->ifa_family = AF_INET6;
    ifa->ifa_prefixlen = 64;
    ifa->ifa_flags = IFA_F_NODAD;
    ifa->ifa_scope = RT_SCOPE_LINK;
    ifa->ifa_index = static_cast<unsigned>(ifindex);
    in6_addr gw{};
    inet_pton(AF_INET6, "fe80::1", &gw);
    mnl_attr_put(m.nlh, IFA_LOCAL, sizeof gw, &gw);
    mnl_attr_put(m.nlh, IFA_ADDRESS, sizeof gw, &gw);
    return rtnl.request(m.nlh, "add fe80::1 to ifindex " + std::to_string(ifindex));
}

bool dead_route(std::string_view e, bool v6, policy::IpPrefix& addr, std::string& uplink) {
    std::size_t a = e.find(" . "), b = a == std::string_view::npos ? a : e.find(" . ", a + 3);
    if (b == std::string_view::npos || e.empty() || e[0] < '0' || e[0] > '9') return false;
    std::string text(e.substr(a + 3, b - a - 3));
    Result<policy::IpPrefix> p = policy::parse_ip_prefix(text);
    if (!p.ok() || p->v6 != v6) return false;
    addr = *p;
    std::string_view up = e.substr(b + 3);
    if (up.size() < 2 || up.front() != '"' || up.back() != '"') return false;  // the uplink is gone too
    uplink = std::string(up.substr(1, up.size() - 2));
    return true;
}

}  // namespace ub::net
