// `userbridge status`: the caller's bridges, quotas and taps, and where
// their VMs are: the guest MACs behind each tap (the bridge's forwarding
// table) and the addresses those guests use (what userbridged saw them
// claim, net/seen.h, and the host's neighbour table). Unprivileged: every
// table here is one any user may dump; userbridged answers only for the
// caller's own taps (all of them, for root).
#include <linux/neighbour.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>

#include "base/names.h"
#include "base/record_value.h"
#include "cli/admin.h"
#include "cli/common.h"
#include "client/daemon_client.h"
#include "net/neighbours.h"
#include "net/rtnl.h"
#include "policy/acl.h"
#include "policy/explain.h"
#include "protocol/seen_wire.h"
#include "protocol/tap_label.h"

#ifndef UB_SOCKET_PATH
#error "UB_SOCKET_PATH must be set at build time"
#endif

namespace ub::cli {

namespace {

// How long status waits for userbridged's answer.
constexpr std::chrono::milliseconds kSeenTimeout{3000};

struct Address {
    std::string text;
    int family = 4;
    std::string source;   // "seen": userbridged saw the guest use it; "neighbour": the host's table
    long expires_s = -1;  // for "seen"
};

struct Guest {
    std::vector<Address> addresses;
    bool in_fdb = false;  // the bridge's forwarding table has it on this port now
};

// "lease until 2026-12-03 18:00:00 UTC", and "or while its command runs".
std::string lease_words(const protocol::TapLabel& label) {
    std::time_t t = static_cast<std::time_t>(*label.lease);
    std::tm tm{};
    char when[64] = "?";
    if (gmtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string("lease until ") + when + (label.held ? " or while its command runs" : "");
}

struct TapView {
    net::LinkInfo link;
    protocol::TapLabel label;
    std::string bridge;  // empty: on none
    std::map<Mac, Guest> guests;
};

// What the host's tables say: the bridges' forwarding entries and the
// neighbours, each empty (with a note why) when the kernel will not say.
struct Tables {
    std::vector<net::Neighbour> fdb, neighbours;
    std::vector<std::string> notes;
};

Tables read_tables() {
    Tables t;
    if (auto fdb = net::list_neighbours(AF_BRIDGE); fdb.ok()) t.fdb = std::move(*fdb);
    else t.notes.push_back(fdb.error().message());
    for (int family : {AF_INET, AF_INET6}) {
        if (auto n = net::list_neighbours(family); n.ok())
            t.neighbours.insert(t.neighbours.end(), n->begin(), n->end());
        else t.notes.push_back(n.error().message());
    }
    return t;
}

std::string format_neighbour(const net::Neighbour& n) {
    protocol::SeenAddress a;
    a.v6 = n.family == AF_INET6;
    a.addr = n.addr;
    return protocol::format_address(a);
}

void add_address(Guest& g, Address a) {
    auto same = [&](const Address& b) { return b.text == a.text; };
    if (std::none_of(g.addresses.begin(), g.addresses.end(), same)) g.addresses.push_back(std::move(a));
}

// The guests behind `tap`: MACs the bridge learned on its port and those
// userbridged saw there, with their addresses; then what the host's
// neighbour table on the tap's bridge says of those MACs.
void fill_guests(TapView& tap, const Tables& t, const std::vector<protocol::SeenAddress>& seen) {
    for (const net::Neighbour& n : t.fdb)
        if (n.ifindex == tap.link.ifindex && net::is_learned_guest_mac(n)) tap.guests[n.mac].in_fdb = true;
    for (const protocol::SeenAddress& s : seen)
        if (s.port == tap.link.name)
            add_address(tap.guests[s.mac],
                        {protocol::format_address(s), s.v6 ? 6 : 4, "seen", static_cast<long>(s.expires_s)});
    for (const net::Neighbour& n : t.neighbours) {
        bool usable = !(n.state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP));
        auto g = tap.guests.find(n.mac);
        if (usable && n.ifindex == tap.link.master && g != tap.guests.end())
            add_address(g->second, {format_neighbour(n), n.family == AF_INET6 ? 6 : 4, "neighbour", -1});
    }
}

// What userbridged saw, or why there is nothing.
struct Learned {
    std::vector<protocol::SeenAddress> seen;
    std::string error;  // empty: the daemon answered
    bool truncated = false;
};

Learned ask_daemon() {
    Learned l;
    if (!client::daemon_socket_present(UB_SOCKET_PATH)) {
        l.error = "userbridged is not running (no " UB_SOCKET_PATH "): only the kernel tables are used";
        return l;
    }
    Result<protocol::SeenReply> r = client::query_seen(UB_SOCKET_PATH, kSeenTimeout);
    if (!r.ok()) {
        l.error = r.error().message();
        return l;
    }
    l.seen = std::move(r->seen);
    l.truncated = r->truncated;
    return l;
}

// The taps with our label that `me` may see: their own, or all for root.
std::vector<TapView> visible_taps(const std::vector<net::LinkInfo>& taps, const std::map<int, std::string>& bridge_of,
                                  uid_t me) {
    std::vector<TapView> out;
    for (const net::LinkInfo& t : taps) {
        std::optional<protocol::TapLabel> label = protocol::parse_label(t.alias);
        if (!label || (me != 0 && label->uid != me)) continue;
        auto br = bridge_of.find(t.master);
        out.push_back({t, *label, br == bridge_of.end() ? "" : br->second, {}});
    }
    return out;
}

struct BridgeView {
    std::string name;
    bool exists;
    policy::Decision decision;
    int held;
};

std::vector<BridgeView> usable_bridges(const policy::Policy& p, const std::set<std::string>& present,
                                       const policy::Credentials& req, const std::vector<TapView>& taps) {
    std::set<std::string> names = present;
    for (const policy::Rule& r : p.rules)
        if (!r.bridge.empty()) names.insert(r.bridge);
    std::vector<BridgeView> out;
    for (const std::string& br : names) {
        policy::Decision d = policy::decide(p.rules, br, &req);
        if (!d.allowed) continue;
        // Quotas count by the label, as the helper and daemon do.
        int held = static_cast<int>(std::count_if(taps.begin(), taps.end(), [&](const TapView& t) {
            return t.bridge == br && t.label.uid == req.uid;
        }));
        out.push_back({br, present.count(br) > 0, d, held});
    }
    return out;
}

// --- text -----------------------------------------------------------------------

void print_text(const Account& me, const Result<policy::Policy>& p, const std::vector<BridgeView>& bridges,
                const std::vector<TapView>& taps, const Learned& learned) {
    out("user " + record::value(me.user) + " (uid " + std::to_string(me.ids.uid) + ")");
    if (!p.ok()) {
        out("bridges: none (the ACL cannot be used: " + p.error().message() + ")");
    } else {
        out("bridges you may use:");
        for (const BridgeView& b : bridges) {
            policy::Limits l = b.decision.limits();
            std::string line = "  " + b.name + (b.exists ? "" : " (does not exist now)");
            line += "  " + policy::format_limits(l) + "  (" + policy::where(*b.decision.deciding) + ")";
            line += "  taps: " + std::to_string(b.held) + " held";
            if (l.max_taps != policy::kUnlimited)
                line += ", " + std::to_string(std::max(0, l.max_taps - b.held)) + " left";
            out(line);
        }
        if (bridges.empty()) out("  none");
    }
    out(me.ids.uid == 0 ? "taps (everyone's):" : "taps you hold:");
    if (taps.empty()) out("  none");
    for (const TapView& t : taps) {
        std::string line = "  " + t.link.name + "  bridge " + (t.bridge.empty() ? "(none)" : t.bridge);
        if (me.ids.uid == 0) line += "  uid " + std::to_string(t.label.uid);
        if (!t.label.vm.empty()) line += "  vm " + record::value(t.label.vm);
        if (t.label.mac) line += "  guest MAC " + format_mac(*t.label.mac) + " (pinned)";
        if (t.label.queues > 1) line += "  queues " + std::to_string(t.label.queues);
        if (t.label.lease) line += "  " + lease_words(t.label);
        if (t.link.kind == "veth") line += "  veth pair (its other end in a network namespace)";
        out(line);
        for (const auto& [mac, g] : t.guests) {
            std::string addrs;
            for (const Address& a : g.addresses) addrs += (addrs.empty() ? "" : ", ") + a.text;
            out("    guest " + format_mac(mac) + ": " + (addrs.empty() ? "no address seen yet" : addrs));
        }
        if (t.guests.empty()) out("    no guest seen yet");
    }
    if (!learned.error.empty()) out("note: addresses: " + learned.error);
}

// --- JSON -----------------------------------------------------------------------

json::Value tap_json(const TapView& t) {
    json::Value v = json::Object{};
    v.set("name", t.link.name);
    v.set("uid", static_cast<unsigned long>(t.label.uid));
    v.set("bridge", t.bridge.empty() ? json::Value(nullptr) : json::Value(t.bridge));
    v.set("vm", t.label.vm.empty() ? json::Value(nullptr) : json::Value(t.label.vm));
    v.set("pinned_mac", t.label.mac ? json::Value(format_mac(*t.label.mac)) : json::Value(nullptr));
    v.set("queues", t.label.queues);
    v.set("kind", t.link.kind == "veth" ? "veth" : "tap");
    v.set("lease_until", t.label.lease ? json::Value(static_cast<long>(*t.label.lease)) : json::Value(nullptr));
    v.set("lease_tied", t.label.held);
    json::Value guests = json::Array{};
    for (const auto& [mac, g] : t.guests) {
        json::Value gv = json::Object{};
        gv.set("mac", format_mac(mac));
        gv.set("in_forwarding_table", g.in_fdb);
        json::Value addrs = json::Array{};
        for (const Address& a : g.addresses) {
            json::Value av = json::Object{};
            av.set("address", a.text);
            av.set("family", a.family == 6 ? "ipv6" : "ipv4");
            av.set("source", a.source);
            av.set("expires_in", a.expires_s < 0 ? json::Value(nullptr) : json::Value(a.expires_s));
            addrs.push(av);
        }
        gv.set("addresses", addrs);
        guests.push(gv);
    }
    v.set("guests", guests);
    return v;
}

void print_json(const Account& me, const Result<policy::Policy>& p, const std::vector<BridgeView>& bridges,
                const std::vector<TapView>& taps, const Learned& learned) {
    json::Value v = json_head("status");
    v.set("user", me.user);
    v.set("uid", static_cast<unsigned long>(me.ids.uid));
    v.set("acl_error", p.ok() ? json::Value(nullptr) : json::Value(p.error().message()));
    json::Value bs = json::Array{};
    for (const BridgeView& b : bridges) {
        policy::Limits l = b.decision.limits();
        json::Value bv = json::Object{};
        bv.set("name", b.name);
        bv.set("exists", b.exists);
        bv.set("rule", policy::where(*b.decision.deciding));
        bv.set("limits", policy::format_limits(l));
        bv.set("taps_held", b.held);
        bv.set("taps_left", l.max_taps == policy::kUnlimited ? json::Value(nullptr)
                                                             : json::Value(std::max(0, l.max_taps - b.held)));
        bs.push(bv);
    }
    v.set("bridges", bs);
    json::Value ts = json::Array{};
    for (const TapView& t : taps) ts.push(tap_json(t));
    v.set("taps", ts);
    json::Value lv = json::Object{};
    lv.set("available", learned.error.empty());
    lv.set("error", learned.error.empty() ? json::Value(nullptr) : json::Value(learned.error));
    lv.set("truncated", learned.truncated);
    v.set("learning", lv);
    out(v.dump());
}

}  // namespace

int cmd_status(const std::vector<std::string>& argv, const std::string& default_acl) {
    bool as_json = std::count(argv.begin(), argv.end(), "--json") > 0;
    for (const std::string& a : argv) {
        if (a == "--help" || a == "-h") {
            out("Usage: userbridge status [--json]\n"
                "For you: the bridges the ACL lets you use and with what limits, the taps\n"
                "you hold now, how much of each quota is used and left, and for each tap\n"
                "the guest MACs behind it and the addresses they use (root: every tap).\n"
                "--json: one JSON object on stdout (docs/JSON.md).");
            return 0;
        }
        if (a != "--json") return failed(as_json, "status", "status: unknown argument '" + printable(a) + "'", 2);
    }
    Account me = self();
    // Read as the caller, like the helper: their view of the includes.
    Result<policy::Policy> p = policy::load(default_acl, with_nss());
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return failed(as_json, "status", rtnl.error().message());
    Result<std::vector<net::LinkInfo>> bridges = rtnl->list_links("bridge");
    Result<std::vector<net::LinkInfo>> links = rtnl->list_links("tun");
    if (!bridges.ok()) return failed(as_json, "status", bridges.error().message());
    if (!links.ok()) return failed(as_json, "status", links.error().message());
    // Veth pairs granted into network namespaces (userbridge netns) count as taps do.
    Result<std::vector<net::LinkInfo>> veths = rtnl->list_links("veth");
    if (!veths.ok()) return failed(as_json, "status", veths.error().message());
    links->insert(links->end(), veths->begin(), veths->end());
    std::map<int, std::string> bridge_of;
    std::set<std::string> present;
    for (const net::LinkInfo& b : *bridges) {
        bridge_of[b.ifindex] = b.name;
        present.insert(b.name);
    }
    std::vector<TapView> taps = visible_taps(*links, bridge_of, me.ids.uid);
    Learned learned = taps.empty() ? Learned{} : ask_daemon();
    Tables tables = read_tables();
    for (TapView& t : taps) fill_guests(t, tables, learned.seen);
    if (learned.error.empty() && !tables.notes.empty()) learned.error = tables.notes.front();
    std::vector<BridgeView> usable = p.ok() ? usable_bridges(*p, present, me.ids, taps) : std::vector<BridgeView>{};
    if (as_json) print_json(me, p, usable, taps, learned);
    else print_text(me, p, usable, taps, learned);
    return 0;
}

}  // namespace ub::cli
