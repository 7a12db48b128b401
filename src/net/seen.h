// What guests are seen to use: the addresses that frames from taps claim,
// learned in the kernel by nftables and read back by userbridged alone
// (daemon/filters.h), for `userbridge status`. No packet is parsed in a
// privileged process: the kernel matches fixed header fields and adds
// (tap, source MAC, address) to dynamic sets with a timeout.
//
//   table bridge userbridge_seen {
//     set budget { type iface_index; flags dynamic,timeout; }  # a limit per tap
//     set seen4 { type iface_index . ether_addr . ipv4_addr; size 65536; timeout 5m; }
//     set seen6 { ... ipv6_addr ... }
//     set nd6 { typeof iif . ether saddr . @th,64,128; ... }  # NS/NA targets
//     chain learn { type filter hook prerouting priority -200;
//       meta iifkind != "tun" return              # taps only, never an uplink
//       arp sender IP; a DHCP client's IPv4 source; an ICMPv6 source
//       (ND, MLD, ...); an NS's or NA's target: each first through
//       update @budget { iif limit rate 1/second burst 16 packets } } }
//
// What holds (docs/SECURITY.md, review item 25-2): entries are keyed by the
// ifindex of the tap the frame came in by, which the kernel never reuses,
// so a guest adds only to its own tap's entries and can neither replace
// nor remove another tap's; a spoofing guest on a pinned tap is not
// learned from, since the guard table (priority -300) drops its frames
// first. Nothing is learned from frames sent *to* a guest (a DHCP server's
// ACK, say): any host on the LAN can send those. A guest claiming another's
// address shows, under its own tap, as claiming it. A set is bounded; each
// tap adds at most one new element a second (after a burst of 16), so a
// flood fills it only with hundreds of taps; a full set keeps refreshing
// its elements and learns no new ones until some expire.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/mac_pin.h"
#include "protocol/seen_wire.h"

namespace ub::net {

using Seen = protocol::SeenAddress;

// Makes the table and its chain, unless it is there: userbridged, as it
// starts.
Result<void> start_learning(Nft& nft);

// One entry and the ifindex of the tap it came in by (seen.port empty:
// the caller names the tap, if it is still there).
struct SeenAt {
    int ifindex = 0;
    Seen seen;
};

// Every entry of the three sets, read with one netlink dump each
// (libnftnl): no text is formatted or parsed, which for a full set of
// 65,536 took nft's listing most of a second.
Result<std::vector<SeenAt>> dump_seen();

// One element's key and time left as the kernel gives them; nothing for a
// key of another size. Pure, for dump_seen and its tests.
std::optional<SeenAt> parse_seen_key(std::span<const std::uint8_t> key, bool v6, std::uint64_t expires_ms);

}  // namespace ub::net
