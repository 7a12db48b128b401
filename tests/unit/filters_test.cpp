// Which rules need userbridged's traffic filters, and the exact elements a
// guarded tap gets and loses (policy::needs_filter, net::guard_commands).
#include <gtest/gtest.h>

#include "acl_parse_all.h"
#include "net/mac_pin.h"
#include "net/routed.h"
#include "policy/acl.h"
#include "policy/daemon_options.h"
#include "policy/explain.h"

namespace {

ub::policy::Rule rule_of(const char* text) {
    auto lines = ub::policy::parse(text, "acl");
    EXPECT_TRUE(lines.ok());
    const ub::policy::Line& l = lines->at(0);
    return {l.verb, l.arg, std::make_shared<const std::string>("acl"), l.lineno, 0, l.who, l.limits, l.auth};
}

TEST(Filters, WhichRulesNeedTheDaemon) {
    for (const char* text : {"allow br0 mac=52:54:00:12:34:56\n", "allow br0 mac-prefix=52:54:00\n",
                             "allow br0 mac=52:54:00:12:34:56 servers=no\n",
                             "allow br0 mac=52:54:00:12:34:56 ip=10.0.0.2\n", "allow br0 rate=10mbit\n"}) {
        ub::policy::Rule r = rule_of(text);
        EXPECT_TRUE(ub::policy::needs_filter(r.limits)) << text;
        EXPECT_NE(ub::policy::daemon_only(r).find("filters the tap's traffic"), std::string::npos) << text;
        EXPECT_TRUE(ub::policy::needs_daemon(r.limits)) << text;
        std::string why = ub::policy::daemon_refusal(r);
        EXPECT_NE(why.find("acl:1"), std::string::npos) << why;
        EXPECT_NE(why.find("userbridge-client (QEMU's helper=)"), std::string::npos) << why;
        EXPECT_NE(why.find("userbridge run"), std::string::npos) << why;
    }
    for (const char* text : {"allow br0\n", "allow br0 max-taps=2 max-queues=4 user=root\n", "deny br0\n"}) {
        ub::policy::Rule r = rule_of(text);
        EXPECT_FALSE(ub::policy::needs_filter(r.limits)) << text;
        EXPECT_FALSE(ub::policy::needs_daemon(r.limits)) << text;
        EXPECT_EQ(ub::policy::daemon_only(r), "") << text;
    }
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 auth=polkit\n")), "polkit decides (auth=polkit)");
    // Every other daemon-only option, which the helper reads by name only.
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 lease=8h\n")), "it gives leases (lease=)");
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 mode=bridge servers=yes\n")),
              "it sets mode= servers=, which the helper does not read");
}

TEST(Filters, ATapLosesExactlyTheElementsItGot) {
    ub::net::Guard g;
    g.mac = ub::Mac{0x52, 0x54, 0, 0x12, 0x34, 0x56};
    g.no_servers = true;
    g.ips = {*ub::policy::parse_ip_prefix("10.0.0.2/32"), *ub::policy::parse_ip_prefix("fe80::/64")};
    g.rate_bits = 8000;
    ub::net::GuardCommands c = ub::net::guard_commands("tap9", 17, g);
    EXPECT_EQ(c.add,
              "add limit bridge userbridge rate17_out { rate over 1000 bytes/second }\n"
              "add limit bridge userbridge rate17_in { rate over 1000 bytes/second }\n"
              "add element bridge userbridge allowed { \"tap9\" . 52:54:00:12:34:56 }\n"
              "add element bridge userbridge allowed_lla { \"tap9\" . 0x01525400123456 }\n"
              "add element bridge userbridge clients { \"tap9\" }\n"
              "add element bridge userbridge ip4_allowed { \"tap9\" . 10.0.0.2/32 }\n"
              "add element bridge userbridge ip6_allowed { \"tap9\" . fe80::/64 }\n"
              "add element bridge userbridge na_allowed { \"tap9\" . "
              "0xfe800000000000000000000000000000-0xfe80000000000000ffffffffffffffff }\n"
              "add element bridge userbridge ll_guarded { \"tap9\" }\n"
              "add element bridge userbridge ip_guarded { \"tap9\" }\n"
              "add element bridge userbridge pinned { \"tap9\" }\n"
              "add element bridge userbridge rate_out { \"tap9\" : \"rate17_out\" }\n"
              "add element bridge userbridge rate_in { \"tap9\" : \"rate17_in\" }\n"
              "add element bridge userbridge limited { \"tap9\" }\n");
    EXPECT_EQ(c.remove,
              "delete element bridge userbridge allowed { 17 . 52:54:00:12:34:56 }\n"
              "delete element bridge userbridge allowed_lla { 17 . 0x01525400123456 }\n"
              "delete element bridge userbridge clients { 17 }\n"
              "delete element bridge userbridge ip4_allowed { 17 . 10.0.0.2/32 }\n"
              "delete element bridge userbridge ip6_allowed { 17 . fe80::/64 }\n"
              "delete element bridge userbridge na_allowed { 17 . "
              "0xfe800000000000000000000000000000-0xfe80000000000000ffffffffffffffff }\n"
              "delete element bridge userbridge ll_guarded { 17 }\n"
              "delete element bridge userbridge ip_guarded { 17 }\n"
              "delete element bridge userbridge pinned { 17 }\n"
              "delete element bridge userbridge rate_out { 17 }\n"
              "delete element bridge userbridge rate_in { 17 }\n"
              "delete element bridge userbridge limited { 17 }\n"
              "delete limit bridge userbridge rate17_out\n"
              "delete limit bridge userbridge rate17_in\n");
    EXPECT_EQ(ub::net::guard_commands("tap9", 17, {}).remove, "");
}

