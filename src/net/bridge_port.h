// The privileged act itself: make a tap and plug it into a bridge, QEMU's way,
// plus what our policy adds (queues, quota, a guest MAC no other tap has).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <variant>
#include <vector>

#include "base/refusal.h"
#include "base/result.h"
#include "net/rtnl.h"
#include "net/tap.h"
#include "protocol/tap_label.h"

namespace ub::net {

// Looks up `name` and checks that it is a bridge. Creates nothing.
Result<LinkInfo> find_bridge(Rtnl& rtnl, const std::string& name);

// make_bridged_tap calls its StepHook (net/tap.h) after each step with the
// step's name ("after-create", "after-setup", "after-quota",
// "after-no-ipv6", "after-pin" (after before_attach), "after-attach",
// "after-isolate" (isolated=yes only), "after-up"), and passes it to
// create_tap ("before-owner").

// A labelled tap its fd holder changed (protocol::tampered), and what we
// did about it.
struct Revoked {
    std::string tap;
    int ifindex = 0;
    protocol::TapLabel label;
    std::string what;   // what the holder changed, in words
    std::string error;  // why it could not be removed; empty: it is gone
};

// What its holder changed, when `link` is a tap with our label that they
// changed (protocol::tampered); nullopt for any other link. Pure.
std::optional<Revoked> tampered_tap(const LinkInfo& link);
// Removes the tap (RTM_DELLINK), or says in r.error why not. Off the bridge
// and gone, it can neither take other stations' traffic nor hold a quota.
// True when this call removed it; false when it failed or the tap was gone
// already (another event of the same change, or another process, was first).
bool remove_tampered(Rtnl& rtnl, Revoked& r);
// The detail of its revoke record, the helper's and the daemon's alike:
// "removed: WHAT", or "not removed (WHY): WHAT".
std::string revoke_detail(const Revoked& r);

struct TapSpec {
    std::vector<UniqueFd> tuns;  // from open_tun(): one per queue
    VnetHdr vnet = VnetHdr::Off;
    uid_t owner = 0;
    int max_taps = -1;             // live taps `owner` may hold on the bridge; -1: no limit
    UniqueFd lock_tun;             // the owner's quota lock, held (tap.h), when max_taps >= 0
    // Called with the tap's name and ifindex once it is made, labelled and
    // counted, before it joins the bridge: where userbridged adds the tap's
    // traffic filter (daemon/filters.h), so that no frame from it crosses
    // the bridge unfiltered. An error undoes the tap.
    std::function<Result<void>(const std::string& ifname, int ifindex)> before_attach;
    // Called with the tap and its port MAC once it is on the bridge, still
    // down: the last moment at which it carries nothing (a down port
    // forwards no frame, and only CAP_NET_ADMIN brings it up).
    std::function<void(const Tap& tap, const Mac& port)> before_up;
    // IFLA_IFALIAS: who and what, for quotas, status and tools; its uid and
    // port MAC are filled in here (the owner's, and the one the tap gets).
    protocol::TapLabel label;
    // When set, the quota count removes the labelled taps it finds tampered
    // with and reports them here (the helper; the daemon's link monitor
    // removes and records them itself).
    std::vector<Revoked>* revoked = nullptr;
    TapNames* names = nullptr;     // where the tap's name comes from; null: the kernel's tap%d
    std::string name;              // a lease's name, when it asked for one (create_tap's `fixed`)
    bool isolated = false;         // an isolated bridge port (Rtnl::set_isolated)
    // Whose quota a uid counts against (userbridged: a subordinate uid's
    // owner, daemon/subids.h); null: its own.
    std::function<uid_t(uid_t)> account;
};

// A tap made for a grant and not yet handed over, with the rtnetlink
// socket that made it: deleted (RTM_DELLINK, by ifindex) when dropped
// before commit(). Closing our fds is not enough: once a multiqueue tap
// has its owner, the kernel lets the owner's uid attach a queue
// (tun_not_capable()), which keeps the tap alive, labelled and counted,
// after a grant that failed (SECURITY.md, review item 21-5).
class TapUndo {
public:
    TapUndo() = default;
    TapUndo(Rtnl rtnl, int ifindex) : held_(Held{std::move(rtnl), ifindex}) {}
    TapUndo(TapUndo&& o) noexcept : held_(std::exchange(o.held_, std::nullopt)) {}
    TapUndo& operator=(TapUndo&& o) noexcept {
        TapUndo gone(std::move(*this));  // what this one held is deleted now
        held_ = std::exchange(o.held_, std::nullopt);
        return *this;
    }
    // ENODEV: gone already. Another error leaves the tap to our fds' close.
    ~TapUndo() { if (held_) (void)held_->rtnl.delete_link(held_->ifindex); }
    Rtnl& rtnl() { return held_->rtnl; }
    // The grant stands, its fds handed over: the tap stays; the socket back.
    Rtnl commit() { return std::move(std::exchange(held_, std::nullopt)->rtnl); }

private:
    struct Held { Rtnl rtnl; int ifindex; };
    std::optional<Held> held_;
};

struct BridgedTap {
    Tap tap;
    Mac mac{};
    unsigned mtu = 0;
    int ifindex = 0;
    int peer_ifindex = 0;  // a veth's other end, in its namespace (net/veth.h); 0 for a tap
    TapUndo undo;  // last: the tap is deleted while our fds still hold it
};

// A port made, or the refusal policy found while making it.
using Made = std::variant<BridgedTap, Refusal>;

// What make_bridged_tap does once the port exists (`out`, with `spec`'s
// lock still held): its MAC, MTU and label, the quota and guest MAC
// checks, before_attach, the bridge, up. Also for veth ends (net/veth.h).
Result<Made> join_bridge(BridgedTap out, TapSpec spec, const LinkInfo& bridge, StepHook hook);

// Creates a tap (its queues: spec.tuns, with the missing ones of
// label.queues opened), gives it the bridge's MTU, a MAC whose first byte
// is 0xfe (so the bridge, which takes the lowest port MAC as its own
// unless set, never adopts a VM's address) and its label, counts it
// against the owner's quota (holding the owner's quota lock from before
// the tap exists until it is on the bridge; with `revoked`, taps found
// tampered with are removed, see tampered_tap), refuses a guest MAC (the
// label's) another live tap's label already carries, calls before_attach,
// attaches it, and brings it up. On any error or refusal once its ifindex
// is known, the tap is deleted (TapUndo; a multiqueue tap that another
// process joined before its owner was set, by create_tap), since closing
// our fds would leave it to whoever holds a queue too. The tap made, which
// the front end commits once its fds are handed over, with `rtnl` in it;
// or the refusal policy found while making it (a quota that is full, a
// guest MAC another live tap carries): a decision, not an error, and then
// nothing is left made either. `join`: what follows the tap's creation;
// userbridged's routed taps and leases have their own (net/routed.h,
// daemon/grant.cpp), which call the pieces below.
using Join = Result<Made> (*)(BridgedTap out, TapSpec spec, const LinkInfo& bridge, StepHook hook);
Result<Made> make_bridged_tap(Rtnl rtnl, TapSpec spec, const LinkInfo& bridge, StepHook hook = nullptr,
                              Join join = join_bridge);

// The first half of join_bridge: the port's MAC, MTU and label, the quota
// and guest MAC checks, no IPv6 address; the refusal, if they refuse.
Result<std::optional<Refusal>> ready_port(BridgedTap& out, TapSpec& spec, const LinkInfo& bridge, StepHook hook);
// One step of making `out`: `r`'s error names the tap; then `hook` at `step`.
Result<void> port_step(const BridgedTap& out, StepHook hook, Result<void> r, const char* step);
// The pieces of it that a macvtap's making (net/macvtap.h) shares:
// A port MAC of our own: fe: and five random bytes.
Result<Mac> port_mac();
// The quota and guest-MAC checks against every live tap and macvtap (a
// macvtap's lower device stands for its bridge), with ours, `mine`, made
// and labelled already; with spec.revoked, tampered taps are removed first.
Result<std::optional<Refusal>> check_live_taps(Rtnl& rtnl, const TapSpec& spec, const LinkInfo& bridge, int mine);

}  // namespace ub::net
