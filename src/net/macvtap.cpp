// net/macvtap.h: a macvtap made, labelled, counted and opened.
#include "net/macvtap.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include <cerrno>

#include "base/system.h"
#include "protocol/tap_label.h"

namespace ub::net {

namespace {

// A new macvtap `name` on `lower_ifindex`, in bridge mode (its macvtaps
// reach each other and the wire, not the lower device's own addresses),
// down. Unlike a tap it outlives its fds: Rtnl::delete_link it.
Result<void> add_macvtap(Rtnl& rtnl, const std::string& name, int lower_ifindex) {
    Message m;
    m.start<ifinfomsg>(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    mnl_attr_put_u32(m.nlh, IFLA_LINK, static_cast<uint32_t>(lower_ifindex));
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "macvtap");
    nlattr* data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
    mnl_attr_put_u32(m.nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
    mnl_attr_nest_end(m.nlh, data);
    mnl_attr_nest_end(m.nlh, info);
    return rtnl.request(m.nlh, "create macvtap " + name + " on ifindex " + std::to_string(lower_ifindex));
}

// A name no interface has: "mvt" and a random number, tried again on
// EEXIST (IFF_TUN_EXCL's counterpart: NLM_F_EXCL).
Result<std::string> add_named_macvtap(Rtnl& rtnl, const LinkInfo& lower) {
    for (int tries = 0;; ++tries) {
        Mac r = UB_TRY(port_mac());
        std::string name = "mvt" + std::to_string((r[1] << 16 | r[2] << 8 | r[3]) % 10'000'000);
        Result<void> made = add_macvtap(rtnl, name, lower.ifindex);
        if (made.ok()) return name;
        if (made.error().code() != EEXIST || tries == 8) return made.error();
    }
}

Result<void> set_vnet_flag(const std::vector<UniqueFd>& fds, VnetHdr vnet) {
    // A macvtap fd starts with IFF_VNET_HDR on (tap_open); TUNSETIFF may
    // change only that flag and IFF_MULTI_QUEUE, which says to QEMU what
    // each open of the device is anyway: one more queue.
    ifreq ifr{};
    ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (vnet == VnetHdr::IfSupported ? IFF_VNET_HDR : 0) |
                                       (fds.size() > 1 ? IFF_MULTI_QUEUE : 0));
    for (const UniqueFd& fd : fds)
        UB_TRYV(system::ioctl(fd.get(), TUNSETIFF, &ifr, "cannot set the macvtap's vnet_hdr flag"));
    return Ok{};
}

}  // namespace

Result<Made> make_macvtap(Rtnl socket, TapSpec spec, const std::string& nic, int queues,
                          const MacvtapOpener& open, StepHook hook) {
    spec.tuns.clear();  // a macvtap's fds come from its own device
    Result<LinkInfo> found = socket.get_link(nic);
    if (!found.ok() && found.error().code() == ENODEV) return Error::msg("interface " + nic + " does not exist");
    LinkInfo lower = UB_TRY(std::move(found));
    if (lower.kind == "macvtap" || lower.kind == "tun" || (lower.flags & IFF_LOOPBACK))
        return Error::msg(lower.name + " is not an Ethernet NIC a macvtap can sit on");
    std::string name = UB_TRY(add_named_macvtap(socket, lower));
    // Only CAP_NET_ADMIN could rename or delete it meanwhile: its index
    // is found.
    int ifindex = UB_TRY(socket.ifindex(name));
    // Every error or refusal below returns with out.undo uncommitted: the
    // macvtap is deleted, which closing our fds would not do.
    BridgedTap out{Tap{{}, name, spec.vnet == VnetHdr::IfSupported}, {}, lower.mtu, ifindex, 0,
                   TapUndo(std::move(socket), ifindex)};
    Rtnl& rtnl = out.undo.rtnl();
    auto step = [&](Result<void> r, const char* what) -> Result<void> {
        if (!r.ok()) return r.error().context(name);
        if (hook) return hook(what);
        return Ok{};
    };
    UB_TRYV(step(Ok{}, "after-create"));
    out.mac = UB_TRY(port_mac());
    out.mac[0] = 0x52, out.mac[1] = 0x54, out.mac[2] = 0x00;  // QEMU's prefix, locally administered
    if (spec.label.mac) out.mac = *spec.label.mac;
    spec.label.uid = spec.owner;
    spec.label.port = out.mac;
    UB_TRYV(step(rtnl.set_port(out.ifindex, lower.mtu, out.mac, protocol::format_label(spec.label)), "after-setup"));
    if (spec.check_live) {
        std::optional<Refusal> refused = UB_TRY(spec.check_live(rtnl, lower, out.ifindex));
        if (refused) return Made{std::move(*refused)};  // the macvtap dies with out
        UB_TRYV(step(Ok{}, "after-quota"));
    }
    UB_TRYV(step(no_host_stack(name), "after-no-ipv6"));
    // Its pin (daemon/filters.h), before anyone holds a queue of it.
    if (spec.before_attach) UB_TRYV(step(spec.before_attach(name, out.ifindex), "after-pin"));
    out.tap.queues = UB_TRY(open(name, out.ifindex, queues));
    UB_TRYV(step(set_vnet_flag(out.tap.queues, spec.vnet), "after-open"));
    UB_TRYV(step(rtnl.set_up(out.ifindex), "after-up"));
    return Made{std::move(out)};
}

}  // namespace ub::net
