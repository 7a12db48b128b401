// userbridged's traffic filters: the nftables elements (net/mac_pin.h)
// that hold a tap to its rule's mac=, mac-prefix=, servers=no, ip= and
// rate=. The daemon alone installs them; the helper refuses a rule that
// needs one (policy::needs_filter) rather than hand out a tap without.
//
// A grant adds its tap's elements after the tap is made and labelled and
// before it joins its bridge (net::TapSpec::before_attach), so that no
// frame from it crosses unfiltered, and remembers them by ifindex, which
// the kernel does not reuse. When the link monitor sees that tap go,
// exactly those elements are deleted. As the daemon starts, it removes the
// elements of taps that died while none watched (a crash, a restart); and
// again whenever link events were lost. The table that learns what guests
// use (net/seen.h) is made here too, and read back for `userbridge status`. Elements of taps still alive that
// an earlier daemon granted are not known by this one: when a tap it did
// not grant dies, it collects the dead from a listing of the table, until
// no such elements remain.
//
// Routed taps (mode=routed, net/routed.h) are kept the same way: their
// elements in table inet userbridge_routed, their proxy neighbour entries
// on the uplink and the uplink's IPv4 forwarding are removed when the
// link monitor sees the tap go, and, for taps that died unseen, from the
// listing of that table as the daemon starts (a dead tap's elements name
// it by a bare ifindex, and still name the address and the uplink).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sys/types.h>
#include <string>

#include "base/mac.h"
#include "base/result.h"
#include "net/csum_guard.h"
#include "net/mac_pin.h"
#include "net/nft_batch.h"
#include "net/seen.h"
#include "net/routed.h"

namespace ub::daemon {

class Filters {
public:
    // Loads libnftables and opens the nf_tables socket that grants' batches
    // go through: before the seccomp filter, since libnftables reads its
    // own files. Without either, available() is false and why() says why.
    static Filters open();
    bool available() const { return nft_.has_value(); }
    const std::string& why() const { return why_; }

    // As the daemon starts: adds what an older release's table lacks (so
    // that taps guarded before an upgrade get the newer rules at once) and
    // removes the elements of taps that no longer exist.
    Result<void> reconcile();

    // Guards the tap `ifindex` as `guard` says: the grant's before_attach.
    // Its elements are remembered until tap_gone.
    Result<void> add(int ifindex, const net::Guard& guard);

    // Holds the tap `ifname` (`ifindex`, still down) to `addrs` routed
    // to `uplink` (net/routed.h): its elements, the grant's before_attach
    // for mode=routed. Then, once it is up, route_up(ifindex) adds its
    // forwarding, routes and proxy entries (make_routed_tap). What each made
    // is remembered first, so that when a later step fails (the tap is
    // then deleted), tap_gone removes what was made.
    Result<void> route(const std::string& ifname, int ifindex, const std::string& uplink,
                       const std::vector<policy::IpPrefix>& addrs);
    Result<void> route_up(int ifindex);

    // The link monitor saw the tap `ifindex` go: deletes exactly its
    // elements, or, for a tap this daemon did not guard while elements
    // from before its start remain, the dead taps' elements.
    Result<void> tap_gone(int ifindex);

    // The host's stack takes nothing from a bridge port (net::kPortGroup):
    // as the daemon starts, tables that drop at the IP and ARP hooks what
    // arrives on one, made anew.
    Result<void> guard_ports();
    // ...and again, when a request finds them gone (an administrator's
    // `nft flush ruleset`, which Debian's nftables.conf starts with),
    // looked for at most once in kPortsLook.
    Result<void> guard_ports_again();
    static constexpr std::chrono::seconds kPortsLook{10};

    // Starts learning what guests use (net/seen.h): as the daemon starts.
    Result<void> start_learning();

    // What guests on live taps were seen to use, as the kernel's sets hold
    // it, each with its tap's owner (the uid of its label; none for a tap
    // without one); the same answer for a second, so that a user asking in
    // a loop costs the one serving thread one listing a second.
    struct SeenOnTap {
        net::Seen seen;
        std::optional<uid_t> owner;
    };
    Result<std::vector<SeenOnTap>> seen();

    // Link events were lost: the taps we guarded that are not in `live`
    // (the ifindexes that exist now) are gone, and so may others be.
    Result<void> events_lost(const std::set<int>& live);

