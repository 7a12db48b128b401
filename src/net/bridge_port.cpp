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
                                    VnetHdr vnet, uid_t owner) {
    BridgedTap out{UB_TRY(create_tap(std::move(tun), vnet, owner)), {}, bridge.mtu};
    auto in_context = [&](const Error& e) { return e.context(out.tap.name); };

    Result<LinkInfo> tap = rtnl.get_link(out.tap.name);
    if (!tap.ok()) return in_context(tap.error());
    if (!tap->has_mac) return Error::msg(out.tap.name + " has no MAC address");

    if (auto r = rtnl.set_mtu(tap->ifindex, bridge.mtu); !r.ok()) return in_context(r.error());
    out.mac = tap->mac;
    out.mac[0] = 0xfe;
    if (auto r = rtnl.set_mac(tap->ifindex, out.mac); !r.ok()) return in_context(r.error());
    if (auto r = rtnl.set_master(tap->ifindex, bridge.ifindex); !r.ok())
        return in_context(r.error());
    if (auto r = rtnl.set_up(tap->ifindex); !r.ok()) return in_context(r.error());
    return out;
}

}  // namespace ub::net
