// What net/bridge_port judges from rtnetlink's report of a link.
#include <gtest/gtest.h>

#include "net/bridge_port.h"

// What the link monitor and the helper's quota count act on: only a tun
// device with our label, judged from what rtnetlink reports.
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
