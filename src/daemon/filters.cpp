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

}  // namespace ub::daemon
