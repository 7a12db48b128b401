// Traffic filters with nftables: MAC pinning
// (anti-spoofing), servers=no, ip= and rate limits. userbridged's alone
// (daemon/filters.h): the helper does not link this.
//
// One table, made once and then only given elements (net/mac_pin.cpp has
// every rule and why):
//
//   table bridge userbridge {
//     set pinned  { type iface_index; }                # taps with a pinned MAC
//     set allowed { type iface_index . ether_addr; }   # (tap, its guest MAC)
//     set allowed_lla { typeof iif . @th,200,56; }     # (tap, 0x01 and the MAC)
//     set vlan_types { type ether_type; }  # 802.1Q, 802.1ad, 0x9100, 0x9200, 0x9300
//     set clients { type iface_index; }    # pinned taps with servers=no
//     set ip_guarded { type iface_index; } # pinned taps with ip=
//     set ll_guarded { type iface_index; } # ...whose ip= lists a link-local address
//     set ip4_single, ip6_single, na_single     # (tap, an address it may use)
//     set ip6_p64, na_p64                       # (tap, a /64 it may use)
//     set ip4_allowed, ip6_allowed, na_allowed  # (tap, another prefix), intervals
//     set limited { type iface_index; }     # taps with rate=
//     map rate_out, rate_in { type iface_index : limit; }  # their limit objects
//     chain prerouting { type filter hook prerouting priority -300;
//       iif @pinned jump pinned
//       iif @limited limit name iif map @rate_out drop }
//     chain pinned {
//       ether type @vlan_types drop                # first: no tagged frame
//       iif . ether saddr != @allowed drop
//       ether type vmap { ip : goto pinned_ip4, ip6 : goto pinned_ip6,
//                         arp : goto pinned_arp }
//       ...PPPoE discovery of servers=no; under ip=, any other EtherType: drop }
//     chain pinned_arp   # the ARP sender's MAC, and address under ip=
//     chain pinned_ip6   # neighbour discovery's link-layer addresses, first
//                        # fragments; jumps to client_ip6 and ip6_guard
//     chain pinned_ip4   # jumps to client_ip4 and ip4_guard
//     chain client_ip4, client_ip6     # servers=no: no DHCP, RA, redirect...
//     chain ip4_guard, ip6_guard       # ip=: the listed sources alone
//     chain postrouting { oif @limited limit name oif map @rate_in drop }
//
// Frames a pinned tap sends with any other source MAC (or ARP sender
// address, or IPv6 neighbour-discovery link-layer address) are dropped
// before the bridge forwards them, and so is every VLAN-tagged frame it
// sends: the rules after the first see only untagged headers, and a tag
// would carry past them what they drop. Elements are keyed
// by ifindex, which the kernel does not reuse, so when a tap dies its
// elements become inert and can match no later tap, even one with the same
// name; userbridged deletes them as the tap dies, and those of taps that
// died while it was not running as it starts. A netdev-family
// chain per tap would not do: it is bound to a device name and comes back
// to life on the next tap of that name.
//
// The table is made, upgraded and listed with libnftables, loaded with
// dlopen as userbridged starts, so that its five libraries are no link
// dependency of ours. A grant's elements go in and out as one netlink
// batch (net/nft_batch.h): libnftables would parse command text and fetch
// the ruleset for every command, a cost that grows with the taps pinned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/rtnl.h"
#include "policy/acl.h"
#include "policy/ip_prefix.h"

struct nft_ctx;

namespace ub::net {

class Nft {
public:
    // Loads libnftables and makes a context: before the seccomp sandbox,
    // since both read files.
    static Result<Nft> open();
    Nft(Nft&& o) noexcept;
    Nft& operator=(Nft&&) = delete;
    Nft(const Nft&) = delete;
    ~Nft();

    // Runs nft commands as one transaction; errors carry nft's own message.
    Result<void> run(const std::string& commands);
    // Runs a listing command and returns its text output.
    Result<std::string> list(const std::string& command);

