// What userbridge status is built from: the learning table's elements as
// the kernel gives them (net/seen.h), the status query's wire format
// (protocol/seen_wire.h), and the JSON text (base/json.h).
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "base/json.h"
#include "net/seen.h"
#include "protocol/seen_wire.h"

namespace {

using ub::net::Seen;

// A key as the kernel gives one: the ifindex in host order, the MAC padded
// to eight bytes, the address.
std::vector<std::uint8_t> key(int ifindex, const char* mac, std::vector<std::uint8_t> addr) {
    std::vector<std::uint8_t> k(12, 0);
    std::memcpy(k.data(), &ifindex, 4);
    auto m = ub::parse_mac(mac, nullptr);
    std::memcpy(k.data() + 4, m->data(), 6);
    k.insert(k.end(), addr.begin(), addr.end());
    return k;
}
std::vector<std::uint8_t> v6(std::initializer_list<std::uint8_t> head, std::uint8_t last) {
    std::vector<std::uint8_t> a(head);
    a.resize(15, 0);
    a.push_back(last);
    return a;
}

// Five entries, named as Filters::seen names them.
std::vector<Seen> sample() {
    std::vector<Seen> out;
    auto add = [&](const char* port, std::optional<ub::net::SeenAt> at) {
        at->seen.port = port;
        out.push_back(at->seen);
    };
    add("tap0", ub::net::parse_seen_key(key(3, "52:54:00:00:aa:01", {10, 77, 0, 50}), false, 299980));
    add("tap1", ub::net::parse_seen_key(key(4, "52:54:00:00:aa:02", {10, 77, 0, 118}), false, 30000));
    add("tap2", ub::net::parse_seen_key(key(5, "52:54:00:00:aa:03", v6({0xfe, 0x80}, 3)), true, 3723000));
    add("tap2", ub::net::parse_seen_key(key(5, "52:54:00:00:aa:03", v6({0x20, 0x01, 0x0d, 0xb8}, 0x53)), true, 10000));
    add("tap2", ub::net::parse_seen_key(key(5, "52:54:00:00:aa:03", v6({}, 1)), true, 10000));
    return out;
}

TEST(Seen, ParsesKeysAsTheKernelHoldsThem) {
    auto at = ub::net::parse_seen_key(key(7, "52:54:00:00:aa:01", {10, 77, 0, 50}), false, 299980);
    ASSERT_TRUE(at);
    EXPECT_EQ(at->ifindex, 7);
    EXPECT_TRUE(at->seen.port.empty());
    EXPECT_EQ(ub::format_mac(at->seen.mac), "52:54:00:00:aa:01");
    EXPECT_FALSE(at->seen.v6);
    EXPECT_EQ(ub::protocol::format_address(at->seen), "10.77.0.50");
    EXPECT_EQ(at->seen.expires_s, 299u);
    std::vector<Seen> s = sample();
    EXPECT_EQ(ub::protocol::format_address(s[2]), "fe80::3");
    EXPECT_EQ(s[2].expires_s, 3723u);
    EXPECT_EQ(ub::protocol::format_address(s[3]), "2001:db8::53");
    EXPECT_EQ(ub::protocol::format_address(s[4]), "::1");
}

TEST(Seen, NothingFromAKeyOfAnotherSize) {
    std::vector<std::uint8_t> k4 = key(3, "52:54:00:00:aa:01", {10, 0, 0, 1});
    EXPECT_FALSE(ub::net::parse_seen_key(k4, true, 0));  // an IPv4 key read as IPv6
    k4.pop_back();
    EXPECT_FALSE(ub::net::parse_seen_key(k4, false, 0));
    EXPECT_FALSE(ub::net::parse_seen_key({}, false, 0));
    std::vector<std::uint8_t> k6 = key(3, "52:54:00:00:aa:01", v6({0xfe, 0x80}, 1));
    EXPECT_FALSE(ub::net::parse_seen_key(k6, false, 0));
    k6.push_back(0);
    EXPECT_FALSE(ub::net::parse_seen_key(k6, true, 0));
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
    r.seen = sample();
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
    r.seen = sample();
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
    r.seen.resize(ub::protocol::kMaxSeen + 5, sample()[0]);
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
    // Not UTF-8 (RFC 3629): an overlong '"', a surrogate, past U+10FFFF.
    EXPECT_EQ(ub::json::quote("\xc0\xa2"), "\"\\ufffd\\ufffd\"");
    EXPECT_EQ(ub::json::quote("\xe0\x80\xa2"), "\"\\ufffd\\ufffd\\ufffd\"");
    EXPECT_EQ(ub::json::quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    EXPECT_EQ(ub::json::quote("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    // A C1 control (CSI) is escaped; the last code points of each length pass.
    EXPECT_EQ(ub::json::quote("\xc2\x9b"), "\"\\u009b\"");
    EXPECT_EQ(ub::json::quote("\xc2\xa0\xef\xbf\xbf\xf4\x8f\xbf\xbf"), "\"\xc2\xa0\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
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
