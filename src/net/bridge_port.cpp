#include "net/bridge_port.h"

#include <sys/random.h>

#include <cerrno>

#include "policy/quota.h"
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

std::optional<Revoked> tampered_tap(const LinkInfo& link) {
    bool macvtap = link.kind == "macvtap";
    if (link.kind != "tun" && !macvtap) return std::nullopt;
    std::optional<protocol::TapLabel> label = protocol::parse_label(link.alias);
    if (!label) return std::nullopt;
    // A macvtap has no owner, group or persistence; its fd's holder may
    // change its MAC (SIOCSIFHWADDR: the kernel's tap_ioctl asks no
    // capability) and so take another station's frames.
    protocol::TapState now{link.mac, link.tun_persist, link.tun_owner, link.tun_group};
    if (macvtap) now = {link.mac, false, static_cast<long long>(label->uid), -1};
    std::string what = protocol::tampered(*label, now);
    if (what.empty()) return std::nullopt;
    return Revoked{link.name, link.ifindex, std::move(*label), std::move(what), {}};
}

bool remove_tampered(Rtnl& rtnl, Revoked& r) {
    Result<void> gone = rtnl.delete_link(r.ifindex);
    if (gone.ok()) return true;
    // ENODEV: it went meanwhile, which is what we wanted.
    if (gone.error().code() != ENODEV) r.error = gone.error().message();
    return false;
}

std::string revoke_detail(const Revoked& r) {
    return (r.error.empty() ? "removed: " : "not removed (" + r.error + "): ") + r.what;
}

// One dump of the host's taps serves both checks. Made after our tap
// carries its label: of two grants racing for one guest MAC, the one that
// dumps later sees the other's label and refuses (both may; neither is
// pinned beside the other). The quota ranks by ifindex (policy/quota.h)
// and counts by the label's uid, which only we can set: the tun owner is
// the fd holder's to change (TUNSETOWNER). With `revoked` (the helper's
// count), taps found tampered with are removed first.
Result<std::optional<Refusal>> check_live_taps(Rtnl& rtnl, const TapSpec& spec, const LinkInfo& bridge,
                                               int mine) {
    std::vector<policy::TapSeen> seen;
    std::vector<LinkInfo> links = UB_TRY(rtnl.list_links("tun"));
    // Veth ends granted into network namespaces (net/veth.h) count alike.
    for (LinkInfo& l : UB_TRY(rtnl.list_links("veth"))) links.push_back(std::move(l));
    // Macvtaps count as taps do, on their lower device as on a bridge.
    for (LinkInfo& l : UB_TRY(rtnl.list_links("macvtap"))) {
        l.master = l.link;
        links.push_back(std::move(l));
    }
    std::vector<protocol::LinkLabel> labels;
    auto account = [&](uid_t uid) { return spec.account ? spec.account(uid) : uid; };
    for (const LinkInfo& l : links) {
        if (std::optional<Revoked> r = spec.revoked ? tampered_tap(l) : std::nullopt) {
            bool removed = remove_tampered(rtnl, *r);
            if (removed || !r->error.empty()) spec.revoked->push_back(*r);
            if (r->error.empty()) continue;  // gone; one that stays counts against its label's uid
        }
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        seen.push_back({l.ifindex, label ? static_cast<long long>(account(label->uid)) : -1, l.master});
        labels.push_back({l.ifindex, l.name, l.alias});
    }
    std::optional<Refusal> refused;
    if (spec.max_taps >= 0)
        refused = policy::check_quota(spec.max_taps,
                                      policy::count_quota(seen, account(spec.owner), bridge.ifindex, mine),
                                      bridge.name);
    if (!refused && spec.label.mac) refused = protocol::check_mac_unused(labels, *spec.label.mac, mine);
    return refused;
}

Result<Made> make_bridged_tap(Rtnl socket, TapSpec spec, const LinkInfo& bridge, StepHook hook, Join join) {
    // A quota is counted and its tap attached under the owner's lock, so
    // that requests of one user are counted one after the other.
    if (spec.max_taps >= 0 && !spec.lock_tun.valid())
        return Error::msg("a quota is counted only under its owner's lock");
    while (spec.tuns.size() < static_cast<std::size_t>(spec.label.queues)) spec.tuns.push_back(UB_TRY(open_tun()));
    Tap tap = UB_TRY(create_tap(socket, std::move(spec.tuns), spec.vnet, spec.owner, spec.names, hook, spec.name));
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
    // Counted with our tap already made and labelled, ranked by ifindex:
    // with the lock this is simply "how many do they hold", and it stays
    // safe against a request that does not take the lock (policy/quota.h).
    // A guest MAC is checked against every live tap's label.
    if (spec.max_taps >= 0 || spec.label.mac) {
        std::optional<Refusal> refused = UB_TRY(check_live_taps(rtnl, spec, bridge, out.ifindex));
        if (refused) return refused;  // the tap dies with out
        if (spec.max_taps >= 0) UB_TRYV(step(Ok{}, "after-quota"));
    }
    // A bridge port needs no address of its own. Left to the kernel, the tap
    // gets an IPv6 link-local address when it comes up, and the host then
    // sends duplicate-address checks, router solicitations and MLD reports
    // from it into the VM's segment (and spends a tenth of a grant on it).
    UB_TRYV(step(rtnl.set_no_ipv6_address(out.ifindex), "after-no-ipv6"));
    return std::optional<Refusal>();
}

Result<Made> join_bridge(BridgedTap out, TapSpec spec, const LinkInfo& bridge, StepHook hook) {
    UniqueFd lock = std::move(spec.lock_tun);
    if (std::optional<Refusal> refused = UB_TRY(ready_port(out, spec, bridge, hook))) return Made{std::move(*refused)};
    Rtnl& rtnl = out.undo.rtnl();
    auto step = [&](Result<void> r, const char* name) { return port_step(out, hook, std::move(r), name); };
    if (spec.before_attach) UB_TRYV(step(spec.before_attach(out.tap.name, out.ifindex), "after-pin"));
    UB_TRYV(step(rtnl.set_master(out.ifindex, bridge.ifindex), "after-attach"));
    // Isolated while still down: no frame crosses the bridge before.
    if (spec.isolated) UB_TRYV(step(rtnl.set_isolated(out.ifindex), "after-isolate"));
    lock.reset();  // counted and on the bridge: the next request may count
    if (spec.before_up) spec.before_up(out.tap, out.mac);
    UB_TRYV(step(rtnl.set_up(out.ifindex), "after-up"));
    return Made{std::move(out)};
}

}  // namespace ub::net
