// The privileged act itself: make a tap and plug it into a bridge, QEMU's way,
// plus what our policy adds (queues, isolation; userbridged's live-tap
// checks, net/live_taps.h, through TapSpec::check_live).
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
// "after-guard", "after-owner", "after-up"), and passes it to
// create_tap ("before-owner").

struct TapSpec {
    std::vector<UniqueFd> tuns;  // from open_tun(): one per queue
    VnetHdr vnet = VnetHdr::Off;
    uid_t owner = 0;
    // userbridged's quota and guest-MAC checks (net/live_taps.h), called
    // with the port made and labelled, before it joins the bridge; a
    // refusal undoes it. Null: none (the helper, which grants no rule with
    // max-taps= or mac=).
    std::function<Result<std::optional<Refusal>>(Rtnl& rtnl, const LinkInfo& bridge, int mine)> check_live;
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
    TapNames* names = nullptr;     // where the tap's name comes from; null: the kernel's tap%d
    std::string name;              // a lease's name, when it asked for one (create_tap's `fixed`)
    bool isolated = false;         // an isolated bridge port (Rtnl::guard_port)
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

// What make_bridged_tap does once the port exists (`out`): its MAC, MTU and label, check_live, the host's IP
// stack off, before_attach, the bridge, up. Also for veth ends (net/veth.h).
Result<Made> join_bridge(BridgedTap out, TapSpec spec, const LinkInfo& bridge, StepHook hook);

// Creates a tap (its queues: spec.tuns, with the missing ones of
// label.queues opened), gives it the bridge's MTU, a MAC whose first byte
// is 0xfe (so the bridge, which takes the lowest port MAC as its own
// unless set, never adopts a VM's address) and its label, runs check_live,
// calls before_attach, attaches it, and brings it up. On any error or refusal once its ifindex
// is known, the tap is deleted (TapUndo; a multiqueue tap that another
// process joined before its owner was set, by create_tap), since closing
// our fds would leave it to whoever holds a queue too. The tap made, which
// the front end commits once its fds are handed over, with `rtnl` in it;
// or the refusal check_live found (a quota that is full, a guest MAC
// another live tap carries): a decision, not an error, and then nothing is
// left made either. `join`: what follows the tap's creation;
// userbridged's routed taps and leases have their own (net/routed.h,
// daemon/grant.cpp), which call the pieces below.
using Join = Result<Made> (*)(BridgedTap out, TapSpec spec, const LinkInfo& bridge, StepHook hook);
Result<Made> make_bridged_tap(Rtnl rtnl, TapSpec spec, const LinkInfo& bridge, StepHook hook = nullptr,
                              Join join = join_bridge);

// The first half of join_bridge: the port's MAC, MTU and label,
// check_live; the refusal, if they refuse. (Then join_bridge takes the
// host's IP stack off the port: no_host_stack, net/rtnl.h.)
Result<std::optional<Refusal>> ready_port(BridgedTap& out, TapSpec& spec, const LinkInfo& bridge, StepHook hook);
// One step of making `out`: `r`'s error names the tap; then `hook` at `step`.
Result<void> port_step(const BridgedTap& out, StepHook hook, Result<void> r, const char* step);
// The pieces of it that a macvtap's making (net/macvtap.h) shares:
// A port MAC of our own: fe: and five random bytes.
Result<Mac> port_mac();

}  // namespace ub::net
