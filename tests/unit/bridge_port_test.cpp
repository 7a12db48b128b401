// What userbridged's live-tap checks (net/live_taps.h) judge from
// rtnetlink's report of a link, and from the labels of live taps.
#include <gtest/gtest.h>

#include <net/if.h>

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
    l.flags = IFF_UP;
    l.alias = "userbridge uid=4711 queues=1 port=fe:01:02:03:04:05";
    EXPECT_FALSE(ub::net::tampered_tap(l).has_value());
    // Still being made, and root's until it is given to its caller just
    // before it comes up: not judged.
    l.flags = 0;
    l.tun_owner = 0;
    EXPECT_FALSE(ub::net::tampered_tap(l).has_value());
    l.flags = IFF_UP;
    l.tun_owner = 4711;
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

// userbridged's index of live links follows the monitor's events: a tap's
// label shows from its first event that carries it, a macvtap counts on
// its lower device, a deleted link is gone; the checks count what it holds.
TEST(LiveLinks, FollowsEventsAndCountsThem) {
    auto event = [](int ifindex, const std::string& kind, int master, const std::string& alias) {
        ub::net::LinkInfo l;
        l.ifindex = ifindex;
        l.name = "l" + std::to_string(ifindex);
        l.kind = kind;
        l.master = master;
        l.alias = alias;
        return l;
    };
    const std::string pinned = "userbridge uid=4711 vm=web mac=52:54:00:01:02:03 queues=1";
    ub::net::LiveLinks live;
    EXPECT_TRUE(live.stale());
    ub::net::LinkInfo macvtap = event(8, "macvtap", 0, "userbridge uid=4711 queues=1");
    macvtap.link = 3;
    live.apply({event(5, "tun", 0, ""), event(6, "bridge", 0, ""), event(5, "tun", 2, pinned), macvtap,
                event(7, "veth", 2, "")});
    ASSERT_EQ(live.links().size(), 3u);
    EXPECT_EQ(live.links().at(5).alias, pinned);
    EXPECT_EQ(live.links().at(8).master, 3);

    ub::net::LiveRules rules{1, ub::Mac{0x52, 0x54, 0, 1, 2, 3}, 4711, nullptr, nullptr};
    ub::net::LinkInfo bridge;
    bridge.ifindex = 2;
    bridge.name = "br0";
    auto refused = ub::net::check_live_taps(live.links(), rules, bridge, 9);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->kind, ub::Refused::Quota);
    rules.max_taps = 2;
    refused = ub::net::check_live_taps(live.links(), rules, bridge, 9);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->kind, ub::Refused::Acl);  // the MAC is l5's

    ub::net::LinkInfo gone = event(5, "tun", 2, pinned);
    gone.deleted = true;
    live.apply({gone});
    EXPECT_FALSE(ub::net::check_live_taps(live.links(), rules, bridge, 9));
    // The macvtap on its lower device 3 counts on "bridge" 3 alone.
    bridge.ifindex = 3;
    rules.max_taps = 1;
    EXPECT_TRUE(ub::net::check_live_taps(live.links(), rules, bridge, 9));
}
