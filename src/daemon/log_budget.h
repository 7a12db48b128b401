// How many log lines one account's requests may make userbridged write in
// a window. journald keeps a unit's messages of one priority only up to a
// burst in each interval (RateLimitBurst=, by default 10,000 in 30 s) and
// drops the rest, whoever they were about: without a bound, one user's
// stream of refused requests pushed everyone's deny, revoke and release
// records out of the journal (docs/SECURITY.md, review item 32-1). Past
// its bound an account's lines are counted, and one line at the window's
// end says how many.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <vector>

namespace ub::daemon {

class LogBudget {
public:
    using Clock = std::chrono::steady_clock;

    // `per_account` lines an account in a window, `in_all` for every account
    // together; a window starts with an account's first line after the last
    // ended.
    LogBudget(unsigned per_account, unsigned in_all, Clock::duration window)
        : per_account_(per_account), in_all_(in_all), window_(window) {}

    // Whether to write this line of `account`'s; false: it is counted.
    bool admit(uid_t account, Clock::time_point now);

    struct Unwritten {
        uid_t account;
        unsigned count;
        Clock::duration window;
    };
    // The windows that have ended with lines left unwritten, which are
    // forgotten with them.
    std::vector<Unwritten> take_ended(Clock::time_point now);
    // When the first window ends; max() with none open.
    Clock::time_point next_end() const;

private:
    struct Window {
        Clock::time_point until;
        unsigned written = 0;
        unsigned unwritten = 0;
    };
    unsigned per_account_;
    unsigned in_all_;
    Clock::duration window_;
    std::map<uid_t, Window> windows_;
    Window all_;  // every account's lines in one window of its own
};

}  // namespace ub::daemon
