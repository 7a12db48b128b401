// What userbridged's live-tap checks (net/live_taps.h) judge from
// rtnetlink's report of a link, and from the labels of live taps.
#include <gtest/gtest.h>

#include "base/mac.h"
#include "net/live_taps.h"

using ub::Mac;

TEST(MacCollision, ALiveLabelHoldingTheMacRefuses) {
    using ub::net::LinkLabel;
    Mac mac{0x52, 0x54, 0, 1, 2, 3};
    std::vector<LinkLabel> links = {
        {4, "tap4", "userbridge uid=4711 vm=web mac=52:54:00:01:02:04 queues=1"},  // another MAC
        {5, "tap5", "userbridge uid=4712 queues=1"},                              // no MAC
        {6, "tap6", "someone else's alias mac=52:54:00:01:02:03"},                // not our label
        {9, "tap9", "userbridge uid=4712 vm=x mac=52:54:00:01:02:03 queues=1"},   // ours
    };
    EXPECT_FALSE(ub::net::check_mac_unused(links, mac, 9));
    links.push_back({7, "tap7", "userbridge uid=4711 vm=web mac=52:54:00:01:02:03 queues=2"});
    auto r = ub::net::check_mac_unused(links, mac, 9);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->reason,
              "guest MAC 52:54:00:01:02:03 is already pinned to tap7 (uid 4711, vm web); two taps never share one");
}

// What the link monitor acts on: only a tun device with our label, judged
// from what rtnetlink reports.
TEST(TapLabel, TamperedTapFromRtnetlink) {
    ub::net::LinkInfo l;
    l.ifindex = 7;
    l.name = "tap7";
    l.kind = "tun";
    l.mac = {0xfe, 1, 2, 3, 4, 5};
    l.tun_owner = 4711;
    l.alias = "userbridge uid=4711 queues=1 port=fe:01:02:03:04:05";
    EXPECT_FALSE(ub::net::tampered_tap(l).has_value());
    l.tun_persist = true;
    auto r = ub::net::tampered_tap(l);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->tap, "tap7");
    EXPECT_EQ(r->ifindex, 7);
    EXPECT_EQ(r->label.uid, 4711u);
    EXPECT_EQ(r->what, "made persistent");
    l.alias = "some admin note";  // not ours: left alone
    EXPECT_FALSE(ub::net::tampered_tap(l).has_value());
    l.alias = "userbridge uid=4711 queues=1 port=fe:01:02:03:04:05";
    l.kind = "veth";  // our label on something else: not a tap we made
    EXPECT_FALSE(ub::net::tampered_tap(l).has_value());
}
