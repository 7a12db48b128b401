#include "cli/admin.h"
#include "cli/common.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "base/json.h"
#include "base/number.h"
#include "base/record_value.h"
#include "base/system.h"
#include "net/rtnl.h"
#include "compat/qemu_helper.h"
#include "accounts/accounts.h"
#include "accounts/database_groups.h"
#include "grant/grant.h"
#include "policy/ip_prefix.h"
#include "policy/acl.h"
#include "policy/explain.h"
#include "base/names.h"
#include "policy/loader.h"
#include "policy/readable.h"
#include "policy/mac_key.h"
#include "privilege/fs_identity.h"
#include "protocol/tap_label.h"

namespace ub::cli {

namespace {

// As a login session would have them: the groups from the group database.
Result<Account> account(const std::string& user) {
    auto uid = parse_decimal(user, kMaxId);  // all digits: a uid, as chown(1) takes it
    std::optional<accounts::Account> a = UB_TRY(
        uid ? accounts::account_by_uid(static_cast<uid_t>(*uid)) : accounts::account_by_name(user));
    if (!a) return Error::msg("no such user: " + printable(user));
    std::vector<gid_t> groups = UB_TRY(accounts::database_groups(*a));
    return as_caller(a->name, {a->uid, a->gid, std::move(groups)});
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

json::Value limits_json(const policy::Limits& l) {
    json::Value v = json::Object{};
    v.set("max_taps", l.max_taps == policy::kUnlimited ? json::Value(nullptr) : json::Value(l.max_taps));
    v.set("max_queues", l.max_queues);
    const char* mac = l.mac.mode == policy::MacPolicy::Fixed    ? "fixed"
                      : l.mac.mode == policy::MacPolicy::Prefix ? "prefix"
                                                                : "any";
    v.set("mac", mac);
    v.set("servers", l.servers);
    json::Value ips = json::Array{};
    for (const policy::IpPrefix& ip : l.ips) ips.push(policy::format_ip_prefix(ip));
    v.set("ips", ips);
    v.set("rate_bits", l.rate_bits ? json::Value(static_cast<unsigned long>(l.rate_bits)) : json::Value(nullptr));
    v.set("isolated", l.isolated);
    v.set("text", policy::format_limits(l));
    return v;
}

}  // namespace

int cmd_check(const std::vector<std::string>& argv, const std::string& default_acl) {
    std::string path = default_acl;
    bool as_json = false;
    for (const std::string& a : argv) {
        if (a == "--help" || a == "-h") {
            out("Usage: userbridge check [--json] [FILE]\n"
                "Checks an ACL file and everything it includes, as the helper would read it,\n"
                "and reports every problem as FILE:LINE. Default FILE: " + default_acl + ".\n"
                "--json: one JSON object on stdout (docs/JSON.md).\n"
                "Exit status 0 when the configuration is valid, 1 otherwise.");
            return 0;
        }
        if (a == "--json") {
            as_json = true;
            continue;
        }
        if (!a.empty() && a[0] == '-')
            return failed(as_json || std::count(argv.begin(), argv.end(), "--json") > 0, "check",
                          "check: unknown option '" + printable(a) + "'", 2);
        path = a;
    }
    std::vector<std::string> problems, warnings, notes;
    policy::LoadOptions opt = with_nss();
    opt.problems = &problems;
    Result<policy::Policy> p = policy::load(path, opt);
    if (!p.ok()) problems.push_back(p.error().message());
    if (p.ok()) {
        warnings = p->warnings;
        for (const std::string& s : p->skipped)
            notes.push_back("include skipped, as the helper would for this user: " + s);
        for (const policy::Rule& r : p->rules)
            if (std::string why = policy::daemon_only(r); !why.empty())
                notes.push_back(policy::where(r) + ": '" + policy::format_rule(r) + "' needs userbridged: " + why +
                                "; the helper refuses it, userbridge-client (QEMU's helper=) and userbridge run "
                                "go through the daemon");
        for (std::string& w : compat::qemu_warnings(compat::privileged_qemu_helpers(), *p))
            warnings.push_back(std::move(w));
        for (const std::string& b : bridges_with_unset_mac(*p))
            warnings.push_back("bridge " + b + " has no MAC of its own: it takes the lowest of its ports', which a "
                               "VM's tap may set; give it one (ip link set " + b +
                               " address MAC, or MACAddress= in systemd-networkd)");
    }
    if (as_json) {
        json::Value v = json_head("check");
        v.set("file", path);
        v.set("valid", problems.empty());
        v.set("rules", p.ok() ? json::Value(p->rules.size()) : json::Value(nullptr));
        v.set("files", p.ok() ? json::Value(p->files.size()) : json::Value(nullptr));
        v.set("problems", strings(problems));
        v.set("warnings", strings(warnings));
        v.set("notes", strings(notes));
        out(v.dump());
        return problems.empty() ? 0 : 1;
    }
    for (const std::string& e : problems) std::fprintf(stderr, "error: %s\n", e.c_str());
    for (const std::string& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    for (const std::string& n : notes) std::fprintf(stderr, "note: %s\n", n.c_str());
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
    bool as_json = std::count(argv.begin(), argv.end(), "--json") > 0;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "--help" || argv[i] == "-h") {
            out("Usage: userbridge explain [--user=USER] --br=BRIDGE [--vm=NAME] [--config=FILE] [--json]\n"
                "Says which ACL rules apply to USER (default: you) on BRIDGE, which one\n"
                "decides and why, and the limits and guest MAC it gives. USER's view of the\n"
                "files is applied: an include they cannot read does not count for them\n"
                "(explaining another user takes root). --json: one JSON object on stdout\n"
                "(docs/JSON.md).");
            return 0;
        }
        if (argv[i] == "--json" || take(argv, i, "--user", user) || take(argv, i, "--br", bridge) ||
            take(argv, i, "--vm", vm) || take(argv, i, "--config", path))
            continue;
        return failed(as_json, "explain", "explain: unknown argument '" + printable(argv[i]) + "'", 2);
    }
    if (bridge.empty()) return failed(as_json, "explain", "explain: --br=BRIDGE is required", 2);
    if (std::string why = ifname_problem(bridge); !why.empty())
        return failed(as_json, "explain", "bridge name '" + printable(bridge) + "' " + why, 2);
    if (std::string why = vm_name_problem(vm); !why.empty())
        return failed(as_json, "explain", "VM name '" + printable(vm) + "' " + why, 2);
    Result<Account> who = user.empty() ? Result<Account>(self()) : account(user);
    if (!who.ok()) return failed(as_json, "explain", who.error().message());

