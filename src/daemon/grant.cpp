#include "daemon/grant.h"

#include <vector>

#include "base/fault.h"
#include "protocol/tap_label.h"
#include "net/bridge_port.h"
#include "policy/accounts.h"
#include "policy/ifname.h"
#include "privilege/fs_identity.h"

namespace ub::daemon {

namespace {

Outcome refuse(Outcome o, protocol::Status status, const std::string& why) {
    o.reply.status = status;
    o.reply.message = why;
    o.record.event = status == protocol::Status::Denied ? "deny" : "error";
    o.record.detail = why;
    return o;
}

Outcome refuse(Outcome o, const Error& e) {
    return refuse(std::move(o), protocol::Status::Failed, e.message());
}

// Which of the policy's files the caller would have read, asked of the
// kernel with their filesystem identity on (fs_identity.h): the helper reads
// them as the caller, so the kernel's answer is the helper's.
Result<std::vector<bool>> readable_by(const policy::Policy& policy, const policy::Credentials& who) {
    Result<std::vector<bool>> readable = privilege::with_fs_identity(
        who.uid, who.gid, who.groups, [&] { return policy::readable_now(policy); }, fault::at);
    // Not a failed syscall but a file replaced or come since the load: the
    // rules we hold are not what the files say, and only a reload can tell.
    if (!readable.ok() && readable.error().code() == 0)
        return Error::msg(readable.error().message() +
                          "; refusing until userbridged reloads it (systemctl reload userbridged)");
    return readable;
}

}  // namespace

void refill_tun(Kept& kept) {
    if (kept.tun.valid()) return;
    Result<UniqueFd> tun = net::open_tun();
    if (tun.ok()) kept.tun = std::move(*tun);  // else the next grant opens its own, and says why not
}

Outcome handle(const policy::Policy& policy, const Result<policy::MacKey>& mac_key, const Peer& peer,
               const SubUids& subuids, const protocol::Request& req, Kept& kept, net::Nft* nft,
               net::TapNames* names, const PolkitAnswer* polkit) {
    Outcome o;
    // The groups are the ones the caller's process runs with, as for a
    // helper they run (and as userbridge-acl(5) defines group=), from the
    // kernel: no group database lookup per request.
    policy::Credentials who{peer.uid, peer.gid, peer.groups};
    o.record = audit::begin("daemon", "?", peer.uid, audit::peer_pid(peer.pid), req.bridge);
    o.record.vm = req.vm_name;
    o.record.queues = req.queues;

    Result<std::vector<bool>> readable = readable_by(policy, who);
    if (!readable.ok()) return refuse(std::move(o), readable.error());
    policy::Requester requester = policy::requester_of(who);
    policy::Decision d = policy::decide(policy.rules, req.bridge, &requester, &*readable);
    if (d.deciding) o.record.rule = policy::where(*d.deciding);
    auto deny = [&](const std::string& why) {
        return refuse(std::move(o), protocol::Status::Denied,
                      "access to bridge " + req.bridge + " denied: " + why);
    };
    if (d.ask_polkit && !polkit) {
        o.ask_polkit = true;
        return o;
    }
    if (d.ask_polkit) {
        o.record.polkit = polkit->what;
        if (!polkit->yes) return deny("polkit decides (auth=polkit at " + o.record.rule + "): " + polkit->what);
        d = policy::polkit_granted(d);
    }
    if (!d.allowed) return deny(d.reason);
    if (auto over = policy::check_queues(d, req.queues)) return deny(over->reason);
    Result<policy::Terms> terms = policy::terms_of(d, mac_key, peer.uid, req.vm_name, req.bridge);
    if (!terms.ok()) return refuse(std::move(o), terms.error());
    // The lock first, before anything is opened for the tap: a request
    // that finds it held costs little each time it is tried again.
    UniqueFd lock;
    if (terms->limits.max_taps >= 0) {
        Result<UniqueFd> lock_tun = net::open_tun();
        if (!lock_tun.ok()) return refuse(std::move(o), lock_tun.error());
        // The account's lock: its subordinate uids are counted with it.
        Result<bool> held = net::try_quota_lock(*lock_tun, peer.account);
        if (!held.ok()) return refuse(std::move(o), held.error());
        if (!*held) {
            o.lock_busy = true;
            return refuse(std::move(o), protocol::Status::Failed,
                          "the quota lock ubq" + std::to_string(peer.account) +
                              " is held by another request of yours (a helper of yours, stopped?); try again");
        }
        lock = std::move(*lock_tun);
    }

    Result<net::Rtnl> rtnl = kept.rtnl ? Result<net::Rtnl>(std::move(*kept.rtnl)) : net::Rtnl::open();
    kept.rtnl.reset();
    if (!rtnl.ok()) return refuse(std::move(o), rtnl.error());
    Result<net::LinkInfo> bridge = net::find_bridge(*rtnl, req.bridge);
    if (!bridge.ok()) return refuse(std::move(o), bridge.error());
    net::TapSpec spec;
    if (kept.tun.valid()) spec.tuns.push_back(std::move(kept.tun));
    for (int q = static_cast<int>(spec.tuns.size()); q < req.queues; ++q) {
        Result<UniqueFd> tun = net::open_tun();
        if (!tun.ok()) return refuse(std::move(o), tun.error());
        spec.tuns.push_back(std::move(*tun));
    }
    spec.vnet = req.vnet_hdr ? net::VnetHdr::IfSupported : net::VnetHdr::Off;
    spec.owner = peer.uid;
    spec.names = names;
    spec.max_taps = terms->limits.max_taps;
    spec.account = [&subuids](uid_t uid) { return subuids.account_of(uid); };
    spec.lock_tun = std::move(lock);
    spec.lock = net::QuotaLock::Held;
    protocol::TapLabel label{peer.uid, req.vm_name, std::nullopt, req.queues, std::nullopt};
    if (terms->filtered() && !nft)
        return refuse(std::move(o), protocol::Status::Failed,
                      std::string("the ACL ") + (terms->has_mac ? "pins a MAC" : "sets a rate") +
                          ", but userbridged runs without libnftables");
    if (terms->has_mac) {
        label.mac = terms->guest_mac;
        o.record.guest_mac = policy::format_mac_bytes(terms->guest_mac);
    }
    spec.guard = net::guard_for(*terms);
    spec.nft = nft;
    spec.label = label;
    Result<net::Made> made = net::make_bridged_tap(*rtnl, std::move(spec), *bridge, fault::at);
    if (!made.ok()) return refuse(std::move(o), made.error());
    if (auto* no = std::get_if<Refusal>(&*made)) return deny(no->reason);
    net::BridgedTap* tap = &std::get<net::BridgedTap>(*made);

    o.reply.status = protocol::Status::Granted;
    o.reply.vnet_hdr = tap->tap.vnet_hdr;
    o.reply.nfds = static_cast<std::uint16_t>(tap->tap.queues.size());
    o.reply.ifname = tap->tap.name;
    o.reply.mac = tap->mac;
    o.reply.mtu = tap->mtu;
    o.reply.guest_mac = label.mac;
    o.reply.message = d.reason;
    o.record.event = "grant";
    o.record.tap = tap->tap.name;
    o.record.mac = net::format_mac(tap->mac);
    o.record.detail = d.reason + (tap->tap.vnet_hdr ? ", vnet_hdr" : "");
    o.queues = std::move(tap->tap.queues);
    o.ifindex = tap->ifindex;
    kept.rtnl = std::move(*rtnl);
    return o;
}

}  // namespace ub::daemon