// A routed tap's elements: added by name, deleted by ifindex, one per
// set and address.
TEST(Filters, RoutedElements) {
    auto v4 = ub::policy::parse_ip_prefix("192.168.1.50");
    auto v6 = ub::policy::parse_ip_prefix("2001:db8::50");
    ASSERT_TRUE(v4.ok() && v6.ok());
    ub::net::GuardCommands c = ub::net::routed_commands({7, "tap3", 2, "wlan0", {*v4, *v6}});
    EXPECT_EQ(c.add,
              "add element inet userbridge_routed taps { \"tap3\" }\n"
              "add element inet userbridge_routed src4 { \"tap3\" . 192.168.1.50 }\n"
              "add element inet userbridge_routed fwd4 { \"tap3\" . 192.168.1.50 . \"wlan0\" }\n"
              "add element inet userbridge_routed src6 { \"tap3\" . 2001:db8::50 }\n"
              "add element inet userbridge_routed fwd6 { \"tap3\" . 2001:db8::50 . \"wlan0\" }\n");
    EXPECT_EQ(c.remove,
              "delete element inet userbridge_routed taps { 7 }\n"
              "delete element inet userbridge_routed src4 { 7 . 192.168.1.50 }\n"
              "delete element inet userbridge_routed fwd4 { 7 . 192.168.1.50 . 2 }\n"
              "delete element inet userbridge_routed src6 { 7 . 2001:db8::50 }\n"
              "delete element inet userbridge_routed fwd6 { 7 . 2001:db8::50 . 2 }\n");
}

// A dead tap's element names its address and uplink; a live tap's, or one
// whose uplink is gone too, gives nothing to delete on an uplink.
TEST(Filters, DeadRoutes) {
    ub::policy::IpPrefix addr;
    std::string uplink;
    ASSERT_TRUE(ub::net::dead_route("7 . 192.168.1.50 . \"wlan0\"", false, addr, uplink));
    EXPECT_EQ(ub::policy::format_ip_prefix(addr), "192.168.1.50");
    EXPECT_EQ(uplink, "wlan0");
    EXPECT_TRUE(ub::net::dead_route("7 . 2001:db8::50 . \"wlan0\"", true, addr, uplink));
    EXPECT_FALSE(ub::net::dead_route("\"tap3\" . 192.168.1.50 . \"wlan0\"", false, addr, uplink));
    EXPECT_FALSE(ub::net::dead_route("7 . 192.168.1.50 . 2", false, addr, uplink));
    EXPECT_FALSE(ub::net::dead_route("7 . 192.168.1.50", false, addr, uplink));
    EXPECT_FALSE(ub::net::dead_route("7 . 2001:db8::50 . \"wlan0\"", false, addr, uplink));
}

}  // namespace
