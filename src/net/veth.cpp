#include "net/veth.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cerrno>

#include "net/rtnl.h"
#include "policy/daemon_options.h"

namespace ub::net {

namespace {

// A veth pair: `host` here, `peer` made directly in the network namespace
// `netns_fd` (IFLA_NET_NS_FD), both with `mtu`, the peer with `peer_mac`
// unless it is all zero.
Result<void> create_veth(Rtnl& rtnl, const std::string& host, const std::string& peer, int netns_fd, unsigned mtu,
                         const Mac& peer_mac) {
    Message req;
    req.start<ifinfomsg>(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    mnl_attr_put_strz(req.nlh, IFLA_IFNAME, host.c_str());
    mnl_attr_put_u32(req.nlh, IFLA_MTU, mtu);
    nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(req.nlh, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(req.nlh, IFLA_INFO_DATA);
    // VETH_INFO_PEER holds an ifinfomsg and the peer's own attributes.
    nlattr* peer_info = mnl_attr_nest_start(req.nlh, VETH_INFO_PEER);
    auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(req.nlh, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(req.nlh, IFLA_IFNAME, peer.c_str());
    mnl_attr_put_u32(req.nlh, IFLA_MTU, mtu);
    if (peer_mac != Mac{}) mnl_attr_put(req.nlh, IFLA_ADDRESS, peer_mac.size(), peer_mac.data());
    // Made there, never here and then moved: no moment in which the end is
    // ours to name, or another's to take.
    mnl_attr_put_u32(req.nlh, IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd));
    mnl_attr_nest_end(req.nlh, peer_info);
    mnl_attr_nest_end(req.nlh, data);
    mnl_attr_nest_end(req.nlh, info);
    return rtnl.request(req.nlh, "create the veth pair " + host + " / " + peer);
}

// A host end name no interface has now, from the counter: the kernel's
// veth%d would scan every interface (as tap%d does, net/tap.h).
Result<std::string> free_host_name(Rtnl& rtnl, unsigned& serial) {
    for (int tries = 0; tries < 64; ++tries) {
        std::string name = "ubv" + std::to_string(serial++ % 10'000'000);
        Result<int> taken = rtnl.ifindex(name);
        if (!taken.ok() && taken.error().code() == ENODEV) return name;
    }
    return Error::msg("64 veth names in a row are taken (ubv*)");
}

}  // namespace

Result<Made> make_bridged_veth(Rtnl rtnl, TapSpec spec, const LinkInfo& bridge, const VethEnds& ends,
                               StepHook hook) {
    unsigned fallback = 0;
    std::string host = UB_TRY(free_host_name(rtnl, ends.serial ? *ends.serial : fallback));
    Result<void> made = create_veth(rtnl, host, ends.peer, ends.netns_fd, bridge.mtu, spec.label.mac.value_or(Mac{}));
    if (!made.ok() && made.error().code() == EEXIST)
        return Error::msg("cannot create the veth pair: the namespace already has an interface named " + ends.peer);
    UB_TRYV(made);
    int ifindex = UB_TRY(rtnl.ifindex(host));
    // From here every error or refusal deletes the host end, and the kernel its peer.
    TapUndo undo(std::move(rtnl), ifindex);
    LinkInfo link = UB_TRY(undo.rtnl().get_link(host));
    if (link.link <= 0) return Error::msg("the kernel names no peer of " + host);
    BridgedTap out{Tap{{}, host, false}, {}, bridge.mtu, ifindex, link.link, std::move(undo)};
    return join_bridge(std::move(out), std::move(spec), bridge, hook);
}

std::optional<Refusal> veth_refusal(const policy::Decision& d) {
    if (d.limits().mode == policy::Mode::Bridge) return std::nullopt;
    return Refusal{Refused::Acl, policy::where(*d.deciding) + " is mode=" +
                                     std::string(policy::mode_name(d.limits().mode)) +
                                     ": a veth pair joins a bridge only"};
}

}  // namespace ub::net
