// Routed taps (mode=routed): a VM on the LAN of an uplink that cannot be
// bridged, such as a Wi-Fi station (its access point drops every frame
// whose source MAC is not the station's). userbridged's alone
// (daemon/filters.h); the helper does not link this.
//
// The tap joins no bridge. For each of the rule's addresses (ip=, single
// addresses) the host holds:
//   - a host route (/32, /128) to the tap (it goes with the tap);
//   - a proxy neighbour entry on the uplink (`ip neigh add proxy ADDR dev
//     UPLINK`): the kernel answers ARP for exactly that address there
//     (arp_process: forwarding on for the uplink, the route pointing at
//     another device, a pneigh entry for the target), and neighbour
//     solicitations where IPv6 forwarding and proxy_ndp are on for it;
//   - nftables elements in
//
//   table inet userbridge_routed {
//     set taps    { type iface_index; }     # routed taps
//     set uplinks { type iface_index; }     # uplinks whose IPv4 forwarding we turned on
//     set src4    { type iface_index . ipv4_addr; }              # (tap, its address)
//     set src6    { type iface_index . ipv6_addr; }
//     set fwd4    { type iface_index . ipv4_addr . iface_index; } # (tap, address, uplink)
//     set fwd6    { type iface_index . ipv6_addr . iface_index; }
//     chain prerouting { priority -150: iif @taps jump from_tap }
//     chain from_tap { its addresses, and IPv6 neighbour discovery from
//                      link-local or unspecified sources, accepted; the rest dropped }
//     chain forward { priority -150: tap -> its uplink from its addresses and
//                     uplink -> tap to them accepted; anything else from or to a
//                     routed tap dropped, and what enters an uplink in @uplinks }
//   }
//
// The tap itself gets IPv4 forwarding and proxy_arp (so that it answers
// the guest's ARP for the gateway and any LAN host: each is routed out
// another device) and, with an IPv6 address, fe80::1, the guest's
// gateway. The uplink gets IPv4 forwarding (IFLA_INET_CONF, that device
// only), remembered in @uplinks and turned off again once no routed tap
// uses it. IPv6 forwarding is host-wide in Linux (ip6_forward checks
// conf/all) and is the administrator's to turn on (ADMIN-GUIDE.md).
//
// Elements are keyed by ifindex, which the kernel does not reuse; a dead
// tap's elements list with a bare number, which is how the daemon finds
// them, and their proxy entries, as it starts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/bridge_port.h"
#include "net/mac_pin.h"
#include "net/rtnl.h"
#include "policy/ip_prefix.h"

namespace ub::net {

struct RoutedTap {
    int tap = 0;                          // ifindex
    std::string tap_name;
    int uplink = 0;                       // ifindex
    std::string uplink_name;
    std::vector<policy::IpPrefix> addrs;  // single addresses (ip=)
};

// A routed tap on the uplink `uplink` (any interface but a tap): made,
// labelled and counted as make_bridged_tap does a bridge's (its MTU the
// uplink's), but it joins no bridge: while it is down, spec.before_attach
// (its filters), then up, then after_up (its routes and proxy entries,
// since the kernel routes to an interface only when it is up,
// fib_check_nh). Its owner may write into it from its creation on (a
// queue of its own): nothing it writes goes anywhere before the filters.
// A failing step deletes the tap, as make_bridged_tap's do.
Result<Made> make_routed_tap(Rtnl rtnl, TapSpec spec, const std::string& uplink, StepHook hook,
                             const std::function<Result<void>(int ifindex)>& after_up);

// The table, its sets and chains: made once, at the first routed grant.
std::string routed_table();
inline constexpr const char* kRoutedTable = "inet userbridge_routed";

// The commands that add a routed tap's elements and delete them again. Pure.
GuardCommands routed_commands(const RoutedTap& r);

// IPv4 forwarding (and proxy_arp, if asked) of one device, through
// RTM_SETLINK's IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF: no other device's.
enum class ProxyArp { Leave, On };
Result<void> set_ipv4_forwarding(Rtnl& rtnl, int ifindex, bool on, ProxyArp proxy_arp);
// Whether IPv4 forwarding is on for `ifname` (/proc/sys, read only).
Result<bool> ipv4_forwarding(const std::string& ifname);

// The host route to one address through the tap; EEXIST when another
// interface has it (an address another live tap is routed).
Result<void> add_host_route(Rtnl& rtnl, int ifindex, const policy::IpPrefix& addr);
// The first of `addrs` the host routes exactly already, if any: a host
// route to it (another routed tap's, or anyone's) or it is the host's own.
// Asks the kernel which route a packet from the host to each would take,
// through its rules (RTM_F_FIB_MATCH, Linux 4.13), and compares that
// route's prefix length with the address's. A host route the rules do not
// reach first (a rule sending every lookup to another table) is not seen:
// the tap's own route in the main table then still fails on it (EEXIST),
// only later.
Result<std::optional<policy::IpPrefix>> routed_already(const std::vector<policy::IpPrefix>& addrs);
// A proxy neighbour entry (NTF_PROXY) for `addr` on `ifindex`.
enum class Change { Add, Delete };
Result<void> proxy_neighbour(Rtnl& rtnl, int ifindex, const policy::IpPrefix& addr, Change change);
// fe80::1/64 on the tap, without duplicate address detection: the guest's
// IPv6 gateway, and the source the host's solicitations to it need.
Result<void> add_gateway_address(Rtnl& rtnl, int ifindex);

// A dead tap's routed element of fwd4 or fwd6 as listed ("7 . 10.0.0.5 .
// \"wlan0\""): its address and uplink name; false for a live tap's or any
// other text. Pure.
bool dead_route(std::string_view element, bool v6, policy::IpPrefix& addr, std::string& uplink);

}  // namespace ub::net
