// MAC pinning (anti-spoofing) and rate limits with nftables, through
// libnftables.
//
// One table, made once and then only given elements:
//
//   table bridge userbridge {
//     set pinned  { type iface_index; }                # taps with a pinned MAC
//     set allowed { type iface_index . ether_addr; }   # (tap, its guest MAC)
//     set allowed_lla { typeof iif . @th,200,56; }     # (tap, 0x01 and the MAC)
//     set vlan_types { type ether_type; }  # 802.1Q, 802.1ad, 0x9100, 0x9200, 0x9300
//     chain prerouting { type filter hook prerouting priority -300;
//       iif @pinned ether type @vlan_types drop        # first: no tagged frame
//       iif @pinned iif . ether saddr != @allowed drop
//       iif @pinned iif . arp saddr ether != @allowed drop
//       ...and for neighbour solicitations, advertisements and router
//       solicitations: more than one option, or a link-layer address
//       option (its length byte and MAC) not in @allowed_lla: drop
//       iif @clients icmpv6 type { nd-router-advert, nd-redirect } drop
//       iif @clients udp sport { 67, 547 } drop } }
//     set clients { type iface_index; }   # pinned taps with servers=no
//     set ip_guarded { type iface_index; }  # pinned taps with ip=
//     set ll_guarded { type iface_index; }  # ...whose ip= lists a link-local address
//     set ip4_allowed, ip6_allowed, na_allowed  # (tap, a prefix it may use)
//     chain ip_guard { ... }  # jumped to from prerouting for @ip_guarded
//     set limited { type iface_index; }     # taps with rate=
//     map rate_out, rate_in { type iface_index : limit; }  # their limit objects
//     chain postrouting { oif @limited limit name oif map @rate_in drop }
//
// Frames a pinned tap sends with any other source MAC (or ARP sender
// address, or IPv6 neighbour-discovery link-layer address) are dropped
// before the bridge forwards them, and so is every VLAN-tagged frame it
// sends: the rules after the first see only untagged headers, and a tag
// would carry past them what they drop. Elements are keyed
// by ifindex, which the kernel does not reuse, so when a tap dies its
// elements become inert and can match no later tap, even one with the same
// name; they are collected the next time a helper pins a MAC, or by
// userbridged as the tap dies. A netdev-family
// chain per tap would not do: it is bound to a device name and comes back
// to life on the next tap of that name.
//
// libnftables is loaded with dlopen only when a rule asks for a MAC, so a
// plain grant does not pay for it (and its five libraries) at exec time.
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

    // The owner of this context collects dead taps' elements as they die
    // (userbridged, from its link events, with collect_dead): once guard_tap
    // has seen the table whole, it then only adds elements.
    void collect_as_taps_die() { owner_collects_ = true; }
    bool owner_collects() const { return owner_collects_; }
    bool table_checked() const { return table_checked_; }
    void set_table_checked() { table_checked_ = true; }

    struct Api;  // the libnftables functions, resolved by dlsym

private:
    Nft(const Api* api, nft_ctx* ctx) : api_(api), ctx_(ctx) {}
    const Api* api_;
    nft_ctx* ctx_;
    bool owner_collects_ = false;
    bool table_checked_ = false;
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

// Makes the table if it is not there (or what an older one lacks),
// collects elements of taps that no longer exist, and guards `ifname`
// (ifindex `ifindex`) as `guard` says. Call before the tap is attached to
// its bridge, so that no frame ever leaves it unfiltered. When the
// context's owner collects as taps die, and this context has seen the
// table whole, it only adds the elements (and checks again if that fails).
Result<void> guard_tap(Nft& nft, const std::string& ifname, int ifindex, const Guard& guard);

// Adds to an existing table what an older release's lacks (so that taps
// pinned before an upgrade get the newer rules at once); makes no table.
// userbridged calls it as it starts.
Result<void> update_table(Nft& nft);

// Deletes the elements of taps that no longer exist, if there is a table:
// one listing and one transaction. userbridged calls it as taps die.
Result<void> collect_dead(Nft& nft);

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
