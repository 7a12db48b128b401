// Parsing nft's listings of the MAC pinning table (net/mac_pin): set
// elements, stale ones, a table's sections, and deletable forms.
#include <gtest/gtest.h>

#include "net/mac_pin.h"

TEST(MacPin, SetElementsAndStaleOnes) {
    const char* listing =
        "table bridge userbridge {\n\tset allowed {\n\t\ttype iface_index . ether_addr\n"
        "\t\telements = { \"tap0\" . 52:54:00:12:34:56, 3 . 52:54:00:00:00:01,\n"
        "\t\t\t     \"tap7\" . 52:54:00:00:00:02 }\n\t}\n}\n";
    auto e = ub::net::set_elements(listing);
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0], "\"tap0\" . 52:54:00:12:34:56");
    EXPECT_EQ(e[1], "3 . 52:54:00:00:00:01");
    EXPECT_FALSE(ub::net::is_stale_element(e[0]));
    EXPECT_TRUE(ub::net::is_stale_element(e[1]));
    EXPECT_TRUE(ub::net::is_stale_element("12"));
    EXPECT_TRUE(ub::net::set_elements("set pinned {\n type iface_index\n}\n").empty());

    // Sections of a whole table's listing, as nft 1.0.6 prints it.
    const char* table =
        "table bridge userbridge {\n\tlimit rate7_out {\n\t\trate over 125 bytes/second\n\t}\n\n"
        "\tset pinned {\n\t\ttype iface_index\n\t\telements = { 3, \"tap0\" }\n\t}\n\n"
        "\tset pinned_more {\n\t\ttype iface_index\n\t}\n\n"
        "\tmap rate_out {\n\t\ttype iface_index : limit\n\t\telements = { 7 : \"rate7_out\" }\n\t}\n\n"
        "\tchain prerouting {\n\t\ttype filter hook prerouting priority dstnat; policy accept;\n\t}\n}\n";
    auto pinned_set = ub::net::table_section(table, "set", "pinned");
    ASSERT_TRUE(pinned_set.has_value());
    EXPECT_EQ(ub::net::set_elements(*pinned_set), (std::vector<std::string>{"3", "\"tap0\""}));
    EXPECT_TRUE(ub::net::has_stale_element(*pinned_set));
    auto map = ub::net::table_section(table, "map", "rate_out");
    ASSERT_TRUE(map.has_value());
    EXPECT_EQ(ub::net::set_elements(*map), (std::vector<std::string>{"7 : \"rate7_out\""}));
    EXPECT_FALSE(ub::net::table_section(table, "set", "rate_out").has_value());
    EXPECT_FALSE(ub::net::table_section(table, "set", "clients").has_value());
    EXPECT_TRUE(ub::net::set_elements(*ub::net::table_section(table, "set", "pinned_more")).empty());

    // Our table's blocks out of every bridge table's sets and maps: another
    // table's set of the same name is not ours.
    const char* all =
        "table bridge other {\n\tset pinned {\n\t\ttype iface_index\n\t\telements = { 9 }\n\t}\n}\n"
        "table bridge userbridge {\n\tset pinned {\n\t\ttype iface_index\n\t\telements = { 3 }\n\t}\n}\n"
        "table bridge userbridge {\n\tmap rate_out {\n\t\ttype iface_index : limit\n\t}\n}\n"
        "table bridge xtable bridge userbridge {\n}\n";
    std::string ours = ub::net::our_table(all);
    ASSERT_TRUE(ub::net::table_section(ours, "set", "pinned").has_value());
    EXPECT_EQ(ub::net::set_elements(*ub::net::table_section(ours, "set", "pinned")),
              (std::vector<std::string>{"3"}));
    EXPECT_TRUE(ub::net::table_section(ours, "map", "rate_out").has_value());
    EXPECT_EQ(ub::net::our_table("table bridge other {\n\tset pinned {\n\t}\n}\n"), "");
    EXPECT_EQ(ub::net::our_table(""), "");
    EXPECT_EQ(ub::net::our_table("table bridge userbridge {\n\tset pinned {"), "");  // cut short

    // One-address intervals get back the length or range nft leaves out.
    using ub::net::deletable_element;
    EXPECT_EQ(deletable_element("ip4_allowed", "3 . 10.0.3.7"), "3 . 10.0.3.7/32");
    EXPECT_EQ(deletable_element("ip4_allowed", "3 . 10.0.3.0/24"), "3 . 10.0.3.0/24");
    EXPECT_EQ(deletable_element("ip6_allowed", "3 . 2001:db8::7"), "3 . 2001:db8::7/128");
    EXPECT_EQ(deletable_element("na_allowed", "3 . 0x20010db8000000000000000000000007"),
              "3 . 0x20010db8000000000000000000000007-0x20010db8000000000000000000000007");
    EXPECT_EQ(deletable_element("na_allowed", "3 . 0x1-0x2"), "3 . 0x1-0x2");
    EXPECT_EQ(deletable_element("allowed", "3 . 52:54:00:00:00:01"), "3 . 52:54:00:00:00:01");

    // The link-layer address set, as nft 1.0.6 lists it: the value is the
    // option's length byte and the MAC, one integer without leading zeros.
    const char* lla =
        "table bridge userbridge {\n\tset allowed_lla {\n\t\ttypeof iif . @th,200,56\n"
        "\t\telements = { 3 . 0x1525400000001,\n\t\t\t     \"tap0\" . 0x1525400123456 }\n"
        "\t}\n}\n";
    e = ub::net::set_elements(lla);
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0], "3 . 0x1525400000001");
    EXPECT_TRUE(ub::net::is_stale_element(e[0]));
    EXPECT_FALSE(ub::net::is_stale_element(e[1]));
}
