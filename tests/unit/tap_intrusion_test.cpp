// Whether a multiqueue tap we just made is ours alone, from what the kernel
// reports of it (net::intrusion): our queues and no other, our owner, no
// group. Anything else means another process held a queue of it.
#include <gtest/gtest.h>

#include "net/tap.h"

namespace {

ub::net::LinkInfo tap(int queues, int disabled, long long owner, long long group = -1) {
    ub::net::LinkInfo l;
    l.name = "tap7";
    l.kind = "tun";
    l.tun_num_queues = queues;
    l.tun_num_disabled = disabled;
    l.tun_owner = owner;
    l.tun_group = group;
    return l;
}

TEST(TapIntrusion, OursAlone) { EXPECT_EQ(ub::net::intrusion(tap(4, 0, 4711), 4, 4711), ""); }

TEST(TapIntrusion, AForeignQueueIsCountedAndNamed) {
    EXPECT_EQ(ub::net::intrusion(tap(5, 0, 4711), 4, 4711),
              "another process holds 1 queue(s) of tap7, joined before its owner was set");
}

TEST(TapIntrusion, ADisabledForeignQueueCountsToo) {
    EXPECT_EQ(ub::net::intrusion(tap(2, 3, 4711), 2, 4711),
              "another process holds 3 queue(s) of tap7, joined before its owner was set");
}

TEST(TapIntrusion, AnOwnerOrGroupWeDidNotSet) {
    EXPECT_EQ(ub::net::intrusion(tap(2, 0, 4712), 2, 4711),
              "another process held a queue of tap7 and made uid 4712 its owner");
    EXPECT_EQ(ub::net::intrusion(tap(2, 0, -1), 2, 4711),
              "another process held a queue of tap7 and made uid -1 its owner");
    EXPECT_EQ(ub::net::intrusion(tap(2, 0, 4711, 100), 2, 4711),
              "another process held a queue of tap7 and gave it group 100");
}

TEST(TapIntrusion, NoCountIsNoProof) {
    EXPECT_EQ(ub::net::intrusion(tap(-1, -1, 4711), 2, 4711),
              "the kernel does not report the queues of tap7");
    EXPECT_EQ(ub::net::intrusion(tap(1, 0, 4711), 2, 4711), "tap7 has 1 queue(s), not our 2");
}

}  // namespace