    Result<policy::Policy> p = policy::load(path, with_nss());
    if (!p.ok())
        return failed(as_json, "explain",
                      p.error().message() + " (every request is refused until it is fixed)");
    json::Value v = json_head("explain");
    v.set("user", who->user);
    // For text: a name from the user database (LDAP's may hold any byte
    // but ':' and a newline) escaped, as in records and `status`.
    const std::string shown = record::value(who->user);
    v.set("uid", static_cast<unsigned long>(who->ids.uid));
    v.set("bridge", bridge);
    v.set("vm", vm.empty() ? json::Value(nullptr) : json::Value(vm));
    // Which files count for them: the kernel's answer, asked as them (root
    // may take anyone's filesystem identity; others explain themselves).
    const policy::Credentials& c = who->ids;
    // userbridged also reads them with the groups the group database adds
    // (policy::readable_views), which a caller explaining themselves
    // cannot put on without CAP_SETGID: then their process's view alone,
    // and a warning that the daemon's may differ.
    std::vector<std::string> warnings = p->warnings;
    policy::Credentials viewer = c;
    if (!policy::groups_beyond_process(c).empty() && !privilege::FsIdentity::may_assume_others()) {
        viewer.account_groups.clear();
        warnings.push_back("which files the groups the group database lists " + shown +
                           " in let them read was not asked (it needs root); userbridged asks it, and a deny "
                           "in such a file holds for them");
    }
    Result<policy::Readable> readable = policy::readable_views(viewer, [&](const std::vector<gid_t>& groups) {
        return privilege::with_fs_identity(c.uid, c.gid, groups, [&] { return policy::readable_now(*p); });
    });
    if (!readable.ok() && readable.error().code() == EACCES) {
        if (!as_json) {
            out(shown + " cannot read " + path + ": every request of theirs is refused");
            return 0;
        }
        v.set("acl_readable", false);
        v.set("lines", json::Array{});
        v.set("allowed", false);
        v.set("rule", nullptr);
        v.set("reason", who->user + " cannot read " + path + ": every request of theirs is refused");
        v.set("limits", nullptr);
        v.set("guest_mac", nullptr);
        v.set("warnings", json::Array{});
        out(v.dump());
        return 0;
    }
    if (!readable.ok()) return failed(as_json, "explain", readable.error().message());
    const policy::Credentials& req = who->ids;
    std::vector<std::string> lines = policy::explain(p->rules, bridge, req, &*readable);
    policy::Decision d = policy::decide(p->rules, bridge, &req, &*readable);
    // A derived MAC needs the key, which only root may read.
    bool derived = d.allowed && d.limits().mac.mode == policy::MacPolicy::Prefix;
    Result<policy::MacKey> key = derived ? policy::load_mac_key(UB_MAC_KEY_PATH) : Error::msg("not needed");
    Result<policy::Terms> t = policy::terms_of(d, policy::deriver_for(key), who->ids.uid, vm, bridge);
    std::string for_vm = vm.empty() ? "" : " for VM " + vm;
    std::vector<std::string> mac_lines;
    if (d.allowed && t.ok() && t->has_mac)
        mac_lines.push_back("guest MAC" + for_vm + ": " + format_mac(t->guest_mac) +
                            " (frames from any other are dropped)");
    else if (derived && !t.ok())
        mac_lines.push_back("guest MAC" + for_vm + ": derived with the MAC key, which could not be read (" +
                            t.error().message() + ")");
    else if (d.allowed && d.limits().mode == policy::Mode::Macvtap)
        mac_lines.push_back("guest MAC" + for_vm + ": the macvtap's, random (userbridge run passes it as {mac}; QEMU's "
                            "helper= cannot learn it: pin one with mac= for such guests)");
    if (as_json) {
        v.set("acl_readable", true);
        lines.insert(lines.end(), mac_lines.begin(), mac_lines.end());
        v.set("lines", strings(lines));
        v.set("allowed", d.allowed);
        v.set("rule", d.deciding ? json::Value(policy::where(*d.deciding)) : json::Value(nullptr));
        v.set("reason", d.reason);
        v.set("limits", d.allowed ? limits_json(d.limits()) : json::Value(nullptr));
        v.set("guest_mac", d.allowed && t.ok() && t->has_mac ? json::Value(format_mac(t->guest_mac))
                                                             : json::Value(nullptr));
        v.set("warnings", strings(warnings));
        out(v.dump());
        return 0;
    }
    out("user " + shown + " (uid " + std::to_string(who->ids.uid) + "), bridge " + bridge + ":");
    for (const std::string& line : lines) out("  " + line);
    for (const std::string& line : mac_lines) out("  " + line);
    for (const std::string& w : warnings) out("  warning: " + w);
    return 0;
}

}  // namespace ub::cli