    struct Api;  // the libnftables functions, resolved by dlsym

private:
    Nft(const Api* api, nft_ctx* ctx) : api_(api), ctx_(ctx) {}
    const Api* api_;
    nft_ctx* ctx_;
};

// What a tap may send, and how fast.
struct Guard {
    std::optional<Mac> mac;             // the only source MAC
    bool no_servers = false;            // with mac: no RAs, redirects, DHCP or DHCPv6 server messages
    std::vector<policy::IpPrefix> ips;  // with mac, non-empty: the only source addresses
    std::uint64_t rate_bits = 0;        // bits per second each way; 0: no limit
};

// What the ACL's terms ask of the tap; none when it needs no filter.
std::optional<Guard> guard_for(const policy::Terms& terms);

// One element a guard puts in one of our sets or maps, as the kernel
// holds it: the key's components each padded to four bytes (nftables'
// registers), the tap's ifindex first, in host order, but in network order
// in an interval set (nft converts the interface to it before it looks up
// a range). Pure data, for tap_elements and its tests.
struct SetElement {
    std::string set;
    std::vector<std::uint8_t> key;
    std::vector<std::uint8_t> key_end;  // an interval set's: the range's last key
    std::string object;                 // a map's value: a limit object's name
};
// A rate= limit object: over `bytes_per_second`, each second's worth a
// bucket, no burst added.
struct LimitObject {
    std::string name;
    std::uint64_t bytes_per_second = 0;
};
// What guards one tap: its limit objects (made before, deleted after the
// map elements that name them) and its elements.
struct TapElements {
    std::vector<LimitObject> limits;
    std::vector<SetElement> elements;
    bool empty() const { return limits.empty() && elements.empty(); }
};
// The tap with ifindex `ifindex`'s elements for `guard`, by ifindex alone
// (a dead tap's name no longer resolves). Pure.
TapElements tap_elements(int ifindex, const Guard& guard);

// A routed tap's commands (net/routed.h): those that add its elements, and
// those that delete exactly them again.
struct GuardCommands {
    std::string add;
    std::string remove;
};

class NftBatch;

// Adds a tap's elements, all or none. Should that fail, makes the table if
// it is not there (or what an older one lacks), collects the elements of
// taps that no longer exist, and adds them again. Call before the tap is
// attached to its bridge, so that no frame ever leaves it unfiltered.
Result<void> guard_tap(Nft& nft, NftBatch& batch, const TapElements& tap);

// Adds to an existing table what an older release's lacks (so that taps
// pinned before an upgrade get the newer rules at once); makes no table.
// userbridged calls it as it starts.
Result<void> update_table(Nft& nft);

// Deletes the elements of taps that no longer exist, if there is a table:
// one listing and one transaction. userbridged calls it as it starts, and
// when it lost link events. Says whether elements of live taps remain.
Result<bool> collect_dead(Nft& nft);

// The elements of a set as `nft list set` prints them: "3", "\"tap0\"",
// "3 . 52:54:00:12:34:56". Pure, for the collector and its tests.
std::vector<std::string> set_elements(std::string_view listing);

// Elements whose interface is gone: nft prints an ifindex it cannot name as
// a bare number.
bool is_stale_element(std::string_view element);
// An element of `set` as `delete element` takes it. nft (1.0.6) lists a
// one-address interval, 10.0.3.7/32 or a range from a value to itself, as
// the bare value, and then finds no element of that form to delete.
std::string deletable_element(std::string_view set, std::string_view element);

// The blocks of table bridge userbridge in a listing of every bridge
// table's sets and maps (`list sets bridge`, `list maps bridge`), joined:
// another table may have a set of the same name. Empty when it has none.
std::string our_table(std::string_view listing);

// Set or map `name` (kind "set" or "map") of a table's listing, from its
// opening line to its closing brace; none when the table has no such.
std::optional<std::string_view> table_section(std::string_view table, std::string_view kind,
                                              std::string_view name);

// Whether a listing has any.
bool has_stale_element(std::string_view listing);

}  // namespace ub::net
