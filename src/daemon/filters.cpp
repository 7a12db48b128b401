#include "daemon/filters.h"

#include <utility>

#include "net/rtnl.h"
#include "protocol/tap_label.h"

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

Result<void> Filters::start_learning() {
    if (!nft_) return Error::msg(why_);
    return net::start_learning(*nft_);
}

namespace {

// Taps by name: their ifindex and label.
std::map<std::string, net::LinkInfo> taps_by_name(net::Rtnl& rtnl) {
    std::map<std::string, net::LinkInfo> out;
    if (Result<std::vector<net::LinkInfo>> taps = rtnl.list_links("tun"); taps.ok())
        for (net::LinkInfo& l : *taps) out[l.name] = std::move(l);
    return out;
}

}  // namespace

// nft names a set element's tap by the name its ifindex has as it lists
// (and gives a dead one's ifindex bare). A name kept the same ifindex from
// a dump before the listing to one after it had it during the listing too:
// taking a name from a device needs CAP_NET_ADMIN, and an ifindex is never
// reused. So an element is never put to a later tap of the same name, which
// may be another user's.
Result<std::vector<Filters::SeenOnTap>> Filters::seen() {
    if (!nft_) return Error::msg(why_);
    auto now = std::chrono::steady_clock::now();
    if (now - seen_at_ < std::chrono::seconds(1)) return seen_;
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    std::map<std::string, net::LinkInfo> before = taps_by_name(rtnl);
    std::vector<net::Seen> listed = UB_TRY(net::list_seen(*nft_));
    std::map<std::string, net::LinkInfo> after = taps_by_name(rtnl);
    std::vector<SeenOnTap> out;
    for (net::Seen& s : listed) {
        auto b = before.find(s.port), a = after.find(s.port);
        if (b == before.end() || a == after.end() || b->second.ifindex != a->second.ifindex) continue;
        std::optional<protocol::TapLabel> label = protocol::parse_label(a->second.alias);
        out.push_back({std::move(s), label ? std::optional<uid_t>(label->uid) : std::nullopt});
    }
    seen_ = std::move(out);
    seen_at_ = now;
    return seen_;
}

Result<void> Filters::events_lost(const std::set<int>& live) {
    if (!nft_) return Ok{};
    for (auto it = guarded_.begin(); it != guarded_.end();)
        it = live.count(it->first) ? std::next(it) : guarded_.erase(it);
    // One listing collects ours and any other dead tap's at once.
    return collect_dead();
}

}  // namespace ub::daemon
