#include "cli/admin.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "base/number.h"
#include "base/record_value.h"
#include "base/system.h"
#include "net/rtnl.h"
#include "accounts/accounts.h"
#include "accounts/database_groups.h"
#include "grant/grant.h"
#include "policy/acl.h"
#include "policy/explain.h"
#include "base/names.h"
#include "policy/loader.h"
#include "policy/mac_key.h"
#include "privilege/fs_identity.h"
#include "protocol/tap_label.h"

namespace ub::cli {

namespace {

void out(const std::string& line) { std::printf("%s\n", line.c_str()); }

int fail(const std::string& msg, int code = 1) {
    std::fprintf(stderr, "userbridge: %s\n", msg.c_str());
    return code;
}

// Loading as the helper does: user= and group= names through NSS.
policy::LoadOptions with_nss() {
    policy::LoadOptions opt;
    opt.user_id = accounts::uid_of_name;
    opt.group_id = accounts::gid_of_name;
    return opt;
}

// A user as the engine would see them asking (grant/grant.h): their ids and
// groups, and their name; as through the helper, which reads as them.
using Account = grant::Caller;
Account as_caller(std::string name, policy::Credentials ids) {
    uid_t uid = ids.uid;
    return {std::move(ids), {}, uid, grant::Front::Helper, std::move(name)};
}

// As a login session would have them: the groups from the group database.
Result<Account> account(const std::string& user) {
    auto uid = parse_decimal(user, kMaxId);  // all digits: a uid, as chown(1) takes it
    std::optional<accounts::Account> a = UB_TRY(
        uid ? accounts::account_by_uid(static_cast<uid_t>(*uid)) : accounts::account_by_name(user));
    if (!a) return Error::msg("no such user: " + printable(user));
    std::vector<gid_t> groups = UB_TRY(accounts::database_groups(*a));
    return as_caller(a->name, {a->uid, a->gid, std::move(groups)});
}

// The caller, with the groups their process really has.
Account self() {
    Account me = as_caller("", {getuid(), getgid(), {}});
    if (Result<std::vector<gid_t>> groups = system::getgroups(); groups.ok())
        me.ids.groups = std::move(*groups);
    Result<std::optional<accounts::Account>> a = accounts::account_by_uid(me.ids.uid);
    me.user = a.ok() && *a ? (*a)->name : std::to_string(me.ids.uid);
    return me;
}

// "1 rule", "2 rules".
std::string counted(std::size_t n, const std::string& noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// "--key=value" or "--key value".
bool take(const std::vector<std::string>& argv, std::size_t& i, const std::string& key,
          std::string& value) {
    const std::string& a = argv[i];
    if (a.rfind(key + "=", 0) == 0) {
        value = a.substr(key.size() + 1);
        return true;
    }
    if (a == key && i + 1 < argv.size()) {
        value = argv[++i];
        return true;
    }
    return false;
}

// NET_ADDR_SET in a device's addr_assign_type: someone set its MAC.
constexpr int kAddrSet = 3;

// Bridges here that the ACL lets someone use, whose MAC was never set: such
// a bridge takes the lowest MAC among its ports, including one that a tap's
// holder sets on their tap (SIOCSIFHWADDR needs no privilege).
std::vector<std::string> bridges_with_unset_mac(const policy::Policy& p) {
    std::vector<std::string> found;
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return found;
    Result<std::vector<net::LinkInfo>> bridges = rtnl->list_links("bridge");
    if (!bridges.ok()) return found;
    for (const net::LinkInfo& b : *bridges) {
        bool named = std::any_of(p.rules.begin(), p.rules.end(), [&](const policy::Rule& r) {
            return r.verb == policy::Verb::Allow && (r.bridge.empty() || r.bridge == b.name);
        });
        int type = -1;
        std::ifstream("/sys/class/net/" + b.name + "/addr_assign_type") >> type;
        if (named && type != kAddrSet) found.push_back(b.name);
    }
    return found;
}

}  // namespace

int cmd_check(const std::vector<std::string>& argv, const std::string& default_acl) {
    std::string path = default_acl;
    for (const std::string& a : argv) {
        if (a == "--help" || a == "-h") {
            out("Usage: userbridge check [FILE]\n"
                "Checks an ACL file and everything it includes, as the helper would read it,\n"
                "and reports every problem as FILE:LINE. Default FILE: " + default_acl + ".\n"
                "Exit status 0 when the configuration is valid, 1 otherwise.");
            return 0;
        }
        if (!a.empty() && a[0] == '-') return fail("check: unknown option '" + printable(a) + "'", 2);
        path = a;
    }
    std::vector<std::string> problems;
    policy::LoadOptions opt = with_nss();
    opt.problems = &problems;
    Result<policy::Policy> p = policy::load(path, opt);
    if (!p.ok()) problems.push_back(p.error().message());
    for (const std::string& e : problems) std::fprintf(stderr, "error: %s\n", e.c_str());
    if (p.ok()) {
        for (const std::string& w : p->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
        for (const std::string& s : p->skipped)
            std::fprintf(stderr, "note: include skipped, as the helper would for this user: %s\n",
                         s.c_str());
        for (const policy::Rule& r : p->rules)
            if (std::string why = policy::daemon_only(r); !why.empty())
                std::fprintf(stderr, "note: %s: '%s' needs userbridged: %s; the helper refuses it, "
                             "userbridge-client (QEMU's helper=) and userbridge run go through the daemon\n",
                             policy::where(r).c_str(), policy::format_rule(r).c_str(), why.c_str());
            else if (r.verb == policy::Verb::Allow && r.limits.lease_max)
                std::fprintf(stderr, "note: %s: leases (lease=) come from userbridged only; the helper grants "
                             "this rule's taps and never a lease\n", policy::where(r).c_str());
        for (const std::string& b : bridges_with_unset_mac(*p))
            std::fprintf(stderr,
                         "warning: bridge %s has no MAC of its own: it takes the lowest of its "
                         "ports', which a VM's tap may set; give it one (ip link set %s address "
                         "MAC, or MACAddress= in systemd-networkd)\n",
                         b.c_str(), b.c_str());
    }
    if (!problems.empty()) {
        std::fprintf(stderr, "%s: %s; the helper would refuse every request\n", path.c_str(),
                     counted(problems.size(), "problem").c_str());
        return 1;
    }
    out(path + ": OK (" + counted(p->rules.size(), "rule") + " in " + counted(p->files.size(), "file") +
        ")");
    return 0;
}

int cmd_explain(const std::vector<std::string>& argv, const std::string& default_acl) {
    std::string user, bridge, vm, path = default_acl;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "--help" || argv[i] == "-h") {
            out("Usage: userbridge explain [--user=USER] --br=BRIDGE [--vm=NAME] [--config=FILE]\n"
                "Says which ACL rules apply to USER (default: you) on BRIDGE, which one\n"
                "decides and why, and the limits and guest MAC it gives. USER's view of the\n"
                "files is applied: an include they cannot read does not count for them\n"
                "(explaining another user takes root).");
            return 0;
        }
        if (take(argv, i, "--user", user) || take(argv, i, "--br", bridge) ||
            take(argv, i, "--vm", vm) || take(argv, i, "--config", path))
            continue;
        return fail("explain: unknown argument '" + printable(argv[i]) + "'", 2);
    }
    if (bridge.empty()) return fail("explain: --br=BRIDGE is required", 2);
    if (std::string why = ifname_problem(bridge); !why.empty())
        return fail("bridge name '" + printable(bridge) + "' " + why, 2);
    if (std::string why = vm_name_problem(vm); !why.empty())
        return fail("VM name '" + printable(vm) + "' " + why, 2);
    Result<Account> who = user.empty() ? Result<Account>(self()) : account(user);
    if (!who.ok()) return fail(who.error().message());

