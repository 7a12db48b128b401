#include "daemon/log_budget.h"

#include <gtest/gtest.h>

using ub::daemon::LogBudget;
using namespace std::chrono_literals;

namespace {

const LogBudget::Clock::time_point t0{};

TEST(LogBudget, AnAccountPastItsBoundIsCountedAndSummedAtTheWindowsEnd) {
    LogBudget b(3, 100, 30s);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.admit(1000, t0 + 1s));
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(b.admit(1000, t0 + 2s));
    EXPECT_EQ(b.next_end(), t0 + 31s);
    EXPECT_TRUE(b.take_ended(t0 + 30s).empty());
    auto ended = b.take_ended(t0 + 31s);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].account, 1000u);
    EXPECT_EQ(ended[0].count, 5u);
    EXPECT_EQ(b.next_end(), LogBudget::Clock::time_point::max());
    EXPECT_TRUE(b.admit(1000, t0 + 32s));  // a new window
}

TEST(LogBudget, OneAccountsFloodLeavesAnothersLinesWritten) {
    LogBudget b(3, 100, 30s);
    for (int i = 0; i < 50; ++i) b.admit(1001, t0);
    EXPECT_TRUE(b.admit(1000, t0 + 1s));
    auto ended = b.take_ended(t0 + 40s);
    ASSERT_EQ(ended.size(), 1u);  // the account within its bound has nothing to sum
    EXPECT_EQ(ended[0].account, 1001u);
    EXPECT_EQ(ended[0].count, 47u);
}

TEST(LogBudget, EveryAccountTogetherIsBoundToo) {
    LogBudget b(3, 10, 30s);
    unsigned written = 0;
    for (uid_t a = 0; a < 20; ++a) written += b.admit(2000 + a, t0) ? 1 : 0;
    EXPECT_EQ(written, 10u);
    EXPECT_EQ(b.take_ended(t0 + 30s).size(), 10u);
    EXPECT_TRUE(b.admit(3000, t0 + 30s));  // the shared window ended too
}

TEST(LogBudget, AWindowWithNothingUnwrittenEndsSilently) {
    LogBudget b(3, 10, 10s);
    EXPECT_TRUE(b.admit(7, t0));
    EXPECT_TRUE(b.take_ended(t0 + 10s).empty());
    EXPECT_EQ(b.next_end(), LogBudget::Clock::time_point::max());
}

}  // namespace
