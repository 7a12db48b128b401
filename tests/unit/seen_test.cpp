// What userbridge status is built from: nft's listing of the learning
// table's sets (net/seen.h), the status query's wire format
// (protocol/seen_wire.h), and the JSON text (base/json.h).
#include <gtest/gtest.h>

#include "base/json.h"
#include "net/seen.h"
#include "protocol/seen_wire.h"

namespace {

using ub::net::Seen;

const char* kListing =
    "table bridge userbridge_seen {\n\tset seen4 {\n\t\ttype iface_index . ether_addr . ipv4_addr\n"
    "\t\tsize 65536\n\t\tflags dynamic,timeout\n\t\ttimeout 5m\n"
    "\t\telements = { \"tap0\" . 52:54:00:00:aa:01 . 10.77.0.50 timeout 5m expires 4m59s980ms,\n"
    "\t\t\t     7 . 52:54:00:00:aa:09 . 10.77.0.9 expires 1m,\n"
    "\t\t\t     \"tap1\" . 52:54:00:00:aa:02 . 10.77.0.118 expires 30s }\n\t}\n}\n"
    "table bridge userbridge_seen {\n\tset seen6 {\n\t\ttype iface_index . ether_addr . ipv6_addr\n"
    "\t\telements = { \"tap2\" . 52:54:00:00:aa:03 . fe80::aa:3 expires 1h2m3s }\n\t}\n}\n"
    "table bridge userbridge_seen {\n\tset nd6 {\n\t\ttypeof iif . ether saddr . @th,64,128\n"
    "\t\telements = { \"tap2\" . 52:54:00:00:aa:03 . 0x20010db8000000000000000000000053 expires 10s,\n"
    "\t\t\t     \"tap2\" . 52:54:00:00:aa:03 . 0x1 expires 10s,\n"
    "\t\t\t     \"tap3\" . 52:54:00:00:aa:04 . 0xnothex }\n\t}\n}\n";

TEST(Seen, ParsesEverySetAndSkipsDeadTaps) {
    std::vector<Seen> s = ub::net::parse_seen(kListing);
    ASSERT_EQ(s.size(), 5u);
    EXPECT_EQ(s[0].port, "tap0");
    EXPECT_EQ(ub::format_mac(s[0].mac), "52:54:00:00:aa:01");
    EXPECT_FALSE(s[0].v6);
    EXPECT_EQ(ub::protocol::format_address(s[0]), "10.77.0.50");
    EXPECT_EQ(s[0].expires_s, 299u);
    EXPECT_EQ(s[1].port, "tap1");  // the dead ifindex 7 is left out
    EXPECT_EQ(s[1].expires_s, 30u);
    EXPECT_EQ(ub::protocol::format_address(s[2]), "fe80::aa:3");
    EXPECT_EQ(s[2].expires_s, 3723u);
    EXPECT_EQ(ub::protocol::format_address(s[3]), "2001:db8::53");
    EXPECT_EQ(ub::protocol::format_address(s[4]), "::1");  // nft drops leading zeros
}

TEST(Seen, NothingFromGarbage) {
    EXPECT_TRUE(ub::net::parse_seen("").empty());
    EXPECT_TRUE(ub::net::parse_seen("table bridge userbridge_seen {\n\tset seen4 {\n\t\telements = { \"tap0\" . "
                                    "zz:54:00:00:aa:01 . 10.0.0.1, \"tap0\" . 52:54:00:00:aa:01 . 10.0.0.999 }\n\t}\n}\n")
                    .empty());
}

TEST(SeenWire, QueryRoundTripsAndIsTold) {
    auto q = ub::protocol::encode_seen_query();
    std::string_view bytes(q.data(), q.size());
    EXPECT_TRUE(ub::protocol::is_seen_query(bytes));
    EXPECT_TRUE(ub::protocol::decode_seen_query(bytes).ok());
    std::string bad(bytes);
    bad[50] = 1;
    EXPECT_FALSE(ub::protocol::decode_seen_query(bad).ok());
    bad = std::string(bytes);
    bad[4] = 9;
    EXPECT_FALSE(ub::protocol::decode_seen_query(bad).ok());
    EXPECT_FALSE(ub::protocol::is_seen_query("UBRQ"));
}

TEST(SeenWire, ReplyRoundTrips) {
    ub::protocol::SeenReply r;
    r.ok = true;
    r.seen = ub::net::parse_seen(kListing);
    std::string bytes = ub::protocol::encode(r);
    EXPECT_EQ(bytes.size(), ub::protocol::kSeenHeaderSize + 5 * ub::protocol::kSeenRecordSize);
    auto back = ub::protocol::decode_seen_reply(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message();
    ASSERT_EQ(back->seen.size(), 5u);
    EXPECT_TRUE(back->ok);
    EXPECT_FALSE(back->truncated);
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(back->seen[i].port, r.seen[i].port);
        EXPECT_EQ(back->seen[i].mac, r.seen[i].mac);
        EXPECT_EQ(ub::protocol::format_address(back->seen[i]), ub::protocol::format_address(r.seen[i]));
        EXPECT_EQ(back->seen[i].expires_s, r.seen[i].expires_s);
    }
}

TEST(SeenWire, ReplyIsCheckedStrictly) {
    ub::protocol::SeenReply r;
    r.ok = true;
    r.seen = ub::net::parse_seen(kListing);
    std::string good = ub::protocol::encode(r);
    auto broken = [&](std::size_t at, char value) {
        std::string b = good;
        b[at] = value;
        return !ub::protocol::decode_seen_reply(b).ok();
    };
    EXPECT_TRUE(broken(0, 'X'));                                         // magic
    EXPECT_TRUE(broken(8, 9));                                           // count past the bytes
    EXPECT_TRUE(broken(10, 2));                                          // unknown flag
    EXPECT_TRUE(broken(256 + 22, 5));                                    // family
    EXPECT_TRUE(broken(256 + 30, 1));                                    // an IPv4 record's spare bytes
    EXPECT_TRUE(broken(256 + 15, 'x'));                                  // name not NUL-terminated
    EXPECT_FALSE(ub::protocol::decode_seen_reply(good.substr(0, 100)).ok());
    EXPECT_FALSE(ub::protocol::decode_seen_reply(good + "x").ok());
    ub::protocol::SeenReply failed;
    failed.message = "no nftables";
    auto f = ub::protocol::decode_seen_reply(ub::protocol::encode(failed));
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->ok);
    EXPECT_EQ(f->message, "no nftables");
}

