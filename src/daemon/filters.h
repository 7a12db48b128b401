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
// again whenever link events were lost. Elements of taps still alive that
// an earlier daemon granted are not known by this one: when a tap it did
// not grant dies, it collects the dead from a listing of the table, until
// no such elements remain.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/mac.h"
#include "base/result.h"
#include "net/mac_pin.h"

namespace ub::daemon {

class Filters {
public:
    // Loads libnftables: before the seccomp filter, since it reads its own
    // files. Without it, available() is false and why() says why.
    static Filters open();
    bool available() const { return nft_.has_value(); }
    const std::string& why() const { return why_; }

    // As the daemon starts: adds what an older release's table lacks (so
    // that taps guarded before an upgrade get the newer rules at once) and
    // removes the elements of taps that no longer exist.
    Result<void> reconcile();

    // Guards the tap `ifname` (`ifindex`) as `guard` says: the grant's
    // before_attach. Its elements are remembered until tap_gone.
    Result<void> add(const std::string& ifname, int ifindex, const net::Guard& guard);

    // The link monitor saw the tap `ifindex` go: deletes exactly its
    // elements, or, for a tap this daemon did not guard while elements
    // from before its start remain, the dead taps' elements.
    Result<void> tap_gone(int ifindex);

    // Link events were lost: the taps we guarded that are not in `live`
    // (the ifindexes that exist now) are gone, and so may others be.
    Result<void> events_lost(const std::set<int>& live);

    // A macvtap's pinned MAC (mode=macvtap with mac= or mac-prefix=): a
    // chain of its own on the netdev egress hook of `ifname`, where the
    // frames its fd's holder writes pass (tap_get_user's dev_queue_xmit),
    // drops every frame, and every ARP packet, from another MAC. The
    // macvtap's own address is the pinned one already (net/macvtap.h).
    Result<void> pin_macvtap(const std::string& ifname, int ifindex, const Mac& mac);
    // The macvtap `ifindex` is gone: its chain goes (the kernel keeps a
    // netdev chain whose device is gone, hooked to nothing).
    void macvtap_gone(int ifindex);
    // At start-up: the chains of macvtaps not in `live` go.
    Result<void> macvtaps_live(const std::set<int>& live);

private:
    Filters() = default;
    Result<void> collect_dead();

    std::optional<net::Nft> nft_;
    std::string why_;
    std::map<int, net::GuardCommands> guarded_;  // by ifindex
    bool inherited_ = false;  // elements of live taps from before we started
};

}  // namespace ub::daemon