    Result<policy::Policy> p = policy::load(path, with_nss());
    if (!p.ok()) return fail(p.error().message() + " (every request is refused until it is fixed)");
    // Which files count for them: the kernel's answer, asked as them (root
    // may take anyone's filesystem identity; others explain themselves).
    const policy::Credentials& c = who->ids;
    Result<std::vector<bool>> readable =
        privilege::with_fs_identity(c.uid, c.gid, c.groups, [&] { return policy::readable_now(*p); });
    if (!readable.ok() && readable.error().code() == EACCES) {
        out(who->user + " cannot read " + path + ": every request of theirs is refused");
        return 0;
    }
    if (!readable.ok()) return fail(readable.error().message());
    out("user " + who->user + " (uid " + std::to_string(who->ids.uid) + "), bridge " + bridge +
        ":");
    const policy::Credentials& req = who->ids;
    for (const std::string& line : policy::explain(p->rules, bridge, req, &*readable))
        out("  " + line);
    policy::Decision d = policy::decide(p->rules, bridge, &req, &*readable);
    // A derived MAC needs the key, which only root may read.
    bool derived = d.allowed && d.limits().mac.mode == policy::MacPolicy::Prefix;
    Result<policy::MacKey> key = derived ? policy::load_mac_key(UB_MAC_KEY_PATH) : Error::msg("not needed");
    Result<policy::Terms> t = policy::terms_of(d, policy::deriver_for(key), who->ids.uid, vm, bridge);
    std::string for_vm = vm.empty() ? "" : " for VM " + vm;
    if (d.allowed && t.ok() && t->has_mac)
        out("  guest MAC" + for_vm + ": " + format_mac(t->guest_mac) +
            " (frames from any other are dropped)");
    else if (derived && !t.ok())
        out("  guest MAC" + for_vm + ": derived with the MAC key, which could not be read (" +
            t.error().message() + ")");
    for (const std::string& w : p->warnings) out("  warning: " + w);
    return 0;
}

namespace {

// "lease until 2026-12-03 18:00:00 UTC", and "or while its command runs".
std::string lease_words(const protocol::TapLabel& label) {
    std::time_t t = static_cast<std::time_t>(*label.lease);
    std::tm tm{};
    char when[64] = "?";
    if (gmtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string("lease until ") + when + (label.held ? " or while its command runs" : "");
}

}  // namespace

int cmd_status(const std::vector<std::string>& argv, const std::string& default_acl) {
    for (const std::string& a : argv) {
        if (a == "--help" || a == "-h") {
            out("Usage: userbridge status\n"
                "For you: the bridges the ACL lets you use and with what limits, the taps\n"
                "you hold now (and your leases, with their expiry), and how much of each\n"
                "quota is used and left.");
            return 0;
        }
        return fail("status: unknown argument '" + printable(a) + "'", 2);
    }
    Account me = self();
    const policy::Credentials& req = me.ids;
    // Read as the caller, like the helper: their view of the includes.
    Result<policy::Policy> p = policy::load(default_acl, with_nss());
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return fail(rtnl.error().message());
    Result<std::vector<net::LinkInfo>> bridges = rtnl->list_links("bridge");
    Result<std::vector<net::LinkInfo>> taps = rtnl->list_links("tun");
    if (!bridges.ok()) return fail(bridges.error().message());
    if (!taps.ok()) return fail(taps.error().message());
    std::map<int, std::string> name_of;
    for (const net::LinkInfo& b : *bridges) name_of[b.ifindex] = b.name;

    out("user " + record::value(me.user) + " (uid " + std::to_string(me.ids.uid) + ")");
    std::map<std::string, int> held;  // bridge name -> taps held there
    std::vector<std::string> tap_lines;
    // Yours by the label, as quotas count them: the tun owner is the fd
    // holder's to change.
    for (const net::LinkInfo& t : *taps) {
        std::optional<protocol::TapLabel> label = protocol::parse_label(t.alias);
        if (!label || label->uid != me.ids.uid) continue;
        std::string br = t.master && name_of.count(t.master) ? name_of[t.master] : "";
        if (!br.empty()) ++held[br];
        std::string line = "  " + t.name + "  bridge " + (br.empty() ? "(none)" : br);
        if (!label->vm.empty()) line += "  vm " + record::value(label->vm);
        if (label->mac) line += "  guest MAC " + format_mac(*label->mac) + " (pinned)";
        if (label->queues > 1) line += "  queues " + std::to_string(label->queues);
        if (label->lease) line += "  " + lease_words(*label);
        tap_lines.push_back(line);
    }

    if (!p.ok()) {
        out("bridges: none (the ACL cannot be used: " + p.error().message() + ")");
    } else {
        // Bridges that exist here, and those the ACL names.
        std::set<std::string> present, names;
        for (const net::LinkInfo& b : *bridges) present.insert(b.name);
        names = present;
        for (const policy::Rule& r : p->rules)
            if (!r.bridge.empty()) names.insert(r.bridge);
        out("bridges you may use:");
        bool any = false;
        for (const std::string& br : names) {
            policy::Decision d = policy::decide(p->rules, br, &req);
            if (!d.allowed) continue;
            any = true;
            policy::Limits l = d.limits();
            std::string line = "  " + br + (present.count(br) ? "" : " (does not exist now)");
            line += "  " + policy::format_limits(l) + "  (" + policy::where(*d.deciding) + ")";
            int used = held.count(br) ? held[br] : 0;
            line += "  taps: " + std::to_string(used) + " held";
            if (l.max_taps != policy::kUnlimited)
                line += ", " + std::to_string(std::max(0, l.max_taps - used)) + " left";
            out(line);
        }
        if (!any) out("  none");
    }
    out("taps you hold:");
    if (tap_lines.empty()) out("  none");
    for (const std::string& l : tap_lines) out(l);
    return 0;
}

}  // namespace ub::cli
