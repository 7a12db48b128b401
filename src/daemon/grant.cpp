#include "daemon/grant.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

#include "base/fault.h"
#include "net/bridge_port.h"
#include "policy/ifname.h"

namespace ub::daemon {

policy::Credentials credentials_of(const Peer& peer, std::string& user_name) {
    policy::Credentials who{peer.uid, peer.gid, {}};
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    user_name = "?";
    if (getpwuid_r(peer.uid, &pw, buf, sizeof buf, &found) != 0 || !found) return who;
    user_name = policy::printable(found->pw_name, 32);
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0 && n > 64) {
        groups.resize(static_cast<std::size_t>(std::min(n, 65536)));
        if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0) n = 0;
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    who.groups = std::move(groups);
    return who;
}

namespace {

Outcome refuse(Outcome o, protocol::Status status, const std::string& why) {
    o.reply.status = status;
    o.reply.message = why;
    o.record.event = status == protocol::Status::Denied ? "deny" : "error";
    o.record.detail = why;
    return o;
}

}  // namespace

Outcome handle(const policy::Policy& policy, const Peer& peer, const protocol::Request& req) {
    Outcome o;
    std::string user;
    policy::Credentials who = credentials_of(peer, user);
    o.record = audit::AuditRecord{"error", user, peer.uid, peer.pid, req.bridge, {}, {}, {}, "daemon"};

    Result<std::vector<bool>> readable = policy::readable_files(policy, who);
    if (!readable.ok()) return refuse(std::move(o), protocol::Status::Denied, readable.error().message());
    policy::Decision d = policy::decide(policy.rules, req.bridge, &*readable);
    if (!d.allowed)
        return refuse(std::move(o), protocol::Status::Denied,
                      "access to bridge " + req.bridge + " denied: " + d.reason);

    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return refuse(std::move(o), protocol::Status::Failed, rtnl.error().message());
    Result<net::LinkInfo> bridge = net::find_bridge(*rtnl, req.bridge);
    if (!bridge.ok()) return refuse(std::move(o), protocol::Status::Failed, bridge.error().message());
    Result<UniqueFd> tun = net::open_tun();
    if (!tun.ok()) return refuse(std::move(o), protocol::Status::Failed, tun.error().message());
    auto vnet = req.vnet_hdr ? net::VnetHdr::IfSupported : net::VnetHdr::Off;
    Result<net::BridgedTap> tap =
        net::make_bridged_tap(*rtnl, std::move(*tun), *bridge, vnet, peer.uid, fault::at);
    if (!tap.ok()) return refuse(std::move(o), protocol::Status::Failed, tap.error().message());

    o.reply.status = protocol::Status::Granted;
    o.reply.vnet_hdr = tap->tap.vnet_hdr;
    o.reply.nfds = 1;
    o.reply.ifname = tap->tap.name;
    o.reply.mac = tap->mac;
    o.reply.mtu = tap->mtu;
    o.reply.message = d.reason;
    o.record.event = "grant";
    o.record.tap = tap->tap.name;
    o.record.mac = net::format_mac(tap->mac);
    o.record.detail = d.reason + (tap->tap.vnet_hdr ? ", vnet_hdr" : "") +
                      (req.vm_name.empty() ? "" : ", vm " + req.vm_name);
    o.tap = std::move(tap->tap.fd);
    return o;
}

}  // namespace ub::daemon
