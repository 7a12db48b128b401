#include "daemon/filters.h"

#include <utility>

namespace ub::daemon {

Filters Filters::open() {
    Filters f;
    Result<net::Nft> nft = net::Nft::open();
    if (nft.ok()) f.nft_.emplace(std::move(*nft));
    else f.why_ = nft.error().message();
    return f;
}

Result<void> Filters::collect_dead() {
    inherited_ = UB_TRY(net::collect_dead(*nft_));
    return Ok{};
}

Result<void> Filters::reconcile() {
    if (!nft_) return Ok{};
    UB_TRYV(net::update_table(*nft_));
    return collect_dead();
}

Result<void> Filters::add(const std::string& ifname, int ifindex, const net::Guard& guard) {
    if (!nft_) return Error::msg(why_);
    net::GuardCommands commands = net::guard_commands(ifname, ifindex, guard);
    // One transaction: when it fails, nothing of it was added.
    UB_TRYV(net::guard_tap(*nft_, commands));
    // Should the grant fail after this, the tap dies, and tap_gone deletes them.
    guarded_[ifindex] = std::move(commands);
    return Ok{};
}

Result<void> Filters::tap_gone(int ifindex) {
    auto it = guarded_.find(ifindex);
    if (it == guarded_.end()) return inherited_ ? collect_dead() : Result<void>(Ok{});
    net::GuardCommands commands = std::move(it->second);
    guarded_.erase(it);
    return net::unguard_tap(*nft_, commands);
}

Result<void> Filters::events_lost(const std::set<int>& live) {
    if (!nft_) return Ok{};
    for (auto it = guarded_.begin(); it != guarded_.end();)
        it = live.count(it->first) ? std::next(it) : guarded_.erase(it);
    // One listing collects ours and any other dead tap's at once.
    return collect_dead();
}

namespace {

constexpr const char* kMacvtapTable = "netdev userbridge_macvtap";

std::string macvtap_chain(int ifindex) { return "mvt" + std::to_string(ifindex); }

}  // namespace

Result<void> Filters::pin_macvtap(const std::string& ifname, int ifindex, const Mac& mac) {
    if (!nft_) return Error::msg(why_);
    std::string t = kMacvtapTable, c = macvtap_chain(ifindex), m = format_mac(mac);
    // One transaction: the chain comes with its rules or not at all. The
    // name is checked (ifname_problem) and ours ("mvt" and digits).
    return nft_->run("add table " + t + "\n" +
                     "add chain " + t + " " + c + " { type filter hook egress device \"" + ifname +
                     "\" priority filter; policy accept; }\n" +
                     "add rule " + t + " " + c + " ether saddr != " + m + " drop\n" +
                     "add rule " + t + " " + c + " arp saddr ether != " + m + " drop\n");
}

void Filters::macvtap_gone(int ifindex) {
    if (nft_) (void)nft_->run("delete chain " + std::string(kMacvtapTable) + " " + macvtap_chain(ifindex) + "\n");
}

Result<void> Filters::macvtaps_live(const std::set<int>& live) {
    if (!nft_) return Ok{};
    Result<std::string> table = nft_->list("list table " + std::string(kMacvtapTable));
    if (!table.ok()) return Ok{};  // no table: no chain
    std::string gone;
    for (std::size_t at = 0; (at = table->find("chain mvt", at)) != std::string::npos;) {
        at += 9;
        std::size_t end = table->find_first_not_of("0123456789", at);
        std::string digits = table->substr(at, end - at);
        if (digits.empty() || digits.size() > 9 || live.count(std::stoi(digits))) continue;
        gone += "delete chain " + std::string(kMacvtapTable) + " mvt" + digits + "\n";
    }
    return gone.empty() ? Result<void>(Ok{}) : nft_->run(gone);
}

}  // namespace ub::daemon
