#include "net/live_taps.h"

#include <net/if.h>

#include <cerrno>
#include <utility>

#include "policy/quota.h"
#include "protocol/tampered.h"

namespace ub::net {

void begin_live_checks(TapSpec& spec, LiveRules rules) {
    rules.owner = spec.owner;
    rules.guest_mac = spec.label.mac;
    if (rules.max_taps >= 0 || rules.guest_mac)
        spec.check_live = [rules = std::move(rules)](Rtnl& rtnl, const LinkInfo& bridge,
                                                     int mine) -> Result<std::optional<Refusal>> {
            if (!rules.live) return Error::msg("no index of live links to count against");
            const LiveLinks* live = UB_TRY(rules.live(rtnl));
            return check_live_taps(live->links(), rules, bridge, mine);
        };
}

void LiveLinks::put(const LinkInfo& l) {
    // Macvtaps count as taps do, on their lower device as on a bridge.
    int master = l.kind == "macvtap" ? l.link : l.master;
    links_[l.ifindex] = LiveLink{l.name, l.kind, master, l.alias};
}

Result<void> LiveLinks::rebuild(Rtnl& rtnl) {
    std::map<int, LiveLink> before = std::move(links_);
    links_.clear();
    // Veth ends granted into network namespaces (net/veth.h) count alike.
    for (const char* kind : {"tun", "veth", "macvtap"}) {
        Result<std::vector<LinkInfo>> links = rtnl.list_links(kind);
        if (!links.ok()) {
            links_ = std::move(before);
            return links.error();
        }
        for (const LinkInfo& l : *links) put(l);
    }
    stale_ = false;
    return Ok{};
}

// Each event carries the link's whole state (rtnl_fill_ifinfo). A label
// set on a link that is down sends none (do_setlink notifies through
// netdev_state_change, which skips a link that is not up): a tap being
// made shows its label from the event of its joining a bridge on.
void LiveLinks::apply(const std::vector<LinkInfo>& events) {
    for (const LinkInfo& l : events) {
        if (l.deleted) links_.erase(l.ifindex);
        else if (l.kind == "tun" || l.kind == "veth" || l.kind == "macvtap") put(l);
    }
}

// Made after our tap carries its label: of two grants for one guest MAC,
// the later one sees the other's label and refuses; userbridged's grants
// are serial, and it reads its monitor's queued events before each check
// (the kernel queues them as it makes each change), so a tap another
// process made is seen too, with its label from its joining a bridge on
// (LiveLinks::apply). The quota ranks by ifindex
// (policy/quota.h) and counts by the label's uid, which only we can set:
// the tun owner is the fd holder's to change (TUNSETOWNER).
std::optional<Refusal> check_live_taps(const std::map<int, LiveLink>& links, const LiveRules& rules,
                                       const LinkInfo& bridge, int mine) {
    std::vector<policy::TapSeen> seen;
    std::vector<LinkLabel> labels;
    auto account = [&](uid_t uid) { return rules.account ? rules.account(uid) : uid; };
    for (const auto& [ifindex, l] : links) {
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        seen.push_back({ifindex, label ? static_cast<long long>(account(label->uid)) : -1, l.master});
        labels.push_back({ifindex, l.name, l.alias});
    }
    std::optional<Refusal> refused;
    if (rules.max_taps >= 0)
        refused = policy::check_quota(rules.max_taps,
                                      policy::count_quota(seen, account(rules.owner), bridge.ifindex, mine),
                                      bridge.name);
    if (!refused && rules.guest_mac) refused = check_mac_unused(labels, *rules.guest_mac, mine);
    return refused;
}

std::optional<Refusal> check_mac_unused(const std::vector<LinkLabel>& links, const Mac& mac, int mine) {
    for (const LinkLabel& l : links) {
        if (l.ifindex == mine) continue;
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        if (!label || label->mac != mac) continue;
        return Refusal{Refused::Acl, "guest MAC " + format_mac(mac) + " is already pinned to " +
                                         std::string(l.name) + " (uid " + std::to_string(label->uid) +
                                         (label->vm.empty() ? "" : ", vm " + label->vm) +
                                         "); two taps never share one"};
    }
    return std::nullopt;
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
    // A tap not yet up may still be being made: root's until it is given to
    // its caller just before it comes up (net::give_tap). Only its owner is
    // taken as it is then; the rest is judged as ever.
    if (!macvtap && !(link.flags & IFF_UP) && link.tun_owner == 0) now.owner = label->uid;
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

}  // namespace ub::net
