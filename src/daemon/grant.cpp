#include "daemon/grant.h"

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/fault.h"
#include "base/system.h"
#include "net/live_taps.h"
#include "net/veth.h"
#include "net/macvtap.h"
#include "net/routed.h"
#include "policy/lease.h"
#include "policy/readable.h"
#include "privilege/fs_identity.h"

namespace ub::daemon {

namespace {

Outcome refuse(Outcome o, const Error& e) {
    o.reply.status = protocol::Status::Failed;
    o.reply.message = e.message();
    o.record.event = "error";
    o.record.detail = e.message();
    return o;
}

// A bridge learns the source MAC of a frame for a link-local group it does
// not forward (01:80:c2:00:00:0X: LLDP, 802.1X, LACP, STP's with STP on) on
// the port it came in, and hands the frame to no hook (LLDP's, STP's) or
// only to its input hook: never to prerouting, where a pinned tap's rules
// are (net/bridge/br_input.c, br_handle_frame, __br_handle_local_finish).
// A pinned guest would teach it another host's MAC and get that host's
// traffic. So a bridge that takes a pinned tap learns from no link-local
// frame of any port (no_linklocal_learn, Linux 4.20): docs/SECURITY.md,
// review item 22-1. Set once per bridge, through the grant's socket: the
// option stays on the bridge, which `done` names by ifindex (a bridge
// deleted and made again has a new one, and is set again).
Result<void> no_linklocal_learning(net::Rtnl& rtnl, const net::LinkInfo& bridge, std::set<int>& done) {
    if (done.count(bridge.ifindex) != 0) return Ok{};
    net::Message m;
    m.start<ifinfomsg>(RTM_NEWLINK)->ifi_index = bridge.ifindex;
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    // The kernel takes IFLA_INFO_DATA only with the link's own kind.
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "bridge");
    nlattr* data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
    br_boolopt_multi opt{};
    opt.optval = opt.optmask = 1u << BR_BOOLOPT_NO_LL_LEARN;
    mnl_attr_put(m.nlh, IFLA_BR_MULTI_BOOLOPT, sizeof opt, &opt);
    mnl_attr_nest_end(m.nlh, data);
    mnl_attr_nest_end(m.nlh, info);
    UB_TRYV(rtnl.request(m.nlh, "stop bridge " + bridge.name + " learning MACs from link-local frames"));
    done.insert(bridge.ifindex);
    return Ok{};
}


// The engine's outcome as the reply, the fds and the verdict the server acts on.
Outcome outcome_of(grant::Outcome g) {
    Outcome o;
    o.record = std::move(g.record);
    o.reply.message = g.message;
    o.verdict = g.verdict;
    switch (g.verdict) {
    case grant::Verdict::Granted:
        o.reply.status = protocol::Status::Granted;
        o.reply.vnet_hdr = g.tap->tap.vnet_hdr;
        o.reply.nfds = static_cast<std::uint16_t>(g.tap->tap.queues.size());
        o.reply.ifname = g.tap->tap.name;
        o.reply.mac = g.tap->mac;
        o.reply.mtu = g.tap->mtu;
        o.reply.peer_ifindex = static_cast<std::uint32_t>(g.tap->peer_ifindex);
        o.queues = std::move(g.tap->tap.queues);
        o.ifindex = g.tap->ifindex;
        o.undo = std::move(g.tap->undo);
        break;
    case grant::Verdict::Denied:
        o.reply.status = protocol::Status::Denied;
        o.reply.refused = g.refused;
        break;
    case grant::Verdict::Failed: o.reply.status = protocol::Status::Failed; break;
    case grant::Verdict::AskPolkit: break;
    }
    return o;
}

// The granted tap's guest, made known to its bridge before it sends a
// frame (announce.h); the record says what could not be.
void announce(Outcome& o, const protocol::Request& req, const policy::Terms& terms, Announcer& announcer) {
    Result<int> bridge = o.undo.rtnl().ifindex(req.bridge);
    std::string missed = bridge.ok() ? announcer.add(o.ifindex, *bridge, terms.guest_mac, terms.limits.ips)
                                     : bridge.error().message();
    if (!missed.empty()) o.record.detail += ", not announced to the bridge: " + missed;
}

// A lease's tap: named as asked, labelled with when it expires (epoch
// seconds: the label outlives the daemon); that expiry. It is made
// persistent as it is made (join_lease).
long long make_lease(net::TapSpec& spec, const protocol::Request& req, std::uint32_t seconds) {
    spec.name = req.tap_name;
    spec.label.lease = static_cast<long long>(std::time(nullptr)) + seconds;
    spec.label.held = req.tied;
    return *spec.label.lease;
}

// net::make_bridged_tap's Join for a lease: the tap made persistent
// (TUNSETPERSIST), so that it stays once our fds close, before it is
// labelled: every event that shows a lease's label shows it persistent, as
// the link monitor expects (protocol::tampered). Then it joins its bridge.
Result<net::Made> join_lease(net::BridgedTap out, net::TapSpec spec, const net::LinkInfo& bridge,
                             net::StepHook hook) {
    Result<void> persist = system::ioctl(out.tap.fd(), TUNSETPERSIST, 1UL,
                                         "cannot make " + out.tap.name + " persistent (TUNSETPERSIST)");
    UB_TRYV(net::port_step(out, hook, std::move(persist), "after-persist"));
    return net::join_bridge(std::move(out), std::move(spec), bridge, hook);
}

// What only userbridged makes (grant::Resources::make): a routed tap, a
// macvtap (whose queues macvtaps opens: `opened` names it), a veth pair,
// a lease; else a tap, as the helper makes it. A pinned port's bridge
// learns from no link-local frame before the port exists.
Result<net::Made> make_port(const Asked& asked, const Means& means, int& opened, net::Rtnl rtnl, net::TapSpec spec,
                            const policy::Terms& terms) {
    Macvtaps* macvtaps = means.macvtaps;
    const protocol::Request& req = asked.req;
    if (terms.limits.mode == policy::Mode::Routed) {
        // Its filter is in before_attach (the grant's terms); its routes
        // once it is up.
        auto routes = [filters = means.filters](int ifindex) -> Result<void> {
            if (!filters) return Error::msg("userbridged routes no tap without libnftables");
            return filters->route_up(ifindex);
        };
        return net::make_routed_tap(std::move(rtnl), std::move(spec), req.bridge, fault::at, routes);
    }
    if (terms.limits.mode == policy::Mode::Macvtap) {
        if (!macvtaps) return Error::msg("userbridged cannot watch macvtaps");
        auto open = [macvtaps, &opened](const std::string& ifname, int ifindex, int n) {
            opened = ifindex;
            return macvtaps->open_queues(ifname, ifindex, n);
        };
        return net::make_macvtap(std::move(rtnl), std::move(spec), req.bridge, req.queues, open, fault::at);
    }
    net::LinkInfo bridge = UB_TRY(net::find_bridge(rtnl, req.bridge));
    if (terms.has_mac) UB_TRYV(no_linklocal_learning(rtnl, bridge, *means.linklocal_off));
    if (!req.netns_peer.empty())
        return net::make_bridged_veth(std::move(rtnl), std::move(spec), bridge,
                                      {asked.veth.netns_fd, req.netns_peer, asked.veth.serial}, fault::at);
    return net::make_bridged_tap(std::move(rtnl), std::move(spec), bridge, fault::at,
                                 req.kind == protocol::Kind::Lease ? join_lease : net::join_bridge);
}

}  // namespace

