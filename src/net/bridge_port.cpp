#include "net/bridge_port.h"

#include <sys/random.h>

#include <cerrno>

#include "protocol/tap_label.h"

namespace ub::net {

// A port MAC of our own: fe: (locally administered, above any vendor's, so
// that a bridge without a fixed MAC never takes a tap's) and five random
// bytes. Not the MAC the tap has: until TUNSETOWNER, anyone may hold a
// queue of a new multiqueue tap, and so set that MAC (SIOCSIFHWADDR) and
// leave again; and clients make the guest's MAC from the port's
// (client/tap_handle.h).
Result<Mac> port_mac() {
    Mac mac{0xfe};
    for (std::size_t got = 1; got < mac.size();) {
        ssize_t n = getrandom(mac.data() + got, mac.size() - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::sys("getrandom");
        got += static_cast<std::size_t>(n);
    }
    return mac;
}

Result<LinkInfo> find_bridge(Rtnl& rtnl, const std::string& name) {
    Result<LinkInfo> link = rtnl.get_link(name);
    if (!link.ok() && link.error().code() == ENODEV) return Error::msg("bridge " + name + " does not exist");
    if (!link.ok() || link->kind == "bridge") return link;
    std::string kind = link->kind.empty() ? "a plain device" : "a " + link->kind + " device";
    return Error::msg(name + " is not a bridge (it is " + kind + ")");
}

Result<Made> make_bridged_tap(Rtnl socket, TapSpec spec, const LinkInfo& bridge, StepHook hook, Join join) {
    while (spec.tuns.size() < static_cast<std::size_t>(spec.label.queues)) spec.tuns.push_back(UB_TRY(open_tun()));
    Tap tap = UB_TRY(create_tap(socket, std::move(spec.tuns), spec.vnet, spec.names, hook, spec.name));
    // Its index for the requests below: an ioctl, where an RTM_GETLINK
    // would be a round trip and a full dump of the link's state.
    int ifindex = UB_TRY(socket.ifindex(tap.name));
    // Every error or refusal below returns with out.undo uncommitted: the tap is deleted.
    return join(BridgedTap{std::move(tap), {}, bridge.mtu, ifindex, 0, TapUndo(std::move(socket), ifindex)},
                std::move(spec), bridge, hook);
}

Result<void> port_step(const BridgedTap& out, StepHook hook, Result<void> r, const char* step) {
    if (!r.ok()) return r.error().context(out.tap.name);
    if (hook) return hook(step);
    return Ok{};
}

Result<std::optional<Refusal>> ready_port(BridgedTap& out, TapSpec& spec, const LinkInfo& bridge, StepHook hook) {
    Rtnl& rtnl = out.undo.rtnl();
    auto step = [&](Result<void> r, const char* name) { return port_step(out, hook, std::move(r), name); };

    UB_TRYV(step(Ok{}, "after-create"));
    // MTU, MAC and label in one request: each request to the kernel takes
    // its RTNL lock again, which concurrent grants and teardowns contend for.
    out.mac = UB_TRY(port_mac());
    // The label names the port MAC in the same request that sets it: no
    // event ever shows the label with another MAC (tampered_tap).
    spec.label.uid = spec.owner;
    spec.label.port = out.mac;
    UB_TRYV(step(rtnl.set_port(out.ifindex, bridge.mtu, out.mac, protocol::format_label(spec.label)),
                 "after-setup"));
    // Counted with our tap already made and labelled (net/live_taps.h).
    if (spec.check_live) {
        std::optional<Refusal> refused = UB_TRY(spec.check_live(rtnl, bridge, out.ifindex));
        if (refused) return refused;  // the tap dies with out
        UB_TRYV(step(Ok{}, "after-quota"));
    }
    return std::optional<Refusal>();
}

Result<Made> join_bridge(BridgedTap out, TapSpec spec, const LinkInfo& bridge, StepHook hook) {
    if (std::optional<Refusal> refused = UB_TRY(ready_port(out, spec, bridge, hook))) return Made{std::move(*refused)};
    Rtnl& rtnl = out.undo.rtnl();
    auto step = [&](Result<void> r, const char* name) { return port_step(out, hook, std::move(r), name); };
    UB_TRYV(step(no_host_stack(out.tap.name), "after-no-ipv6"));
    if (spec.before_attach) UB_TRYV(step(spec.before_attach(out.tap.name, out.ifindex), "after-pin"));
    UB_TRYV(step(rtnl.set_master(out.ifindex, bridge.ifindex), "after-attach"));
    // Guarded (and isolated) while still down: no frame crosses the bridge
    // or reaches its STP before.
    UB_TRYV(step(rtnl.guard_port(out.ifindex, spec.isolated), "after-guard"));
    if (spec.before_up) spec.before_up(out.tap, out.mac);
    UB_TRYV(step(give_tap(out.tap, spec.owner), "after-owner"));
    UB_TRYV(step(rtnl.set_up(out.ifindex), "after-up"));
    return Made{std::move(out)};
}

}  // namespace ub::net
