#include "daemon/filters.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "net/rtnl.h"
#include "protocol/tap_label.h"

namespace ub::daemon {

Filters Filters::open() {
    Filters f;
    Result<net::Nft> nft = net::Nft::open();
    Result<net::NftBatch> batch = nft.ok() ? net::NftBatch::open() : Result<net::NftBatch>(nft.error());
    if (!batch.ok()) {
        f.why_ = batch.error().message();
        return f;
    }
    f.nft_.emplace(std::move(*nft));
    f.batch_.emplace(std::move(*batch));
    return f;
}

Result<void> Filters::collect_dead() {
    inherited_ = UB_TRY(net::collect_dead(*nft_));
    return Ok{};
}

// At -450, before conntrack's defragmentation (-400), which would join a
// fragment that came up a port to others of the same datagram from the
// bridge, and let the whole go on as the last one's.
Result<void> Filters::guard_ports() {
    if (!nft_) return Error::msg(why_);
    std::string group = std::to_string(net::kPortGroup);
    std::string text;
    for (auto [family, hook] : {std::pair{"inet", "prerouting"}, {"arp", "input"}})
        text += std::string("add table ") + family + " userbridge_ports\n" + "delete table " + family +
                " userbridge_ports\n" + "add table " + family + " userbridge_ports\n" + "add chain " + family +
                " userbridge_ports " + hook + " { type filter hook " + hook + " priority -450; policy accept; }\n" +
                "add rule " + family + " userbridge_ports " + hook + " meta iifgroup " + group + " counter drop\n";
    return nft_->run(text);
}

Result<void> Filters::guard_ports_again() {
    auto now = std::chrono::steady_clock::now();
    if (!nft_ || now - ports_looked_ < kPortsLook) return Ok{};
    ports_looked_ = now;
    std::string tables = UB_TRY(nft_->list("list tables"));
    if (tables.find("table inet userbridge_ports") != std::string::npos &&
        tables.find("table arp userbridge_ports") != std::string::npos)
        return Ok{};
    return guard_ports();
}

Result<void> Filters::reconcile() {
    if (!nft_) return Ok{};
    Result<void> current = net::update_table(*nft_);
    current_ = current.ok();
    UB_TRYV(current);
    inherited_routes_ = UB_TRY(collect_dead_routes());
    return collect_dead();
}

Result<void> Filters::add(int ifindex, const net::Guard& guard) {
    if (!nft_) return Error::msg(why_);
    // A table that could not be brought up to date as we started would
    // hold the tap to an older release's rules: until it is, no grant.
    if (!current_) {
        UB_TRYV(net::update_table(*nft_));
        current_ = true;
    }
    net::TapElements elements = net::tap_elements(ifindex, guard);
    // One transaction: when it fails, nothing of it was added.
    UB_TRYV(net::guard_tap(*nft_, *batch_, elements));
    // Should the grant fail after this, the tap dies, and tap_gone deletes them.
    guarded_[ifindex] = std::move(elements);
    return Ok{};
}

Result<void> Filters::tap_gone(int ifindex) {
    if (auto r = routed_.find(ifindex); r != routed_.end()) {
        Routed gone = std::move(r->second);
        routed_.erase(r);
        return unroute(gone);
    }
    if (inherited_routes_) inherited_routes_ = UB_TRY(collect_dead_routes());
    auto it = guarded_.find(ifindex);
    if (it == guarded_.end()) return inherited_ ? collect_dead() : Result<void>(Ok{});
    net::TapElements elements = std::move(it->second);
    guarded_.erase(it);
    return batch_->remove(elements);
}

Result<void> Filters::start_learning() {
    if (!nft_) return Error::msg(why_);
    return net::start_learning(*nft_);
}

// An entry is keyed by its tap's ifindex, which the kernel never reuses:
// named by the live tap that has it, it is never put to a later tap of the
// same name, which may be another user's.
//
// Reading the sets holds up every request behind it, and costs more than
// their size (the kernel walks a set from its start again for each part
// of a dump): for two full sets, about a second. Any user may ask, so the
// table is read again only once 20 times as long as the last reading took
// has passed (at least a second): whatever the sets hold, status queries
// keep the daemon busy for at most a twentieth of its time.
Result<std::vector<Filters::SeenOnTap>> Filters::seen() {
    if (!nft_) return Error::msg(why_);
    auto start = std::chrono::steady_clock::now();
    if (start < seen_next_) return seen_;
    seen_ = read_seen();  // a reading that fails waits its turn too
    auto end = std::chrono::steady_clock::now();
    seen_next_ = end + std::max<std::chrono::steady_clock::duration>(std::chrono::seconds(1), 20 * (end - start));
    return seen_;
}

Result<std::vector<Filters::SeenOnTap>> Filters::read_seen() {
    std::vector<net::SeenAt> listed = UB_TRY(net::dump_seen());
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    std::map<int, net::LinkInfo> taps;
    for (net::LinkInfo& l : UB_TRY(rtnl.list_links("tun"))) taps[l.ifindex] = std::move(l);
    std::vector<SeenOnTap> out;
    for (net::SeenAt& s : listed) {
        auto tap = taps.find(s.ifindex);
        if (tap == taps.end()) continue;  // gone: its entries expire
        s.seen.port = tap->second.name;
        std::optional<protocol::TapLabel> label = protocol::parse_label(tap->second.alias);
        out.push_back({std::move(s.seen), label ? std::optional<uid_t>(label->uid) : std::nullopt});
    }
    return out;
}

Result<void> Filters::events_lost(const std::set<int>& live) {
    if (!nft_) return Ok{};
    for (auto it = guarded_.begin(); it != guarded_.end();)
        it = live.count(it->first) ? std::next(it) : guarded_.erase(it);
    for (auto it = routed_.begin(); it != routed_.end();) {
        if (live.count(it->first)) {
            ++it;
            continue;
        }
        (void)unroute(it->second);
        it = routed_.erase(it);
    }
    inherited_routes_ = UB_TRY(collect_dead_routes());
    // One listing collects ours and any other dead tap's at once.
    return collect_dead();
}

namespace {

constexpr const char* kMacvtapTable = "netdev userbridge_macvtap";

std::string macvtap_chain(int ifindex) { return "mvt" + std::to_string(ifindex); }

// What a pinned tap's rules on the bridge hold (net/mac_pin.cpp), for one
// macvtap: its source MAC and ARP's sender; no VLAN-tagged frame, whose
// inner ARP or neighbour discovery would name any MAC (review item 2); no
// NS, NA or RS whose link-layer address option names another MAC, nor one
// with a second option (review item 24-4): LLA is the option's length
// byte (1) and the MAC, the 56 bits after its type byte. A
// transport-header load (@th) past the packet's end matches nothing, so
// the length rules come first. `rule` starts each line ("add rule T C ").
std::string macvtap_rules(const std::string& rule, const Mac& m) {
    const char* const body[] = {
        "ether type { 8021q, 8021ad, 0x9100, 0x9200, 0x9300 } drop",
        "ether saddr != MAC drop",
        "arp saddr ether != MAC drop",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 length > 32 drop",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,192,8 { 1, 2 } @th,200,56 != LLA drop",
        "icmpv6 type nd-router-solicit ip6 length > 16 drop",
        "icmpv6 type nd-router-solicit @th,64,8 1 @th,72,56 != LLA drop",
    };
    char lla[17];
    std::snprintf(lla, sizeof lla, "0x01%02x%02x%02x%02x%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    std::string out, mac = format_mac(m);
    for (std::string line : body) {
        if (std::size_t at = line.find("MAC"); at != std::string::npos) line.replace(at, 3, mac);
        if (std::size_t at = line.find("LLA"); at != std::string::npos) line.replace(at, 3, lla);
        out += rule + line + "\n";
    }
    return out;
}

// A live macvtap's chain as an older release made it (its MAC and ARP
// rules alone, before review item 24-4), in `table`'s listing at `at`:
// the commands that give it every rule of ours; none for a chain that has
// them, or whose MAC is not where ours is.
std::string older_pin(const std::string& table, std::size_t at, const std::string& chain) {
    std::size_t end = table.find("\n\t}", at);
    std::string_view body = std::string_view(table).substr(at, end == std::string::npos ? end : end - at);
    constexpr std::string_view kSource = "ether saddr != ";
    std::size_t mac_at = body.find(kSource);
    if (body.find("8021q") != std::string_view::npos || mac_at == std::string_view::npos) return "";
    Result<Mac> mac = parse_mac(body.substr(mac_at + kSource.size(), 17), nullptr);
    if (!mac.ok()) return "";
    std::string t = kMacvtapTable;
    return "flush chain " + t + " " + chain + "\n" +
           macvtap_rules("add rule " + t + " " + chain + " ", *mac);
}

}  // namespace

Result<void> Filters::guard_macvtap(int ifindex) {
    if (!csum_guard_) return Error::msg("userbridged loaded no checksum guard");
    if (!csum_guard_->ok()) return csum_guard_->error();
    return attach_guard(ifindex, net::CsumGuard::Side::Egress);
}

Result<void> Filters::guard_port(int ifindex) {
    if (!exact_csum_guard()) return Error::msg("userbridged loaded no exact checksum guard");
    return attach_guard(ifindex, net::CsumGuard::Side::Ingress);
}

Result<void> Filters::refresh_guard() {
    if (!csum_guard_ || !csum_guard_->ok()) return Ok{};
    if (!guard_rtnl_) guard_rtnl_.emplace(UB_TRY(net::Rtnl::open()));
    Result<void> r = csum_guard_->value().refresh(*guard_rtnl_);
    if (!r.ok()) guard_rtnl_.reset();
    return r;
}

Result<void> Filters::attach_guard(int ifindex, net::CsumGuard::Side side) {
    if (!guard_rtnl_) guard_rtnl_.emplace(UB_TRY(net::Rtnl::open()));
    Result<void> r = csum_guard_->value().attach(*guard_rtnl_, ifindex, side);
    if (!r.ok()) guard_rtnl_.reset();  // the next attach starts on a socket of its own
    return r;
}

Result<void> Filters::pin_macvtap(const std::string& ifname, int ifindex, const Mac& mac) {
    if (!nft_) return Error::msg(why_);
    if (Result<void> r = guard_macvtap(ifindex); !r.ok())
        return r.error().context("cannot pin macvtap " + ifname + "'s MAC without its checksum guard");
    std::string t = kMacvtapTable, c = macvtap_chain(ifindex);
    // One transaction: the chain comes with its rules or not at all. The
    // name is checked (ifname_problem) and ours ("mvt" and digits).
    return nft_->run("add table " + t + "\n" +
                     "add chain " + t + " " + c + " { type filter hook egress device \"" + ifname +
                     "\" priority filter; policy accept; }\n" +
                     macvtap_rules("add rule " + t + " " + c + " ", mac));
}

void Filters::macvtap_gone(int ifindex) {
    if (nft_) (void)nft_->run("delete chain " + std::string(kMacvtapTable) + " " + macvtap_chain(ifindex) + "\n");
}

Result<void> Filters::macvtaps_live(const std::set<int>& live) {
    if (!nft_) return Ok{};
    Result<std::string> table = nft_->list("list table " + std::string(kMacvtapTable));
    if (!table.ok()) return Ok{};  // no table: no chain
    std::string commands;
    for (std::size_t at = 0; (at = table->find("chain mvt", at)) != std::string::npos;) {
        at += 9;
        std::size_t end = table->find_first_not_of("0123456789", at);
        std::string digits = table->substr(at, end - at);
        if (digits.empty() || digits.size() > 9) continue;
        if (live.count(std::stoi(digits))) commands += older_pin(*table, at, "mvt" + digits);
        else commands += "delete chain " + std::string(kMacvtapTable) + " mvt" + digits + "\n";
    }
    return commands.empty() ? Result<void>(Ok{}) : nft_->run(commands);
}

}  // namespace ub::daemon

namespace ub::daemon {

namespace {

bool has_v6(const std::vector<policy::IpPrefix>& addrs) {
    for (const policy::IpPrefix& a : addrs)
        if (a.v6) return true;
    return false;
}

// Runs each line alone, ignoring errors: elements that are gone already.
void run_each(net::Nft& nft, const std::string& commands) {
    std::size_t start = 0;
    while (start < commands.size()) {
        std::size_t nl = commands.find('\n', start);
        (void)nft.run(commands.substr(start, nl - start));
        start = nl == std::string::npos ? commands.size() : nl + 1;
    }
}

}  // namespace

Result<void> Filters::ensure_routed_table() {
    if (routed_table_) return Ok{};
    if (!nft_->run(std::string("list table ") + net::kRoutedTable).ok()) UB_TRYV(nft_->run(net::routed_table()));
    routed_table_ = true;
    return Ok{};
}

Result<void> Filters::route(const std::string& ifname, int ifindex, const std::string& uplink,
                            const std::vector<policy::IpPrefix>& addrs) {
    if (!nft_) return Error::msg(why_);
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    int up = UB_TRY(rtnl.ifindex(uplink));
    UB_TRYV(ensure_routed_table());
    Routed& r = routed_[ifindex];
    r.tap = {ifindex, ifname, up, uplink, addrs};
    // From here tap_gone undoes what was made: the elements first, so
    // that nothing is forwarded for the tap that the rules do not hold.
    Result<void> added = nft_->run(net::routed_commands(r.tap).add);
    if (!added.ok()) routed_.erase(ifindex);
    return added;
}

Result<void> Filters::route_up(int ifindex) {
    auto r = routed_.find(ifindex);
    if (r == routed_.end()) return Error::msg("tap " + std::to_string(ifindex) + " has no routed elements");
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    return route_steps(rtnl, r->second);
}

Result<void> Filters::route_steps(net::Rtnl& rtnl, Routed& r) {
    if (!UB_TRY(net::ipv4_forwarding(r.tap.uplink_name))) {
        UB_TRYV(nft_->run("add element inet userbridge_routed uplinks { \"" + r.tap.uplink_name + "\" }"));
        UB_TRYV(net::set_ipv4_forwarding(rtnl, r.tap.uplink, true, net::ProxyArp::Leave));
    }
    // The guest's ARP for its gateway and LAN hosts is answered on the tap:
    // each is routed out another device (arp_fwd_proxy).
    UB_TRYV(net::set_ipv4_forwarding(rtnl, r.tap.tap, true, net::ProxyArp::On));
    if (has_v6(r.tap.addrs)) UB_TRYV(net::add_gateway_address(rtnl, r.tap.tap));
    for (const policy::IpPrefix& a : r.tap.addrs) {
        Result<void> routed = net::add_host_route(rtnl, r.tap.tap, a);
        if (!routed.ok() && routed.error().code() == EEXIST)
            return Error::msg(policy::format_ip_prefix(a) + " is routed elsewhere already (another guest of "
                              "this rule holds it?)");
        UB_TRYV(routed);
        UB_TRYV(net::proxy_neighbour(rtnl, r.tap.uplink, a, net::Change::Add));
        r.proxied.push_back(a);
    }
    return Ok{};
}

Result<void> Filters::unroute(const Routed& r) {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<void> out = Ok{};
    for (const policy::IpPrefix& a : r.proxied) {
        Result<void> gone = rtnl.ok() ? net::proxy_neighbour(*rtnl, r.tap.uplink, a, net::Change::Delete)
                                      : Result<void>(rtnl.error());
        if (!gone.ok() && gone.error().code() != ENOENT && gone.error().code() != ENODEV) out = gone;
    }
    run_each(*nft_, net::routed_commands(r.tap).remove);
    if (!rtnl.ok()) return rtnl.error();
    std::string table = UB_TRY(nft_->list(std::string("list table ") + net::kRoutedTable));
    UB_TRYV(forwarding_off_if_unused(*rtnl, table));
    return out;
}

Result<void> Filters::forwarding_off_if_unused(net::Rtnl& rtnl, const std::string& table) {
    std::vector<std::string> used;
    for (const char* set : {"fwd4", "fwd6"})
        if (auto text = net::table_section(table, "set", set))
            for (const std::string& e : net::set_elements(*text)) used.push_back(e);
    auto text = net::table_section(table, "set", "uplinks");
    for (const std::string& up : text ? net::set_elements(*text) : std::vector<std::string>{}) {
        bool in_use = false;
        for (const std::string& e : used) in_use |= e.size() > up.size() && e.ends_with(" . " + up);
        if (in_use) continue;
        bool named = up.size() > 2 && up.front() == '"';
        if (named) {
            Result<int> index = rtnl.ifindex(up.substr(1, up.size() - 2));
            if (index.ok()) UB_TRYV(net::set_ipv4_forwarding(rtnl, *index, false, net::ProxyArp::Leave));
        }
        run_each(*nft_, "delete element inet userbridge_routed uplinks { " + up + " }");
    }
    return Ok{};
}

Result<bool> Filters::collect_dead_routes() {
    Result<std::string> listed = nft_->list(std::string("list table ") + net::kRoutedTable);
    if (!listed.ok()) return false;  // no table: no routed tap was ever granted
    routed_table_ = true;
    const std::string& table = *listed;
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    // Live taps' (address, uplink), whose proxy entries stay.
    std::vector<std::string> live;
    bool inherited = false;
    for (const char* set : {"fwd4", "fwd6"})
        if (auto text = net::table_section(table, "set", set))
            for (const std::string& e : net::set_elements(*text))
                if (!net::is_stale_element(e)) live.push_back(e.substr(e.find(" . ")));
    for (bool v6 : {false, true}) {
        auto text = net::table_section(table, "set", v6 ? "fwd6" : "fwd4");
        for (const std::string& e : text ? net::set_elements(*text) : std::vector<std::string>{}) {
            policy::IpPrefix addr;
            std::string uplink;
            if (!net::dead_route(e, v6, addr, uplink)) continue;
            if (std::find(live.begin(), live.end(), e.substr(e.find(" . "))) != live.end()) continue;
            Result<int> up = rtnl.ifindex(uplink);
            if (up.ok()) (void)net::proxy_neighbour(rtnl, *up, addr, net::Change::Delete);
        }
    }
    for (const char* set : {"taps", "src4", "src6", "fwd4", "fwd6"})
        if (auto text = net::table_section(table, "set", set))
            for (const std::string& e : net::set_elements(*text)) {
                if (net::is_stale_element(e)) run_each(*nft_, "delete element " + std::string(net::kRoutedTable) +
                                                                   " " + set + " { " + e + " }");
                else if (std::string(set) == "taps") inherited = true;
            }
    std::string after = UB_TRY(nft_->list(std::string("list table ") + net::kRoutedTable));
    UB_TRYV(forwarding_off_if_unused(rtnl, after));
    return inherited;
}

}  // namespace ub::daemon
