#include "daemon/log_budget.h"

#include <algorithm>

namespace ub::daemon {

bool LogBudget::admit(uid_t account, Clock::time_point now) {
    if (all_.until <= now) all_ = {now + window_, 0, 0};
    auto [it, fresh] = windows_.try_emplace(account);
    Window& w = it->second;
    if (fresh) w.until = now + window_;
    if (w.written >= per_account_ || all_.written >= in_all_) {
        ++w.unwritten;
        return false;
    }
    ++w.written;
    ++all_.written;
    return true;
}

std::vector<LogBudget::Unwritten> LogBudget::take_ended(Clock::time_point now) {
    std::vector<Unwritten> ended;
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (it->second.until > now) {
            ++it;
            continue;
        }
        if (it->second.unwritten != 0) ended.push_back({it->first, it->second.unwritten, window_});
        it = windows_.erase(it);
    }
    return ended;
}

LogBudget::Clock::time_point LogBudget::next_end() const {
    auto first = Clock::time_point::max();
    for (const auto& [account, w] : windows_) first = std::min(first, w.until);
    return first;
}

}  // namespace ub::daemon