TEST(SeenWire, ReplyIsBounded) {
    ub::protocol::SeenReply r;
    r.ok = true;
    r.seen.resize(ub::protocol::kMaxSeen + 5, ub::net::parse_seen(kListing)[0]);
    auto back = ub::protocol::decode_seen_reply(ub::protocol::encode(r));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->seen.size(), ub::protocol::kMaxSeen);
    EXPECT_TRUE(back->truncated);
}

TEST(Json, QuotesAndNests) {
    EXPECT_EQ(ub::json::quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\u000a\\u0001\"");
    EXPECT_EQ(ub::json::quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    EXPECT_EQ(ub::json::quote("bad\xff"), "\"bad\\ufffd\"");
    EXPECT_EQ(ub::json::quote("cut\xc3"), "\"cut\\ufffd\"");
    ub::json::Value v = ub::json::Object{};
    v.set("n", 3);
    v.set("none", nullptr);
    ub::json::Value a = ub::json::Array{};
    a.push(true);
    a.push("x");
    v.set("a", a);
    v.set("empty", ub::json::Array{});
    EXPECT_EQ(v.dump(), "{\n  \"n\": 3,\n  \"none\": null,\n  \"a\": [\n    true,\n    \"x\"\n  ],\n  \"empty\": []\n}");
}

}  // namespace
