// The tap's label (protocol/tap_label): its text, round trip and refusals,
// and tampering judged against it.
#include <gtest/gtest.h>

#include "base/mac.h"
#include "protocol/tap_label.h"
#include "protocol/tampered.h"

using ub::Mac;

TEST(TapLabel, RoundTripAndRefusals) {
    using namespace ub::protocol;
    TapLabel l{4711, "web", Mac{0x52, 0x54, 0, 1, 2, 3}, 2, std::nullopt};
    std::string text = format_label(l);
    EXPECT_EQ(text, "userbridge uid=4711 vm=web mac=52:54:00:01:02:03 queues=2");
    auto back = parse_label(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->uid, 4711u);
    EXPECT_EQ(back->vm, "web");
    EXPECT_EQ(back->mac, l.mac);
    EXPECT_EQ(back->queues, 2);
    EXPECT_EQ(format_label({7, "", std::nullopt, 1, std::nullopt}), "userbridge uid=7 queues=1");
    EXPECT_FALSE(parse_label("").has_value());
    EXPECT_FALSE(parse_label("some admin note").has_value());
    EXPECT_FALSE(parse_label("userbridge vm=x").has_value());       // no uid
    EXPECT_FALSE(parse_label("userbridge uid=1 color=red").has_value());
    EXPECT_FALSE(parse_label("userbridge uid=1 mac=52:54").has_value());
    EXPECT_FALSE(parse_label("userbridge uid=1 queues=0").has_value());
    EXPECT_FALSE(parse_label("userbridge uid=1 queues=1 port=fe:00").has_value());
}

// The port MAC goes last, so that what read labels before it was added
// still finds what it looked for, and labels without it still parse.
TEST(TapLabel, PortMac) {
    using namespace ub::protocol;
    TapLabel l{4711, "web", std::nullopt, 1, Mac{0xfe, 1, 2, 3, 4, 5}};
    EXPECT_EQ(format_label(l), "userbridge uid=4711 vm=web queues=1 port=fe:01:02:03:04:05");
    auto back = parse_label(format_label(l));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->port, l.port);
    EXPECT_FALSE(back->mac.has_value());
    auto old = parse_label("userbridge uid=4711 queues=1");
    ASSERT_TRUE(old.has_value());
    EXPECT_FALSE(old->port.has_value());
}

TEST(TapLabel, Tampered) {
    using namespace ub::protocol;
    Mac port{0xfe, 1, 2, 3, 4, 5};
    TapLabel l{4711, "", std::nullopt, 1, port};
    TapState as_granted{port, false, 4711, -1};
    EXPECT_EQ(tampered(l, as_granted), "");

    TapState s = as_granted;
    s.mac = {0, 0, 0, 0, 0, 1};
    EXPECT_EQ(tampered(l, s), "MAC changed from fe:01:02:03:04:05 to 00:00:00:00:00:01");
    s = as_granted;
    s.persist = true;
    EXPECT_EQ(tampered(l, s), "made persistent");
    s = as_granted;
    s.owner = 4712;
    EXPECT_EQ(tampered(l, s), "owner changed to uid 4712");
    s.owner = -1;
    EXPECT_EQ(tampered(l, s), "owner removed");
    s = as_granted;
    s.group = 4800;
    EXPECT_EQ(tampered(l, s), "group set to gid 4800");
    s = {{0, 0, 0, 0, 0, 1}, true, 0, 0};
    EXPECT_EQ(tampered(l, s),
              "MAC changed from fe:01:02:03:04:05 to 00:00:00:00:00:01, made persistent, "
              "owner changed to uid 0, group set to gid 0");

    // A label from before the port MAC was recorded: the MAC cannot be
    // judged, the rest still is.
    TapLabel old{4711, "", std::nullopt, 1, std::nullopt};
    EXPECT_EQ(tampered(old, {{0, 0, 0, 0, 0, 1}, false, 4711, -1}), "");
    EXPECT_EQ(tampered(old, {{0, 0, 0, 0, 0, 1}, true, 4711, -1}), "made persistent");
}

TEST(TapLabel, LeaseRoundTripAndTampering) {
    using namespace ub::protocol;
    TapLabel l{4711, "", std::nullopt, 1, Mac{0xfe, 1, 2, 3, 4, 5}};
    l.lease = 1796317064;
    std::string text = format_label(l);
    EXPECT_EQ(text, "userbridge uid=4711 queues=1 port=fe:01:02:03:04:05 lease=1796317064");
    EXPECT_EQ(parse_label(text), l);
    l.held = true;
    EXPECT_EQ(format_label(l), text + " held=conn");
    EXPECT_EQ(parse_label(text + " held=conn"), l);
    EXPECT_FALSE(parse_label("userbridge uid=1 queues=1 held=conn"));  // held= only on a lease
    EXPECT_FALSE(parse_label("userbridge uid=1 queues=1 lease=x"));
    // A lease is persistent, and that is no tampering; its owner changed is.
    TapState now{*l.port, true, 4711, -1};
    EXPECT_EQ(tampered(l, now), "");
    now.persist = false;
    EXPECT_EQ(tampered(l, now), "persistence removed");
    now = {*l.port, true, 4712, -1};
    EXPECT_EQ(tampered(l, now), "owner changed to uid 4712");
    // A plain tap made persistent still is.
    TapLabel plain{4711, "", std::nullopt, 1, Mac{0xfe, 1, 2, 3, 4, 5}};
    EXPECT_EQ(tampered(plain, {*plain.port, true, 4711, -1}), "made persistent");
}