// Which of the policy's files the caller would have read, asked of the
// kernel with their filesystem identity on (fs_identity.h): the helper reads
// them as the caller, so the kernel's answer is the helper's; and again
// with the account's groups in the group database added, when they add
// any (policy::readable_views).
Result<policy::Readable> readable_by(const policy::Policy& policy, const policy::Credentials& who) {
    return policy::readable_views(who, [&](const std::vector<gid_t>& groups) -> Result<std::vector<bool>> {
        Result<std::vector<bool>> readable = privilege::with_fs_identity(
            who.uid, who.gid, groups, [&] { return policy::readable_now(policy); }, fault::at);
        // Not a failed syscall but a file replaced or come since the load: the
        // rules we hold are not what the files say, and only a reload can tell.
        if (!readable.ok() && readable.error().code() == 0)
            return Error::msg(readable.error().message() +
                              "; refusing until userbridged reloads it (systemctl reload userbridged)");
        return readable;
    });
}

void refill_tun(SpareFds& spare) {
    if (spare.tun.valid()) return;
    Result<UniqueFd> tun = net::open_tun();
    if (tun.ok()) spare.tun = std::move(*tun);  // else the next grant opens its own, and says why not
}

Outcome handle(const Means& means, const Asked& asked) {
    const grant::Caller& who = asked.who;
    const protocol::Request& req = asked.req;
    Filters* filters = means.filters;
    Macvtaps* macvtaps = means.macvtaps;
    SpareFds& spare = *means.spare;
    // The groups are the ones the caller's process runs with, as for a
    // helper they run, from the kernel, and the account's in the group
    // database too (userbridge-acl(5), group=), which the server asked for
    // when the policy has a rule or a file they could bear on
    // (Server::await_groups).
    Result<policy::Readable> readable = readable_by(*means.policy, who.ids);
    if (!readable.ok()) {
        Outcome o;
        o.record = grant::record_for(who, req);
        return refuse(std::move(o), readable.error());
    }
    grant::Resources res;
    res.readable = &*readable;
    res.terms = [&who, &req, derive = policy::deriver_for(*means.mac_key)](const policy::Decision& d) {
        return policy::terms_of(d, derive, who.ids.uid, req.vm_name, req.bridge);
    };
    res.polkit = [answer = asked.polkit](policy::Decision& d, Refused& refused, audit::AuditRecord& rec) {
        return decide_by(answer, d, refused, rec);
    };
    res.names = means.names;
    res.hook = fault::at;
    // The account's quota: its subordinate uids are counted with it.
    res.live_checks = [subuids = means.subuids, live = means.live_links](const policy::Terms& terms,
                                                                       net::TapSpec& spec) {
        auto account = [subuids](uid_t uid) { return subuids->account_of(uid); };
        net::begin_live_checks(spec, {terms.limits.max_taps, std::nullopt, 0, account, live});
    };
    std::optional<policy::Terms> pinned;  // the terms, when they set the guest MAC
    // A lease: its length by the deciding rule, then its tap (begin_act).
    std::uint32_t lease_seconds = 0;
    std::optional<long long> expiry;
    res.daemon_check = [&req, &lease_seconds, filters](const policy::Decision& d) -> std::optional<Refusal> {
        if (!req.netns_peer.empty()) return net::veth_refusal(d);
        if (req.kind != protocol::Kind::Lease) return std::nullopt;
        policy::ChecksumGuard guard = filters && filters->exact_csum_guard() ? policy::ChecksumGuard::Exact
                                                                              : policy::ChecksumGuard::Missing;
        std::variant<std::uint32_t, Refusal> length = policy::lease_length(d, req.lease_seconds, guard);
        if (const Refusal* no = std::get_if<Refusal>(&length)) return *no;
        lease_seconds = std::get<std::uint32_t>(length);
        return std::nullopt;
    };
    res.begin_act = [&](const policy::Terms& terms, net::TapSpec& spec) -> Result<void> {
        if (req.kind == protocol::Kind::Lease) expiry = make_lease(spec, req, lease_seconds);
        if (terms.has_mac) pinned = terms;
        // A guest with a virtio_net_hdr names where the kernel writes a
        // checksum it asks for (NEEDS_CSUM's csum_start and csum_offset),
        // and the kernel writes it where a port sends the frame on without
        // checksum offload (skb_checksum_help): after every filter, two
        // bytes of the guest's choosing in a field the filter checked (an
        // ARP sender, a source address; review item 24-5). A port whose
        // frames are judged by their content (a pinned MAC, mode=routed's
        // addresses) gets the exact checksum guard on its ingress, which
        // lets the kernel write a checksum only where no rule reads, and
        // split only what the rules judged by headers every piece repeats
        // (net/csum_guard.h); where that guard could not be loaded, a tap
        // gets no header: each frame is then as the filter saw it. A
        // macvtap's guard goes on in pin_macvtap (item 27-1).
        bool judged = terms.has_mac || terms.limits.mode == policy::Mode::Routed;
        bool exact = judged && filters && filters->exact_csum_guard();
        if (judged && !exact) spec.vnet = net::VnetHdr::Off;
        // A veth's namespace end is the caller's: no header to leave off.
        if (judged && !exact && !req.netns_peer.empty())
            return Error::msg("the ACL pins a MAC, and userbridged cannot pin a veth pair without its exact "
                              "checksum guard, which it could not load (its log says why)");
        if (policy::needs_filter(terms.limits) && (!filters || !filters->available()))
            return Error::msg(std::string("the ACL ") + (terms.has_mac ? "pins a MAC" : "sets a rate") +
                              ", but userbridged runs without libnftables");
        // The guard goes on before the port is on its bridge or routed, so
        // that no frame of its guest passes unguarded.
        auto guarded = [filters, exact](auto then) {
            return [filters, exact, then = std::move(then)](const std::string& ifname, int ifindex) -> Result<void> {
                if (exact) UB_TRYV(filters->guard_port(ifindex));
                return then(ifname, ifindex);
            };
        };
        if (terms.limits.mode == policy::Mode::Routed) {
            if (!filters || !filters->available())
                return Error::msg("the ACL routes the tap (mode=routed), but userbridged runs without libnftables");
            // An address the host routes already (another guest of a rule
            // listing it too, or the host's own) is refused before anything
            // is made: the tap's own route to it, added once the tap is up,
            // would be refused only after its owner could send from it
            // (review item 33-6). Grants are made one at a time, on one
            // thread: no other can route it in between.
            if (std::optional<policy::IpPrefix> a = UB_TRY(net::routed_already(terms.limits.ips)))
                return Error::msg(policy::format_ip_prefix(*a) + " is routed elsewhere already (another guest "
                                  "of this rule holds it?)");
            spec.before_attach = guarded([filters, uplink = req.bridge, addrs = terms.limits.ips](
                                             const std::string& ifname, int ifindex) {
                return filters->route(ifname, ifindex, uplink, addrs);
            });
            return Ok{};
        }
        // A macvtap is no bridge port: its pin is a chain of its own.
        if (terms.limits.mode == policy::Mode::Macvtap) {
            if (terms.has_mac)
                spec.before_attach = [filters, mac = terms.guest_mac](const std::string& ifname, int ifindex) {
                    return filters->pin_macvtap(ifname, ifindex, mac);
                };
            return Ok{};
        }
        if (std::optional<net::Guard> guard = net::guard_for(terms))
            spec.before_attach = guarded([filters, g = *guard](const std::string&, int ifindex) {
                return filters->add(ifindex, g);
            });
        return Ok{};
    };
    res.rtnl = [&](net::TapSpec& spec) -> Result<net::Rtnl> {
        if (spare.tun.valid()) spec.tuns.push_back(std::move(spare.tun));
        Result<net::Rtnl> rtnl = spare.rtnl ? Result<net::Rtnl>(std::move(*spare.rtnl)) : net::Rtnl::open();
        spare.rtnl.reset();
        return rtnl;
    };
    int macvtap = 0;  // the one whose queues were opened
    policy::Mode mode = policy::Mode::Bridge;
    res.make = [&](net::Rtnl rtnl, net::TapSpec spec, const policy::Terms& terms) {
        mode = terms.limits.mode;
        return make_port(asked, means, macvtap, std::move(rtnl), std::move(spec), terms);
    };
    grant::Outcome g = grant::grant(who, req, *means.policy, std::move(res));
    // Failed after its queues were opened: the macvtap is deleted (TapUndo), and its node goes.
    if (macvtap && g.verdict != grant::Verdict::Granted) macvtaps->forget(macvtap);
    Outcome o = outcome_of(std::move(g));
    if (o.verdict != grant::Verdict::Granted) return o;
    // The guest MAC the rule pins, which the reply names; a macvtap's
    // address is its guest's.
    if (pinned) o.reply.pinned_mac = pinned->guest_mac;
    if (mode == policy::Mode::Macvtap) o.reply.pinned_mac = o.reply.mac;
    if (mode != policy::Mode::Bridge) o.record.detail += ", " + std::string(policy::mode_name(mode));
    // Only a bridge port's guest is announced to a bridge.
    if (pinned && pinned->limits.mode == policy::Mode::Bridge && means.announcer)
        announce(o, req, *pinned, *means.announcer);
    if (!req.netns_peer.empty())
        o.record.detail += ", veth pair: its end " + req.netns_peer + " in the caller's network namespace";
    if (expiry)
        o.record.detail += ", leased until " + std::to_string(*expiry) + (req.tied ? " or its connection closes" : "");
    return o;
}

}  // namespace ub::daemon
