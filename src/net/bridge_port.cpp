#include "net/bridge_port.h"

namespace ub::net {

Result<LinkInfo> find_bridge(Rtnl& rtnl, const std::string& name) {
    Result<LinkInfo> link = rtnl.get_link(name);
    if (!link.ok()) {
        if (link.error().code() == ENODEV) return Error::msg("bridge " + name + " does not exist");
        return link.error();
    }
    if (link->kind != "bridge") {
        std::string kind = link->kind.empty() ? "a plain device" : "a " + link->kind + " device";
        return Error::msg(name + " is not a bridge (it is " + kind + ")");
    }
    return link;
}

Result<BridgedTap> make_bridged_tap(Rtnl& rtnl, UniqueFd tun, const LinkInfo& bridge,
                                    VnetHdr vnet, uid_t owner, StepHook hook) {
    BridgedTap out{UB_TRY(create_tap(std::move(tun), vnet, owner)), {}, bridge.mtu};
    // Every error below returns without releasing out.tap.fd: the tap dies.
    auto step = [&](Result<void> r, const char* name) -> Result<void> {
        if (!r.ok()) return r.error().context(out.tap.name);
        if (hook) return hook(name);
        return Ok{};
    };

    UB_TRYV(step(Ok{}, "after-create"));
    Result<LinkInfo> tap = rtnl.get_link(out.tap.name);
    if (!tap.ok()) return tap.error().context(out.tap.name);
    if (!tap->has_mac) return Error::msg(out.tap.name + " has no MAC address");

    UB_TRYV(step(rtnl.set_mtu(tap->ifindex, bridge.mtu), "after-mtu"));
    out.mac = tap->mac;
    out.mac[0] = 0xfe;
    UB_TRYV(step(rtnl.set_mac(tap->ifindex, out.mac), "after-mac"));
    UB_TRYV(step(rtnl.set_master(tap->ifindex, bridge.ifindex), "after-attach"));
    UB_TRYV(step(rtnl.set_up(tap->ifindex), "after-up"));
    return out;
}

}  // namespace ub::net
