#include "net/live_taps.h"

#include <linux/if.h>
#include <linux/if_tun.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/system.h"
#include "policy/quota.h"
#include "protocol/tampered.h"

namespace ub::net {

Result<bool> try_quota_lock(const UniqueFd& tun, uid_t uid) {
    ifreq ifr{};
    std::string name = "ubq" + std::to_string(uid);  // at most 13 bytes
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL);
    Result<void> r = system::ioctl(tun.get(), TUNSETIFF, &ifr, "cannot take the quota lock " + name);
    if (r.ok()) return true;
    if (r.error().code() == EBUSY || r.error().code() == EEXIST) return false;
    return r.error();
}

Result<bool> begin_live_checks(TapSpec& spec, LiveRules rules, uid_t account) {
    rules.owner = spec.owner;
    rules.guest_mac = spec.label.mac;
    if (rules.max_taps >= 0) {
        UniqueFd tun = UB_TRY(open_tun());
        if (!UB_TRY(try_quota_lock(tun, account))) return false;
        spec.lock_tun = std::move(tun);
    }
    if (rules.max_taps >= 0 || rules.guest_mac)
        spec.check_live = [rules = std::move(rules)](Rtnl& rtnl, const LinkInfo& bridge, int mine) {
            return check_live_taps(rtnl, rules, bridge, mine);
        };
    return true;
}

// One dump of the host's taps serves both checks. Made after our tap
// carries its label: of two grants racing for one guest MAC, the one that
// dumps later sees the other's label and refuses (both may; neither is
// pinned beside the other). The quota ranks by ifindex (policy/quota.h)
// and counts by the label's uid, which only we can set: the tun owner is
// the fd holder's to change (TUNSETOWNER).
Result<std::optional<Refusal>> check_live_taps(Rtnl& rtnl, const LiveRules& rules, const LinkInfo& bridge,
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
    std::vector<LinkLabel> labels;
    auto account = [&](uid_t uid) { return rules.account ? rules.account(uid) : uid; };
    for (const LinkInfo& l : links) {
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        seen.push_back({l.ifindex, label ? static_cast<long long>(account(label->uid)) : -1, l.master});
        labels.push_back({l.ifindex, l.name, l.alias});
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
