// Which rules need userbridged's traffic filters, and the exact elements a
// guarded tap gets and loses (policy::needs_filter, net::tap_elements).
#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

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
    for (const char* text : {"allow br0\n", "allow br0 max-queues=4 user=root\n", "deny br0\n"}) {
        ub::policy::Rule r = rule_of(text);
        EXPECT_FALSE(ub::policy::needs_filter(r.limits)) << text;
        EXPECT_FALSE(ub::policy::needs_daemon(r.limits)) << text;
        EXPECT_EQ(ub::policy::daemon_only(r), "") << text;
    }
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 auth=polkit\n")), "polkit decides (auth=polkit)");
    // Every other daemon-only option, which the helper reads by name only.
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 lease=8h\n")), "it gives leases (lease=)");
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 max-taps=2\n")), "it counts a quota (max-taps=)");
    EXPECT_TRUE(ub::policy::needs_daemon(rule_of("allow br0 max-taps=0\n").limits));
    EXPECT_EQ(ub::policy::daemon_only(rule_of("allow br0 mode=bridge servers=yes\n")),
              "it sets mode= servers=, which the helper does not read");
}

// The bytes nft 1.0.6 itself sends for these elements (nft --debug=netlink
// add element ...): each key component padded to four bytes; the ifindex
// in host order, but in network order in the interval sets.
TEST(Filters, ATapsElementsAsTheKernelHoldsThem) {
    ub::net::Guard g;
    g.mac = ub::Mac{0x52, 0x54, 0, 0x12, 0x34, 0x56};
    g.no_servers = true;
    g.ips = {*ub::policy::parse_ip_prefix("10.0.0.0/24"), *ub::policy::parse_ip_prefix("fe80::/64"),
             *ub::policy::parse_ip_prefix("2001:db8::/48")};
    g.rate_bits = 8000;
    using Bytes = std::vector<std::uint8_t>;
    std::uint32_t index = 17;
    Bytes host(4);
    std::memcpy(host.data(), &index, 4);
    const Bytes net = {0, 0, 0, 17};
    auto cat = [](Bytes a, const Bytes& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    const Bytes ll_first = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const Bytes doc_first = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const Bytes doc_last = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ub::net::TapElements t = ub::net::tap_elements(17, g);
    ASSERT_EQ(t.limits.size(), 2u);
    EXPECT_EQ(t.limits[0].name, "rate17_out");
    EXPECT_EQ(t.limits[1].name, "rate17_in");
    EXPECT_EQ(t.limits[0].bytes_per_second, 1000u);
    std::vector<std::tuple<std::string, Bytes, Bytes, std::string>> want = {
        {"allowed", cat(host, {0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0}), {}, ""},
        {"allowed_lla", cat(host, {1, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0}), {}, ""},
        {"clients", host, {}, ""},
        {"ip4_allowed", cat(net, {10, 0, 0, 0}), cat(net, {10, 0, 0, 255}), ""},
        // A /64 as its first address, in the hash sets a masked source is
        // looked up in; another IPv6 prefix as its range.
        {"ip6_p64", cat(host, ll_first), {}, ""},
        {"na_p64", cat(host, ll_first), {}, ""},
        {"ip6_allowed", cat(net, doc_first), cat(net, doc_last), ""},
        {"na_allowed", cat(net, doc_first), cat(net, doc_last), ""},
        {"ll_guarded", host, {}, ""},
        {"ip_guarded", host, {}, ""},
        {"pinned", host, {}, ""},
        {"rate_out", host, {}, "rate17_out"},
        {"rate_in", host, {}, "rate17_in"},
        {"limited", host, {}, ""},
    };
    ASSERT_EQ(t.elements.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        const ub::net::SetElement& e = t.elements[i];
        EXPECT_EQ(e.set, std::get<0>(want[i]));
        EXPECT_EQ(e.key, std::get<1>(want[i])) << e.set;
        EXPECT_EQ(e.key_end, std::get<2>(want[i])) << e.set;
        EXPECT_EQ(e.object, std::get<3>(want[i])) << e.set;
    }
    EXPECT_TRUE(ub::net::tap_elements(17, {}).empty());
    // One address: in the hash set, keyed by the ifindex in host order,
    // no range. No link-local address: no ll_guarded element.
    g.ips = {*ub::policy::parse_ip_prefix("10.0.0.2"), *ub::policy::parse_ip_prefix("2001:db8::7")};
    g.rate_bits = 0;
    t = ub::net::tap_elements(17, g);
    // allowed, allowed_lla, clients, ip4_single, ip6_single, na_single, ip_guarded, pinned
    ASSERT_EQ(t.elements.size(), 8u);
    const Bytes v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    EXPECT_EQ(t.elements[3].set, "ip4_single");
    EXPECT_EQ(t.elements[3].key, cat(host, {10, 0, 0, 2}));
    EXPECT_TRUE(t.elements[3].key_end.empty());
    for (std::size_t i : {4u, 5u}) {
        EXPECT_EQ(t.elements[i].set, i == 4 ? "ip6_single" : "na_single");
        EXPECT_EQ(t.elements[i].key, cat(host, v6));
        EXPECT_TRUE(t.elements[i].key_end.empty());
    }
    EXPECT_EQ(t.elements[6].set, "ip_guarded");
    EXPECT_TRUE(t.limits.empty());
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
