// Quota arithmetic (policy/quota): which taps count against a user's
// max-taps, and that concurrent requests never exceed it.
#include <gtest/gtest.h>

#include <algorithm>

#include "policy/acl.h"  // kUnlimited
#include "policy/quota.h"

using namespace ub::policy;
using ub::Mac;

TEST(Quota, CountsTheUsersTapsOnTheBridgeOrOnNone) {
    std::vector<TapSeen> taps = {
        {5, 4711, 2},   // alice, on br (ifindex 2)
        {6, 4711, 9},   // alice, another bridge: not counted
        {7, 4712, 2},   // bob
        {8, 4711, 0},   // alice, labelled, not yet on the bridge
        {9, -1, 2},     // not labelled (whoever its tun owner is): not counted
        {10, -1, 0},    // ours, not labelled yet
        {11, 4711, 0},  // alice, a later request
        {12, -1, 0},    // not labelled yet: not counted
    };
    QuotaUse use = count_quota(taps, 4711, 2, 10);
    EXPECT_EQ(use.held, 3);  // 5, 8, 11
    EXPECT_EQ(use.rank, 3);  // 5, 8, then ours
    EXPECT_FALSE(check_quota(3, use, "br"));
    EXPECT_FALSE(check_quota(kUnlimited, use, "br"));
    auto over = check_quota(2, use, "br0");
    ASSERT_TRUE(over);
    EXPECT_EQ(over->reason,
              "quota reached: you hold 3 taps on br0 (or being set up), and the ACL allows at most 2");
    EXPECT_TRUE(check_quota(0, count_quota({}, 4711, 2, 10), "br"));
}

// However two requests interleave, at most max-taps of them keep their tap:
// every ordering of "create" and "count" for three requests under a quota
// of 2 with nothing held before.
TEST(Quota, ConcurrentRequestsNeverExceedIt) {
    // Each request creates (gets the next ifindex) and later counts; model
    // all 6!/(2!2!2!) interleavings of three create/count pairs.
    std::string ops = "aabbcc";
    std::sort(ops.begin(), ops.end());
    do {
        std::vector<TapSeen> live;
        int index[3] = {0, 0, 0};
        bool created[3] = {false, false, false};
        int next = 100, kept = 0;
        for (char op : ops) {
            int r = op - 'a';
            if (!created[r]) {
                created[r] = true;
                index[r] = next++;
                live.push_back({index[r], 4711, 0});
            } else {
                bool ok = !check_quota(2, count_quota(live, 4711, 2, index[r]), "br");
                for (TapSeen& t : live)
                    if (t.ifindex == index[r]) t.master = ok ? 2 : -1;
                if (ok) ++kept;
                else std::erase_if(live, [&](const TapSeen& t) { return t.ifindex == index[r]; });
            }
        }
        EXPECT_LE(kept, 2) << ops;
        EXPECT_GE(kept, 1) << ops;  // the lowest ifindex always stays
    } while (std::next_permutation(ops.begin(), ops.end()));
}
