#include "grant/grant.h"

#include <utility>
#include <variant>

#include "protocol/tap_label.h"

namespace ub::grant {

namespace {

Outcome refuse(Outcome o, Verdict v, const std::string& message, const std::string& detail) {
    o.verdict = v;
    o.message = message;
    o.record.event = v == Verdict::Denied ? "deny" : "error";
    o.record.detail = detail;
    return o;
}

Outcome failed(Outcome o, const Error& e) {
    return refuse(std::move(o), Verdict::Failed, e.message(), e.message());
}

// The record says why; the caller is told which bridge too.
Outcome denied(Outcome o, const protocol::Request& req, const Refusal& no) {
    o.refused = no.kind;
    return refuse(std::move(o), Verdict::Denied, "access to bridge " + req.bridge + " denied: " + no.reason,
                  no.reason);
}

// What refused a decision that does not allow.
Refused refused_by(const policy::Decision& d, const Resources& res) {
    if (!d.ask_polkit) return Refused::Acl;
    if (!res.polkit) return Refused::NeedsDaemon;
    return res.polkit->prompt ? Refused::PolkitPrompt : Refused::Polkit;
}

// The decision, with polkit's answer where a rule asks for it; nullopt
// while polkit is still to be asked.
std::optional<policy::Decision> decision(const Caller& who, const protocol::Request& req, const policy::Policy& policy,
                                         const Resources& res, audit::AuditRecord& rec) {
    policy::Decision d = policy::decide(policy.rules, req.bridge, &who.ids, res.readable);
    if (d.deciding) rec.rule = policy::where(*d.deciding);
    // The helper speaks no D-Bus: its decision's reason says to use the daemon.
    if (!d.ask_polkit || who.front != Front::Daemon) return d;
    if (!res.polkit) return std::nullopt;
    rec.polkit = res.polkit->what;
    if (res.polkit->yes) return policy::polkit_granted(d);
    d.reason = "polkit decides (auth=polkit at " + rec.rule + "): " + res.polkit->what;
    return d;
}

// The tap's spec, from the request, the terms and what the front end gave.
net::TapSpec spec_for(const Caller& who, const protocol::Request& req, const policy::Terms& terms,
                      Resources& res) {
    net::TapSpec spec;
    spec.vnet = req.vnet_hdr ? net::VnetHdr::IfSupported : net::VnetHdr::Off;
    spec.owner = who.ids.uid;
    spec.names = res.names;
    spec.isolated = terms.limits.isolated;
    spec.label = protocol::TapLabel{who.ids.uid, req.vm_name, std::nullopt, req.queues, std::nullopt};
    if (terms.has_mac) spec.label.mac = terms.guest_mac;
    spec.tuns = std::move(res.tuns);
    return spec;
}

// `rec` once the tap is made: its name and port MAC, and a grant's words.
void grant_record(audit::AuditRecord& rec, const policy::Decision& d, const net::Tap& tap, const Mac& port) {
    rec.event = "grant";
    rec.tap = tap.name;
    rec.mac = format_mac(port);
    rec.detail = d.reason + (tap.vnet_hdr ? ", vnet_hdr" : "") + (d.limits().isolated ? ", isolated port" : "") +
                 (d.limits().mode == policy::Mode::Routed    ? ", routed"
                  : d.limits().mode == policy::Mode::Macvtap ? ", macvtap"
                                                             : "");
}

Outcome granted(Outcome o, const policy::Decision& d, net::BridgedTap tap, std::optional<Mac> pinned_mac) {
    o.verdict = Verdict::Granted;
    o.message = d.reason;
    grant_record(o.record, d, tap.tap, tap.mac);
    o.pinned_mac = pinned_mac;
    o.tap = std::move(tap);
    return o;
}

// A tap on the bridge the request names (spec.routed: on no bridge, for
// the uplink it names), or the front end's own port there (res.make: a
// veth pair).
Result<net::Made> make_tap(net::Rtnl rtnl, net::TapSpec spec, const protocol::Request& req, Resources& res) {
    net::LinkInfo bridge = UB_TRY(spec.routed ? net::find_uplink(rtnl, req.bridge) : net::find_bridge(rtnl, req.bridge));
    if (res.make) return res.make(std::move(rtnl), std::move(spec), bridge);
    while (spec.tuns.size() < static_cast<std::size_t>(req.queues)) spec.tuns.push_back(UB_TRY(net::open_tun()));
    return net::make_bridged_tap(std::move(rtnl), std::move(spec), bridge, res.hook);
}

// The front end's live-tap checks begin (the quota lock, held in spec),
// or the outcome that says why not. Without them a quota is never
// granted unlimited.
std::optional<Outcome> begin_checks(Outcome& o, const Caller& who, const policy::Terms& terms, net::TapSpec& spec,
                                    Resources& res) {
    Result<bool> begun = res.live_checks ? res.live_checks(terms, spec)
                         : terms.limits.max_taps < 0 ? Result<bool>(true)
                                                     : Result<bool>(Error::msg("this program counts no quotas"));
    if (!begun.ok()) return failed(std::move(o), begun.error());
    if (*begun) return std::nullopt;
    std::string busy = "the quota lock ubq" + std::to_string(who.account) +
                       " is held by another request of yours; try again";
    return refuse(std::move(o), Verdict::LockBusy, busy, busy);
}

// What the decision allows, made: the front end's act stage begins, its
// live-tap checks (the quota lock before anything is made for the tap: a
// request that finds it held costs little each time it is tried again),
// then the tap.
Outcome act(Outcome o, const Caller& who, const protocol::Request& req, const policy::Decision& d,
            const policy::Terms& terms, Resources& res) {
    net::TapSpec spec = spec_for(who, req, terms, res);
    if (Result<void> r = res.begin_act(terms, spec); !r.ok()) return failed(std::move(o), r.error());
    if (std::optional<Outcome> no = begin_checks(o, who, terms, spec, res)) return std::move(*no);
    Result<net::Rtnl> rtnl = res.rtnl(spec);
    if (!rtnl.ok()) return failed(std::move(o), rtnl.error());
    policy::Mode mode = terms.limits.mode;
    spec.routed = mode == policy::Mode::Routed;
    std::optional<Mac> pinned_mac = spec.label.mac;
    if (res.record_before_up)
        spec.before_up = [&o, &d, &res](const net::Tap& tap, const Mac& port) {
            audit::AuditRecord rec = o.record;
            grant_record(rec, d, tap, port);
            res.record_before_up(rec);
            // A failure from here on is an error for this tap, by name.
            o.record.tap = rec.tap;
            o.record.mac = rec.mac;
        };
    // A macvtap (mode=macvtap) is the front end's to make, on the NIC the
    // request names; its address is its guest's, which the reply names.
    Result<net::Made> made = mode != policy::Mode::Macvtap ? make_tap(std::move(*rtnl), std::move(spec), req, res)
                             : res.make_macvtap ? res.make_macvtap(std::move(*rtnl), std::move(spec), req.bridge, req.queues)
                                                : Result<net::Made>(Error::msg("this program makes no macvtaps"));
    if (!made.ok()) return failed(std::move(o), made.error());
    if (const Refusal* no = std::get_if<Refusal>(&*made)) return denied(std::move(o), req, *no);
    net::BridgedTap& tap = std::get<net::BridgedTap>(*made);
    if (mode == policy::Mode::Macvtap) pinned_mac = tap.mac;
    return granted(std::move(o), d, std::move(tap), pinned_mac);
}

// Why a lease is refused, if it is: only userbridged makes leases (a
// persistent tap outlives every process, and only the daemon watches and
// ends it), and only under a rule with lease= (its hook says).
std::optional<Refusal> lease_refusal(const protocol::Request& req, const policy::Decision& d,
                                     const Resources& res) {
    if (req.kind != protocol::Kind::Lease) return std::nullopt;
    if (!res.lease) return Refusal{Refused::NeedsDaemon, "only userbridged makes leases (userbridge lease)"};
    return res.lease(d, req.lease_seconds);
}

}  // namespace

audit::AuditRecord record_for(const Caller& who, const protocol::Request& req) {
    audit::AuditRecord r = audit::begin(who.front == Front::Helper ? "helper" : "daemon", who.user, who.ids.uid,
                                        who.pid, req.bridge);
    r.vm = req.vm_name;
    r.queues = req.queues;
    return r;
}

Outcome grant(const Caller& who, const protocol::Request& req, const policy::Policy& policy, Resources res) {
    Outcome o;
    o.record = record_for(who, req);
    std::optional<policy::Decision> d = decision(who, req, policy, res, o.record);
    if (!d) {
        o.verdict = Verdict::AskPolkit;
        return o;
    }
    if (!d->allowed) return denied(std::move(o), req, {refused_by(*d, res), d->reason});
    // What only userbridged does (routed taps, macvtaps, traffic filters,
    // leases, polkit) the helper refuses, under any rule that asks for it;
    // and so does any program that did not read those options' values.
    if (policy::needs_daemon(d->limits()) && (who.front == Front::Helper || !d->limits().values_read))
        return denied(std::move(o), req, {Refused::NeedsDaemon, policy::daemon_refusal(*d->deciding)});
    // A veth pair's host end joins a bridge; its peer is live in the
    // caller's namespace from the start, so it is no routed tap (whose
    // filters come after it is up) and no macvtap.
    if (!req.netns_peer.empty() && d->limits().mode != policy::Mode::Bridge)
        return denied(std::move(o), req,
                      {Refused::Acl, policy::where(*d->deciding) + " is mode=" +
                                         std::string(policy::mode_name(d->limits().mode)) +
                                         ": a veth pair joins a bridge only"});
    if (std::optional<Refusal> over = policy::check_queues(*d, req.queues)) return denied(std::move(o), req, *over);
    if (std::optional<Refusal> no = lease_refusal(req, *d, res)) return denied(std::move(o), req, *no);
    Result<policy::Terms> terms = policy::terms_of(*d, res.derive_mac, who.ids.uid, req.vm_name, req.bridge);
    if (!terms.ok()) return failed(std::move(o), terms.error());
    if (terms->has_mac) o.record.guest_mac = format_mac(terms->guest_mac);
    return act(std::move(o), who, req, *d, *terms, res);
}

}  // namespace ub::grant
