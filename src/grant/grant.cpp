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

// The decision, with polkit's answer where a rule asks for it, and what
// refused it if it does not allow; nullopt while polkit is still to be asked.
std::optional<policy::Decision> decision(const Caller& who, const protocol::Request& req, const policy::Policy& policy,
                                         const Resources& res, audit::AuditRecord& rec, Refused& refused) {
    policy::Decision d = policy::decide(policy.rules, req.bridge, &who.ids, res.readable);
    if (d.deciding) rec.rule = policy::where(*d.deciding);
    refused = d.ask_polkit ? Refused::NeedsDaemon : Refused::Acl;
    // The helper speaks no D-Bus: its decision's reason says to use the daemon.
    if (!d.ask_polkit || who.front != Front::Daemon) return d;
    if (!res.polkit || !res.polkit(d, refused, rec)) return std::nullopt;
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
    rec.detail = d.reason + (tap.vnet_hdr ? ", vnet_hdr" : "") + (d.limits().isolated ? ", isolated port" : "");
}

Outcome granted(Outcome o, const policy::Decision& d, net::BridgedTap tap) {
    o.verdict = Verdict::Granted;
    o.message = d.reason;
    grant_record(o.record, d, tap.tap, tap.mac);
    o.tap = std::move(tap);
    return o;
}

// A tap on the bridge the request names, or the front end's own port
// (res.make).
Result<net::Made> make_port(net::Rtnl rtnl, net::TapSpec spec, const protocol::Request& req,
                            const policy::Terms& terms, Resources& res) {
    if (res.make) return res.make(std::move(rtnl), std::move(spec), terms);
    net::LinkInfo bridge = UB_TRY(net::find_bridge(rtnl, req.bridge));
    return net::make_bridged_tap(std::move(rtnl), std::move(spec), bridge, res.hook);
}

// The front end's live-tap checks begin, or the outcome that says why
// not. Without them a quota is never granted unlimited.
std::optional<Outcome> begin_checks(Outcome& o, const policy::Terms& terms, net::TapSpec& spec, Resources& res) {
    if (res.live_checks) res.live_checks(terms, spec);
    else if (terms.limits.max_taps >= 0) return failed(std::move(o), Error::msg("this program counts no quotas"));
    return std::nullopt;
}

// What the decision allows, made: the front end's act stage begins, its
// live-tap checks, then the tap.
Outcome act(Outcome o, const Caller& who, const protocol::Request& req, const policy::Decision& d,
            const policy::Terms& terms, Resources& res) {
    net::TapSpec spec = spec_for(who, req, terms, res);
    if (Result<void> r = res.begin_act(terms, spec); !r.ok()) return failed(std::move(o), r.error());
    if (std::optional<Outcome> no = begin_checks(o, terms, spec, res)) return std::move(*no);
    Result<net::Rtnl> rtnl = res.rtnl(spec);
    if (!rtnl.ok()) return failed(std::move(o), rtnl.error());
    if (res.record_before_up)
        spec.before_up = [&o, &d, &res](const net::Tap& tap, const Mac& port) {
            audit::AuditRecord rec = o.record;
            grant_record(rec, d, tap, port);
            res.record_before_up(rec);
            // A failure from here on is an error for this tap, by name.
            o.record.tap = rec.tap;
            o.record.mac = rec.mac;
        };
    Result<net::Made> made = make_port(std::move(*rtnl), std::move(spec), req, terms, res);
    if (!made.ok()) return failed(std::move(o), made.error());
    if (const Refusal* no = std::get_if<Refusal>(&*made)) return denied(std::move(o), req, *no);
    return granted(std::move(o), d, std::move(std::get<net::BridgedTap>(*made)));
}

// userbridged's own refusals (Resources::daemon_check); without its check,
// what only it makes is refused: a persistent tap outlives every process,
// and only the daemon watches and ends it; a veth pair needs the
// namespace fd only its requests carry.
std::optional<Refusal> refused_by_daemon(const protocol::Request& req, const policy::Decision& d, const Resources& res) {
    if (res.daemon_check) return res.daemon_check(d);
    if (req.kind != protocol::Kind::Tap || !req.netns_peer.empty())
        return Refusal{Refused::NeedsDaemon, "only userbridged makes leases and veth pairs"};
    return std::nullopt;
}

// The terms without a front end's (Resources::terms): the rule's limits;
// a rule that sets a guest MAC fails, never granted without it.
Result<policy::Terms> limits_only(const policy::Decision& d) {
    if (d.limits().mac.mode != policy::MacPolicy::None) return Error::msg("this program sets no guest MAC");
    return policy::Terms{d.limits()};
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
    Refused refused = Refused::Acl;
    std::optional<policy::Decision> d = decision(who, req, policy, res, o.record, refused);
    if (!d) {
        o.verdict = Verdict::AskPolkit;
        return o;
    }
    if (!d->allowed) return denied(std::move(o), req, {refused, d->reason});
    // What only userbridged does (routed taps, macvtaps, traffic filters,
    // leases, polkit) the helper refuses, under any rule that asks for it;
    // and so does any program that did not read those options' values.
    if (policy::needs_daemon(d->limits()) && (who.front == Front::Helper || !d->limits().values_read))
        return denied(std::move(o), req, {Refused::NeedsDaemon, policy::daemon_refusal(*d->deciding)});
    if (std::optional<Refusal> over = policy::check_queues(*d, req.queues)) return denied(std::move(o), req, *over);
    if (std::optional<Refusal> no = refused_by_daemon(req, *d, res)) return denied(std::move(o), req, *no);
    Result<policy::Terms> terms = res.terms ? res.terms(*d) : limits_only(*d);
    if (!terms.ok()) return failed(std::move(o), terms.error());
    if (terms->has_mac) o.record.guest_mac = format_mac(terms->guest_mac);
    return act(std::move(o), who, req, *d, *terms, res);
}

}  // namespace ub::grant