    // A macvtap's pinned MAC (mode=macvtap with mac= or mac-prefix=): a
    // chain of its own on the netdev egress hook of `ifname`, where the
    // frames its fd's holder writes pass (tap_get_user's dev_queue_xmit),
    // drops every frame, and every ARP packet, from another MAC, every
    // VLAN-tagged frame and neighbour discovery announcing another MAC
    // (review item 24-4). The macvtap's own address is the pinned one
    // already (net/macvtap.h). The checksum guard (net/csum_guard.h) goes
    // on it first: without it the pin would hold only against a guest
    // whose VMM left the virtio-net header off (review item 27-1), so
    // without a guard there is no pin, and the grant fails.
    Result<void> pin_macvtap(const std::string& ifname, int ifindex, const Mac& mac);
    // The guard filtered ports get, loaded as the daemon started (while
    // it had CAP_BPF), or why there is none.
    void set_csum_guard(Result<net::CsumGuard> guard) { csum_guard_.emplace(std::move(guard)); }
    // The guard loaded in place of a former daemon's on the ports that one
    // guarded (net::CsumGuard::refresh), as userbridged starts.
    Result<void> refresh_guard();
    // Whether the guard loaded is the exact one: a filtered tap may then
    // keep its virtio-net header (review item 24-5).
    bool exact_csum_guard() const {
        return csum_guard_ && csum_guard_->ok() && csum_guard_->value().kind() == net::CsumGuard::Kind::Exact;
    }
    // The checksum guard on the macvtap `ifindex` (again: nothing changes,
    // or an older release's guard there is replaced), or why it cannot be:
    // pin_macvtap's first step, and, as the daemon starts, each live
    // pinned macvtap's.
    Result<void> guard_macvtap(int ifindex);
    // The exact checksum guard on the ingress of the port `ifindex` (a tap,
    // a veth's host end), where its guest's frames enter, or why it cannot
    // be: before a filtered port joins its bridge.
    Result<void> guard_port(int ifindex);
    // The macvtap `ifindex` is gone: its chain goes (the kernel keeps a
    // netdev chain whose device is gone, hooked to nothing).
    void macvtap_gone(int ifindex);
    // At start-up: the chains of macvtaps not in `live` go; a live one an
    // older release made gets the rules it lacks (review item 24-4).
    Result<void> macvtaps_live(const std::set<int>& live);

private:
    struct Routed {
        net::RoutedTap tap;
        std::vector<policy::IpPrefix> proxied;  // the proxy entries this grant added
    };
    Filters() = default;
    Result<void> collect_dead();
    Result<void> ensure_routed_table();
    Result<void> route_steps(net::Rtnl& rtnl, Routed& r);
    // A routed tap is gone: its proxy entries and elements, and the
    // uplink's forwarding if we turned it on and no routed tap uses it.
    Result<void> unroute(const Routed& r);
    // From a listing: the dead taps' proxy entries and elements, and the
    // forwarding of uplinks no live routed tap uses. Says whether live
    // routed taps from before our start remain.
    Result<bool> collect_dead_routes();
    Result<void> forwarding_off_if_unused(net::Rtnl& rtnl, const std::string& table);
    // The loaded guard on `side` of `ifindex`, through a socket kept for
    // it: one per filtered grant would cost an open and a close each.
    Result<void> attach_guard(int ifindex, net::CsumGuard::Side side);

    std::chrono::steady_clock::time_point ports_looked_{};
    std::optional<net::Nft> nft_;
    std::optional<net::NftBatch> batch_;  // there whenever nft_ is
    std::string why_;
    std::map<int, net::TapElements> guarded_;  // by ifindex
    bool inherited_ = false;  // elements of live taps from before we started
    Result<std::vector<SeenOnTap>> read_seen();
    std::chrono::steady_clock::time_point seen_next_{};  // when the table may be read again
    Result<std::vector<SeenOnTap>> seen_ = std::vector<SeenOnTap>{};  // the learning table, as last read
    std::optional<Result<net::CsumGuard>> csum_guard_;  // none set: none loaded
    std::optional<net::Rtnl> guard_rtnl_;                // attach_guard's, opened at its first use
    std::map<int, Routed> routed_;           // by the tap's ifindex
    bool routed_table_ = false;              // made or seen
    bool current_ = true;                    // table bridge userbridge, if there, is up to date
    bool inherited_routes_ = false;          // routed taps from before we started
};

}  // namespace ub::daemon
