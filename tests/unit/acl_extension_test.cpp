// Our extension of the ACL grammar: whom a rule is for, its limits, its MAC
// policy; how matching rules combine. (The MAC key's derivation itself:
// mac_key_test.cpp.)
#include <gtest/gtest.h>

#include "policy/acl.h"
#include "policy/daemon_options.h"
#include "policy/ip_prefix.h"
#include "acl_parse_all.h"
#include "policy/explain.h"
#include "policy/lease.h"

using namespace ub::policy;
using ub::Error;
using ub::Result;
using ub::Mac;
using ub::format_mac;
using ub::parse_mac;

namespace {

// A stand-in for the MAC key's derivation (mac_key_test.cpp tests the
// real one): the prefix, then 0xee bytes.
const MacDeriver kDerive = [](const MacPolicy& prefix, uid_t, std::string_view, std::string_view) -> Result<Mac> {
    Mac mac = prefix.bytes;
    for (std::size_t i = static_cast<std::size_t>(prefix.prefix_len); i < mac.size(); ++i) mac[i] = 0xee;
    return mac;
};

// Rules from text, with names resolved as the loader would: alice 4711,
// bob 4712, group vm 4800; anything else does not exist.
std::vector<Rule> rules_of(const char* text) {
    auto lines = parse(text, "acl");
    EXPECT_TRUE(lines.ok()) << lines.error().message();
    std::vector<Rule> rules;
    auto name = std::make_shared<const std::string>("acl");
    for (const Line& l : *lines) {
        Rule r{l.verb, l.arg == "all" ? "" : l.arg, name, l.lineno, 0, l.who, l.limits, l.auth};
        if (r.who.id < 0) {
            if (r.who.kind == Subject::User)
                r.who.id = r.who.name == "alice" ? 4711 : r.who.name == "bob" ? 4712 : -1;
            if (r.who.kind == Subject::Group) r.who.id = r.who.name == "vm" ? 4800 : -1;
        }
        rules.push_back(r);
    }
    return rules;
}

const Credentials kAlice{4711, 4711, {4800}};
const Credentials kBob{4712, 4712, {}};
// A process of alice's as one of her subordinate uids (in her container),
// her groups kept.
const Credentials kAliceSub{300001, 300001, {4800}, 4711};
// Alice's process with her groups dropped in a user namespace of hers, as
// userbridged sees it: none in the kernel, vm in the group database.
const Credentials kAliceBare{4711, 4711, {}, std::nullopt, {4711, 4800}};
const Credentials kAliceSubBare{300001, 300001, {}, 4711, {4711, 4800}};

std::string parse_error(const char* text) {
    auto r = parse(text, "f");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? "" : r.error().message();
}

}  // namespace

TEST(Extension, ParsesOptions) {
    auto lines = parse("allow br0 group=vm max-taps=2 max-queues=4 mac-prefix=52:54:00\n"
                       "deny br1 user=4712\n"
                       "allow all user=alice mac=52:54:00:AA:bb:0c\n",
                       "f");
    ASSERT_TRUE(lines.ok()) << lines.error().message();
    const Line& a = (*lines)[0];
    EXPECT_EQ(a.arg, "br0");
    EXPECT_EQ(a.who.kind, Subject::Group);
    EXPECT_EQ(a.who.name, "vm");
    EXPECT_EQ(a.who.id, -1);  // names are resolved by the loader
    EXPECT_EQ(a.limits.max_taps, 2);
    EXPECT_EQ(a.limits.max_queues, 4);
    EXPECT_EQ(a.limits.mac.mode, MacPolicy::Prefix);
    EXPECT_EQ(a.limits.mac.prefix_len, 3);
    EXPECT_EQ((*lines)[1].who.kind, Subject::User);
    EXPECT_EQ((*lines)[1].who.id, 4712);  // numeric: no lookup
    EXPECT_EQ((*lines)[2].limits.mac.mode, MacPolicy::Fixed);
    EXPECT_EQ(format_mac((*lines)[2].limits.mac.bytes), "52:54:00:aa:bb:0c");
}

TEST(Extension, QemuLinesKeepTheirDefaults) {
    auto lines = parse("allow br0\ndeny all\n", "f");
    ASSERT_TRUE(lines.ok());
    for (const Line& l : *lines) {
        EXPECT_EQ(l.who.kind, Subject::Anyone);
        EXPECT_EQ(l.limits.max_taps, kUnlimited);
        EXPECT_EQ(l.limits.max_queues, kDefaultMaxQueues);
        EXPECT_EQ(l.limits.mac.mode, MacPolicy::None);
    }
}

TEST(Extension, Refusals) {
    EXPECT_EQ(parse_error("allow br0 color=red"),
              "f:1: unknown option 'color' (expected user, group, max-taps, max-queues, mac, "
              "mac-prefix, servers, ip, rate, auth, isolated, mode or lease)");
    EXPECT_EQ(parse_error("allow br0 user="), "f:1: 'user=': expected key=value");
    EXPECT_EQ(parse_error("allow br0 =x"), "f:1: '=x': expected key=value");
    EXPECT_EQ(parse_error("allow br0 user=a group=b"), "f:1: a rule names one user or one group, not more");
    EXPECT_EQ(parse_error("allow br0 user=a user=b"), "f:1: user= given twice");
    EXPECT_EQ(parse_error("allow br0 user=a:b"), "f:1: user=a:b: not a user or group name");
    EXPECT_EQ(parse_error("allow br0 user=4294967295"), "f:1: user=4294967295: id out of range");
    EXPECT_EQ(parse_error("deny br0 max-taps=1"), "f:1: max-taps= is for allow rules only");
    EXPECT_EQ(parse_error("deny br0 mac=52:54:00:00:00:01"), "f:1: mac= is for allow rules only");
    EXPECT_EQ(parse_error("allow br0 max-taps=-1"),
              "f:1: max-taps=-1: expected a whole number, 0 to 65535");
    EXPECT_EQ(parse_error("allow br0 max-taps=65536"),
              "f:1: max-taps=65536: expected a whole number, 0 to 65535");
    EXPECT_EQ(parse_error("allow br0 max-queues=0"),
              "f:1: max-queues=0: expected a whole number, 1 to 64");
    EXPECT_EQ(parse_error("allow br0 mac=52:54:00"), "f:1: mac=52:54:00: a MAC has 6 bytes");
    EXPECT_EQ(parse_error("allow br0 mac=01:00:5e:00:00:01"),
              "f:1: mac=01:00:5e:00:00:01: a multicast address (first byte odd)");
    EXPECT_EQ(parse_error("allow br0 mac=00:00:00:00:00:00"), "f:1: mac=00:00:00:00:00:00: the all-zero address");
    EXPECT_EQ(parse_error("allow br0 mac-prefix=52:54:00:00:00:01"),
              "f:1: mac-prefix=52:54:00:00:00:01: a prefix has 1 to 5 bytes");
    EXPECT_EQ(parse_error("allow br0 mac-prefix=5:54"),
              "f:1: mac-prefix=5:54: expected hex byte pairs separated by ':'");
    EXPECT_EQ(parse_error("allow br0 mac=52:54:00:00:00:01 mac-prefix=52"),
              "f:1: a rule has one mac= or mac-prefix=, not more");
    EXPECT_EQ(parse_error("allow br0 user=al\x01" "ce"), "f:1: user=al\\x01ce: not a user or group name");
    EXPECT_EQ(parse_error("allow br0 servers=no"), "f:1: servers=no needs mac= or mac-prefix= on the same rule");
    EXPECT_EQ(parse_error("allow br0 mac-prefix=52 servers=off"), "f:1: servers=off: expected yes or no");
    EXPECT_EQ(parse_error("deny br0 servers=no"), "f:1: servers= is for allow rules only");
    EXPECT_EQ(parse_error("allow br0 mac-prefix=52 servers=no servers=no"), "f:1: servers= given twice");
}

// The helper's reading (no DaemonOptions): one grammar, the daemon-only
// values unread. Every option name is still known, and every rule of
// the helper's own options still checked; see acl.h for why each case
// fails closed.
// A daemon-only value that swallowed the next option is an error in both
// readings: the helper, reading the name alone, would otherwise take
// `rate=10mbit,user=alice` for a rule for anyone (a review found it).
TEST(Extension, ADaemonOnlyValueSwallowsNoOption) {
    for (const char* text : {"allow br0 rate=10mbit,user=alice", "allow br0 rate=10mbit\vuser=alice",
                             "allow br0 rate=10mbit\xc2\xa0user=alice", "allow br0 mac=52:54:00:12:34:56,user=alice",
                             "allow br0 ip=10.0.0.1,group=lab"}) {
        EXPECT_FALSE(parse(text, "f", nullptr).ok()) << text;
        auto daemon = parse(text, "f");
        ASSERT_FALSE(daemon.ok()) << text;
    }
    // Nor does a bridge name: `deny br0user=bob` would deny nothing.
    for (const DaemonOptions* reading : {static_cast<const DaemonOptions*>(nullptr), &daemon_options()})
        EXPECT_FALSE(parse("allow br0\ndeny br0user=bob\n", "f", reading).ok());
    auto swallowed = parse("allow br0 rate=1mbit,user=alice", "f", nullptr);
    ASSERT_FALSE(swallowed.ok());
    EXPECT_NE(swallowed.error().message().find("not a value (a space missing before the next option?)"),
              std::string::npos)
        << swallowed.error().message();
}

TEST(Extension, TheHelpersReading) {
    auto helper = [](const char* text) { return parse(text, "f", nullptr); };
    // Well formed or not, a daemon-only value is recorded by its name alone.
    for (const char* text : {"allow br0 ip=garbage", "allow br0 rate=fast", "allow br0 mode=sideways",
                             "allow br0 lease=forever", "allow br0 auth=root", "allow br0 servers=no",
                             "allow all mode=routed", "allow br0 mac=zz mac-prefix=52", "allow br0 max-taps=-1",
                             "allow br0 max-taps=65536"}) {
        EXPECT_FALSE(parse(text, "f").ok()) << text;  // userbridged and `userbridge check` say why
        auto lines = helper(text);
        ASSERT_TRUE(lines.ok()) << lines.error().message();
        EXPECT_TRUE(needs_daemon(lines->at(0).limits)) << text;
    }
    auto both = helper("allow br0 user=alice ip=garbage max-taps=2 rate=1mbit isolated=yes");
    ASSERT_TRUE(both.ok());
    const Line& l = both->at(0);
    EXPECT_EQ(l.limits.daemon_only, "ip= max-taps= rate=");
    EXPECT_EQ(l.limits.rate_bits, 0u);  // unread
    EXPECT_EQ(l.limits.max_taps, kUnlimited);  // unread: the helper counts no quota
    EXPECT_EQ(l.who.name, "alice");
    EXPECT_TRUE(l.limits.isolated);
    // The daemon's reading records the same names, with the values.
    auto daemon = parse("allow br0 mac=52:54:00:00:00:01 ip=10.0.0.2 rate=1mbit", "f");
    ASSERT_TRUE(daemon.ok());
    EXPECT_EQ(daemon->at(0).limits.daemon_only, "mac= ip= rate=");
    EXPECT_EQ(daemon->at(0).limits.rate_bits, 1000000u);
    EXPECT_FALSE(needs_daemon(parse("allow br0 user=alice max-queues=2 isolated=no", "f")->at(0).limits));
    // max-taps= is daemon-only: the helper refuses its rule, whatever the value.
    EXPECT_EQ(parse("allow br0 max-taps=0", "f")->at(0).limits.max_taps, 0);
    EXPECT_TRUE(needs_daemon(helper("allow br0 user=alice max-taps=1")->at(0).limits));
    EXPECT_EQ(helper("allow br0 max-taps=1,user=bob").error().message(),
              "f:1: max-taps=1,user=bob: not a value (a space missing before the next option?)");
    // Refused by both readings alike: a deny with any option but a subject,
    // an unknown option, a bad value of an option the helper acts on.
    for (const char* text : {"deny br0 user=ubbob rate=garbage", "deny br0 user=ubbob ip=10.0.0.1",
                             "deny br0 mode=routed", "allow br0 frob=1", "allow br0 max-queues=0",
                             "deny br0 max-taps=1",
                             "allow br0 isolated=maybe", "allow br0 user=a group=b", "allow br0 rate=1mbit rate=2mbit",
                             "allow br0 ip="}) {
        auto h = helper(text);
        ASSERT_FALSE(h.ok()) << text;
        EXPECT_EQ(h.error().message(), parse_error(text)) << text;
    }
    EXPECT_EQ(helper("deny br0 user=ubbob rate=x").error().message(), "f:1: rate= is for allow rules only");
}

TEST(Extension, ServersNoGoesWithAPinnedMac) {
    auto rules = rules_of("allow br0 mac-prefix=52:54:00 servers=no\nallow br1 mac-prefix=52:54:00 servers=yes\n"
                          "allow br2 servers=yes\n");
    auto terms = terms_of(decide(rules, "br0", &kAlice), kDerive, 4711, "web", "br0");
    ASSERT_TRUE(terms.ok());
    EXPECT_TRUE(terms->has_mac);
    EXPECT_TRUE(terms->no_servers);
    terms = terms_of(decide(rules, "br1", &kAlice), kDerive, 4711, "web", "br1");
    ASSERT_TRUE(terms.ok());
    EXPECT_FALSE(terms->no_servers);
    terms = terms_of(decide(rules, "br2", &kAlice), kDerive, 4711, "web", "br2");
    ASSERT_TRUE(terms.ok());
    EXPECT_FALSE(terms->has_mac);
    EXPECT_FALSE(terms->no_servers);
    EXPECT_EQ(format_rule(rules[0]), "allow br0 mac-prefix=52:54:00 servers=no");
    EXPECT_EQ(format_rule(rules[1]), "allow br1 mac-prefix=52:54:00");
    EXPECT_EQ(format_limits(rules[0].limits), "max-taps=unlimited max-queues=8 mac-prefix=52:54:00 servers=no");
}

TEST(Extension, IpGoesWithAPinnedMac) {
    auto rules = rules_of("allow br0 mac=52:54:00:00:00:01 ip=10.0.3.7,2001:db8:3::/64,10.1.0.0/16\n"
                          "allow br1 mac-prefix=52\n");
    auto terms = terms_of(decide(rules, "br0", &kAlice), kDerive, 4711, "web", "br0");
    ASSERT_TRUE(terms.ok());
    ASSERT_EQ(terms->limits.ips.size(), 3u);
    EXPECT_FALSE(terms->limits.ips[0].v6);
    EXPECT_EQ(terms->limits.ips[0].len, 32);
    EXPECT_TRUE(terms->limits.ips[1].v6);
    EXPECT_EQ(terms->limits.ips[1].len, 64);
    terms = terms_of(decide(rules, "br1", &kAlice), kDerive, 4711, "web", "br1");
    ASSERT_TRUE(terms.ok());
    EXPECT_TRUE(terms->limits.ips.empty());
    EXPECT_EQ(format_rule(rules[0]), "allow br0 mac=52:54:00:00:00:01 ip=10.0.3.7,2001:db8:3::/64,10.1.0.0/16");
    EXPECT_EQ(format_limits(rules[0].limits),
              "max-taps=unlimited max-queues=8 mac=52:54:00:00:00:01 ip=10.0.3.7,2001:db8:3::/64,10.1.0.0/16");
}

TEST(Extension, IpRefusals) {
    EXPECT_EQ(parse_error("allow br0 ip=10.0.3.7"), "f:1: ip= needs mac= or mac-prefix= on the same rule");
    EXPECT_EQ(parse_error("deny br0 ip=10.0.3.7"), "f:1: ip= is for allow rules only");
    auto ip_error = [](const std::string& value) {
        return parse_error(("allow br0 mac-prefix=52 ip=" + value).c_str());
    };
    EXPECT_EQ(ip_error("10.0.3"), "f:1: ip=10.0.3: '10.0.3' is not an IP address");
    EXPECT_EQ(ip_error("10.0.3.256"), "f:1: ip=10.0.3.256: '10.0.3.256' is not an IP address");
    EXPECT_EQ(ip_error("010.0.3.1"), "f:1: ip=010.0.3.1: '010.0.3.1' is not an IP address");
    EXPECT_EQ(ip_error("host.example"), "f:1: ip=host.example: 'host.example' is not an IP address");
    EXPECT_EQ(ip_error("2001:db8:::1"), "f:1: ip=2001:db8:::1: '2001:db8:::1' is not an IP address");
    EXPECT_EQ(ip_error("10.0.3.7,"), "f:1: ip=10.0.3.7,: '' is not an IP address");
    EXPECT_EQ(ip_error(",10.0.3.7"), "f:1: ip=,10.0.3.7: '' is not an IP address");
    EXPECT_EQ(ip_error("10.0.3.0/33"), "f:1: ip=10.0.3.0/33: '10.0.3.0/33': the length after / is 0 to 32");
    EXPECT_EQ(ip_error("10.0.3.0/"), "f:1: ip=10.0.3.0/: '10.0.3.0/': the length after / is 0 to 32");
    EXPECT_EQ(ip_error("10.0.3.0/024"), "f:1: ip=10.0.3.0/024: '10.0.3.0/024': the length after / is 0 to 32");
    EXPECT_EQ(ip_error("10.0.3.0/+24"), "f:1: ip=10.0.3.0/+24: '10.0.3.0/+24': the length after / is 0 to 32");
    EXPECT_EQ(ip_error("2001:db8::/129"),
              "f:1: ip=2001:db8::/129: '2001:db8::/129': the length after / is 0 to 128");
    EXPECT_EQ(ip_error("10.0.3.7/24"),
              "f:1: ip=10.0.3.7/24: '10.0.3.7/24' has bits set past /24 (the prefix is 10.0.3.0/24)");
    EXPECT_EQ(ip_error("2001:db8::1/64"),
              "f:1: ip=2001:db8::1/64: '2001:db8::1/64' has bits set past /64 (the prefix is 2001:db8::/64)");
    EXPECT_EQ(ip_error("0.0.0.0"), "f:1: ip=0.0.0.0: '0.0.0.0' is the unspecified address");
    EXPECT_EQ(ip_error("::"), "f:1: ip=::: '::' is the unspecified address");
    EXPECT_EQ(ip_error("255.255.255.255"), "f:1: ip=255.255.255.255: '255.255.255.255' is the broadcast address");
    EXPECT_EQ(ip_error("224.0.0.1"), "f:1: ip=224.0.0.1: '224.0.0.1' is multicast");
    EXPECT_EQ(ip_error("239.0.0.0/8"), "f:1: ip=239.0.0.0/8: '239.0.0.0/8' is multicast");
    EXPECT_EQ(ip_error("ff02::1"), "f:1: ip=ff02::1: 'ff02::1' is multicast");
    EXPECT_EQ(ip_error("10.0.3.0/24,10.0.3.7"), "f:1: ip=10.0.3.0/24,10.0.3.7: 10.0.3.7 overlaps 10.0.3.0/24");
    EXPECT_EQ(ip_error("2001:db8:3::5,2001:db8::/32"),
              "f:1: ip=2001:db8:3::5,2001:db8::/32: 2001:db8::/32 overlaps 2001:db8:3::5");
    EXPECT_EQ(ip_error("10.0.3.7,10.0.3.7"), "f:1: ip=10.0.3.7,10.0.3.7: 10.0.3.7 overlaps 10.0.3.7");
    std::string many;
    for (int i = 0; i <= 32; ++i) many += (i ? "," : "") + std::string("10.0.0.") + std::to_string(i + 1);
    EXPECT_EQ(ip_error(many), "f:1: ip=" + many.substr(0, 64) + "...: more than 32 addresses");
    EXPECT_EQ(parse_error("allow br0 mac-prefix=52 ip=10.0.3.7 ip=10.0.3.8"), "f:1: ip= given twice");
}

TEST(Extension, Rates) {
    auto rules = rules_of("allow br0 rate=100mbit\nallow br1 rate=1500mbit mac-prefix=52\nallow br2\n");
    auto terms = terms_of(decide(rules, "br0", &kAlice), kDerive, 4711, "web", "br0");
    ASSERT_TRUE(terms.ok());
    EXPECT_EQ(terms->limits.rate_bits, 100000000u);
    EXPECT_FALSE(terms->has_mac);
    EXPECT_TRUE(needs_filter(terms->limits));  // a rate needs nftables, without a MAC too
    terms = terms_of(decide(rules, "br2", &kAlice), kDerive, 4711, "web", "br2");
    ASSERT_TRUE(terms.ok());
    EXPECT_FALSE(needs_filter(terms->limits));
    EXPECT_EQ(format_rule(rules[0]), "allow br0 rate=100mbit");
    EXPECT_EQ(format_rule(rules[1]), "allow br1 mac-prefix=52 rate=1500mbit");
    EXPECT_EQ(format_limits(rules[0].limits), "max-taps=unlimited max-queues=8 (MAC not pinned) rate=100mbit");
    EXPECT_EQ(*parse_rate("1kbit"), 1000u);
    EXPECT_EQ(*parse_rate("100gbit"), kMaxRateBits);
    EXPECT_EQ(format_rate(1000), "1kbit");
    EXPECT_EQ(format_rate(2000000000), "2gbit");
    EXPECT_EQ(format_rate(1500), "1500bit");
    const std::string want = "expected a whole number and kbit, mbit or gbit, 1kbit to 100gbit";
    for (const char* bad : {"100", "mbit", "0mbit", "01mbit", "-1mbit", "+1mbit", "1.5mbit",
                            "1Mbit", "1mbps", "101gbit", "100001mbit", "99999999999999999999kbit"})
        EXPECT_EQ(parse_error((std::string("allow br0 rate=") + bad).c_str()),
                  "f:1: rate=" + std::string(bad) + ": " + want)
            << bad;
    EXPECT_EQ(parse_error("deny br0 rate=1mbit"), "f:1: rate= is for allow rules only");
}

TEST(Extension, IpPrefixes) {
    auto p = parse_ip_prefix("0.0.0.0/0");
    ASSERT_TRUE(p.ok());  // any IPv4 source: taken as written
    EXPECT_EQ(format_ip_prefix(*p), "0.0.0.0/0");
    p = parse_ip_prefix("2001:DB8:0:0::7");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(format_ip_prefix(*p), "2001:db8::7");
    p = parse_ip_prefix("2001:db8:3::/64");
    ASSERT_TRUE(p.ok());
    auto last = last_address(*p);
    EXPECT_EQ(last[7], 0x00);
    EXPECT_EQ(last[8], 0xff);
    EXPECT_EQ(last[15], 0xff);
    auto host = parse_ip_prefix("10.0.3.7");
    auto net = parse_ip_prefix("10.0.2.0/23");
    ASSERT_TRUE(host.ok() && net.ok());
    EXPECT_TRUE(contains(*net, *host));
    EXPECT_FALSE(contains(*host, *net));
    EXPECT_FALSE(contains(*net, *parse_ip_prefix("10.0.4.1")));
    EXPECT_FALSE(contains(*net, *parse_ip_prefix("2001:db8::1")));
}

// Only an entry within fe80::/10 holds the guest's link-local addresses:
// one that merely contains link-local (::/0) leaves them all allowed anyway.
TEST(Extension, LinkLocalEntries) {
    EXPECT_TRUE(is_link_local(*parse_ip_prefix("fe80::5054:ff:fe12:3456")));
    EXPECT_TRUE(is_link_local(*parse_ip_prefix("fe80::/64")));
    EXPECT_TRUE(is_link_local(*parse_ip_prefix("febf::1")));
    EXPECT_TRUE(is_link_local(*parse_ip_prefix("fe80::/10")));
    EXPECT_FALSE(is_link_local(*parse_ip_prefix("fec0::1")));
    EXPECT_FALSE(is_link_local(*parse_ip_prefix("fe00::/7")));
    EXPECT_FALSE(is_link_local(*parse_ip_prefix("::/0")));
    EXPECT_FALSE(is_link_local(*parse_ip_prefix("2001:db8::7")));
    EXPECT_FALSE(is_link_local(*parse_ip_prefix("10.0.3.7")));
}

TEST(Extension, CheckCollectsEveryProblem) {
    std::vector<std::string> problems;
    int good = 0;
    auto r = parse_each("allow br0 x\nallow br1\nfrob\nallow br2 max-queues=z\n", "f",
                        [&](Line&&) { ++good; }, &problems);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(good, 1);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_EQ(problems[0].substr(0, 4), "f:1:");
    EXPECT_EQ(problems[1].substr(0, 4), "f:3:");
    EXPECT_EQ(problems[2].substr(0, 4), "f:4:");
}

struct Combo {
    const char* acl;
    const Credentials* who;
    const char* bridge;
    bool allowed;
    int deciding_line;  // 0: none
};

class Combines : public ::testing::TestWithParam<Combo> {};

TEST_P(Combines, AsDocumented) {
    const Combo& c = GetParam();
    auto rules = rules_of(c.acl);
    Decision d = decide(rules, c.bridge, c.who);
    EXPECT_EQ(d.allowed, c.allowed) << c.acl << " / " << c.bridge;
    EXPECT_EQ(d.deciding ? d.deciding->lineno : 0, c.deciding_line) << c.acl;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Combines,
    ::testing::Values(
        // Whom a rule is for.
        Combo{"allow br0 user=alice\n", &kAlice, "br0", true, 1},
        Combo{"allow br0 user=alice\n", &kBob, "br0", false, 0},
        Combo{"allow br0 group=vm\n", &kAlice, "br0", true, 1},
        Combo{"allow br0 group=vm\n", &kBob, "br0", false, 0},
        Combo{"allow br0 user=nosuch\n", &kAlice, "br0", false, 0},
        Combo{"allow br0 user=alice\n", nullptr, "br0", false, 0},
        // A subordinate uid is its account's: user= naming the account is
        // for it, a deny above all (review item 29-3).
        Combo{"deny br0 user=alice\nallow br0 group=vm\n", &kAliceSub, "br0", false, 1},
        Combo{"allow br0 user=alice\n", &kAliceSub, "br0", true, 1},
        Combo{"allow br0 user=bob\n", &kAliceSub, "br0", false, 0},
        // group= counts the account's groups in the group database too,
        // for a deny and for the most specific allow alike (review item
        // 29-2): dropping vm escapes neither.
        Combo{"deny br0 group=vm\nallow br0\n", &kAliceBare, "br0", false, 1},
        Combo{"deny br0 group=vm\nallow br0\n", &kAliceSubBare, "br0", false, 1},
        Combo{"allow br0 group=vm max-taps=1\nallow br0\n", &kAliceBare, "br0", true, 1},
        Combo{"allow br0 group=vm max-taps=1\nallow br0\n", &kAliceSubBare, "br0", true, 1},
        Combo{"allow br0 group=vm max-taps=1\nallow br0\n", &kBob, "br0", true, 2},
        // Deny wins, whatever is more specific.
        Combo{"allow br0 user=alice\ndeny br0\n", &kAlice, "br0", false, 2},
        Combo{"allow all\ndeny br0 group=vm\n", &kAlice, "br0", false, 2},
        Combo{"allow all\ndeny br0 group=vm\n", &kBob, "br0", true, 1},
        Combo{"allow all\ndeny all user=bob\n", &kBob, "br7", false, 2},
        // The most specific allow decides: user, then group, then anyone;
        // then a named bridge over all; then the first.
        Combo{"allow all max-taps=1\nallow br0 group=vm max-taps=2\nallow all user=alice\n",
              &kAlice, "br0", true, 3},
        Combo{"allow all max-taps=1\nallow br0 group=vm max-taps=2\n", &kAlice, "br0", true, 2},
        Combo{"allow all max-taps=1\nallow br0 group=vm max-taps=2\n", &kBob, "br0", true, 1},
        Combo{"allow all group=vm\nallow br0 group=vm\n", &kAlice, "br0", true, 2},
        Combo{"allow br0 max-taps=1\nallow br0 max-taps=2\n", &kAlice, "br0", true, 1}));

// userbridged's two views of the files (policy::Readable): a deny counts in
// a file either set of groups reads, an allow only in one both read.
TEST(Extension, ReadableViewsPerVerb) {
    auto rules = rules_of("allow br0\ndeny br1\n");
    for (Rule& r : rules) r.file_index = 0;
    Readable neither{{false}, {false}};
    Readable deny_only{{false}, {true}};
    EXPECT_FALSE(decide(rules, "br0", &kAlice, &neither).allowed);
    EXPECT_EQ(decide(rules, "br0", &kAlice, &neither).deciding, nullptr);
    EXPECT_FALSE(decide(rules, "br0", &kAlice, &deny_only).allowed);
    EXPECT_EQ(decide(rules, "br1", &kAlice, &deny_only).deciding, &rules[1]);
    Readable both = Readable::same({true});
    EXPECT_TRUE(decide(rules, "br0", &kAlice, &both).allowed);
}

TEST(Extension, LimitsComeFromTheDecidingRule) {
    auto rules = rules_of("allow all max-taps=1\nallow br0 group=vm max-taps=2 max-queues=4\n");
    EXPECT_EQ(decide(rules, "br0", &kAlice).limits().max_taps, 2);
    EXPECT_EQ(decide(rules, "br0", &kAlice).limits().max_queues, 4);
    EXPECT_EQ(decide(rules, "br0", &kBob).limits().max_taps, 1);
    EXPECT_EQ(decide(rules, "br0", &kBob).limits().max_queues, kDefaultMaxQueues);
    EXPECT_FALSE(check_queues(decide(rules, "br0", &kBob), 8));
    auto refused = check_queues(decide(rules, "br0", &kBob), 9);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->reason, "asked for 9 queues; acl:1 allows at most 8");
}

TEST(Extension, AuthPolkitParsesAndFormats) {
    auto rules = rules_of("allow br0 group=vm max-taps=2 auth=polkit\nallow br1\n");
    EXPECT_EQ(rules[0].auth, Auth::Polkit);
    EXPECT_EQ(rules[1].auth, Auth::Acl);
    EXPECT_EQ(format_rule(rules[0]), "allow br0 group=vm max-taps=2 auth=polkit");
    EXPECT_EQ(parse_error("allow br0 auth=yes"), "f:1: auth=yes: expected polkit");
    EXPECT_EQ(parse_error("deny br0 auth=polkit"), "f:1: auth= is for allow rules only");
    EXPECT_EQ(parse_error("allow br0 auth=polkit auth=polkit"), "f:1: auth= given twice");
}

TEST(Extension, IsolatedParsesAndFormats) {
    auto rules = rules_of("allow br0 group=vm isolated=yes\nallow br1 isolated=no\nallow br2\n");
    EXPECT_TRUE(rules[0].limits.isolated);
    EXPECT_FALSE(rules[1].limits.isolated);
    EXPECT_FALSE(rules[2].limits.isolated);
    EXPECT_EQ(format_rule(rules[0]), "allow br0 group=vm isolated=yes");
    EXPECT_EQ(format_rule(rules[1]), "allow br1");
    EXPECT_FALSE(needs_filter(rules[0].limits));  // the bridge isolates: the helper grants it too
    EXPECT_EQ(parse_error("allow br0 isolated=on"), "f:1: isolated=on: expected yes or no");
    EXPECT_EQ(parse_error("deny br0 isolated=yes"), "f:1: isolated= is for allow rules only");
    EXPECT_EQ(parse_error("allow br0 isolated=yes isolated=no"), "f:1: isolated= given twice");
}

TEST(Extension, OnlyABridgeRuleMayNameAll) {
    EXPECT_EQ(parse_error("allow all mode=routed ip=10.0.0.5"), "f:1: mode=routed names its interface: not all");
    EXPECT_EQ(parse_error("allow all mode=macvtap"), "f:1: mode=macvtap names its interface: not all");
    EXPECT_EQ(rules_of("allow all mode=bridge\n").size(), 1u);
}

TEST(Extension, RoutedParsesAndFormats) {
    auto rules = rules_of("allow wlan0 user=1000 mode=routed ip=192.168.1.50,2001:db8::50\nallow br0 mode=bridge\n");
    EXPECT_EQ(rules[0].limits.mode, Mode::Routed);
    EXPECT_EQ(rules[1].limits.mode, Mode::Bridge);
    EXPECT_EQ(format_rule(rules[0]), "allow wlan0 user=1000 ip=192.168.1.50,2001:db8::50 mode=routed");
    EXPECT_EQ(format_rule(rules[1]), "allow br0");
    EXPECT_EQ(daemon_only(rules[0]), "it routes the tap to an uplink (mode=routed)");
    EXPECT_EQ(parse_error("allow wlan0 mode=nat"), "f:1: mode=nat: expected bridge, routed or macvtap");
    EXPECT_EQ(parse_error("deny wlan0 mode=routed"), "f:1: mode= is for allow rules only");
    EXPECT_EQ(parse_error("allow wlan0 mode=routed"), "f:1: mode=routed needs ip= (the guest's addresses)");
    EXPECT_EQ(parse_error("allow wlan0 mode=routed ip=192.168.1.0/24"),
              "f:1: mode=routed: ip= lists single addresses, not link-local, not prefixes (192.168.1.0/24)");
    EXPECT_EQ(parse_error("allow wlan0 mode=routed ip=fe80::5"),
              "f:1: mode=routed: ip= lists single addresses, not link-local, not prefixes (fe80::5)");
    for (const char* opt : {"rate=10mbit", "isolated=yes", "mac=52:54:00:00:00:01", "mac-prefix=52 servers=no"})
        EXPECT_EQ(parse_error(("allow wlan0 mode=routed ip=10.0.0.5 " + std::string(opt)).c_str()),
                  "f:1: mode=routed takes no mac=, mac-prefix=, servers=, rate= or isolated=: its tap is no "
                  "bridge port")
            << opt;
}

TEST(Extension, MacvtapParsesAndFormats) {
    auto rules = rules_of("allow eth0 mode=macvtap max-taps=1 mac=52:54:00:00:00:0b\nallow br0 mode=bridge\n");
    EXPECT_EQ(rules[0].limits.mode, Mode::Macvtap);
    EXPECT_EQ(rules[1].limits.mode, Mode::Bridge);
    EXPECT_EQ(mode_name(Mode::Macvtap), "macvtap");
    EXPECT_EQ(format_rule(rules[0]), "allow eth0 max-taps=1 mac=52:54:00:00:00:0b mode=macvtap");
    EXPECT_EQ(daemon_only(rules[0]), "it gives a macvtap (mode=macvtap)");
    EXPECT_EQ(parse_error("allow eth0 mode=tap"), "f:1: mode=tap: expected bridge, routed or macvtap");
    EXPECT_EQ(parse_error("deny eth0 mode=macvtap"), "f:1: mode= is for allow rules only");
    for (const char* opt : {"rate=10mbit", "isolated=yes", "mac-prefix=52 servers=no", "mac-prefix=52 ip=10.0.0.2"})
        EXPECT_EQ(parse_error(("allow eth0 mode=macvtap " + std::string(opt)).c_str()),
                  "f:1: mode=macvtap takes no servers=, ip=, rate= or isolated=: a macvtap is no bridge port")
            << opt;
}

// The deciding allow's auth=polkit makes one decision value for both front
// ends: not allowed yet, polkit to be asked, and words that send a helper's
// user to the daemon. A less specific allow without it does not decide.
TEST(Extension, AuthPolkitDecidesOnlyThroughPolkit) {
    auto rules = rules_of("allow all\nallow br0 user=alice max-taps=3 auth=polkit\ndeny br0 user=bob\n");
    Decision d = decide(rules, "br0", &kAlice);
    EXPECT_FALSE(d.allowed);
    EXPECT_TRUE(d.ask_polkit);
    ASSERT_EQ(d.deciding, &rules[1]);
    EXPECT_EQ(d.reason, "polkit decides (auth=polkit at acl:2), which only userbridged asks: "
                        "use userbridge-client or userbridge run");
    EXPECT_EQ(d.limits().max_taps, kUnlimited);  // nothing until polkit says yes
    Decision yes = polkit_granted(d);
    EXPECT_TRUE(yes.allowed);
    EXPECT_FALSE(yes.ask_polkit);
    EXPECT_EQ(yes.limits().max_taps, 3);
    EXPECT_EQ(yes.reason, "allowed by acl:2 and polkit");
    // A deny still wins, and polkit is not asked.
    Decision bob = decide(rules, "br0", &kBob);
    EXPECT_FALSE(bob.allowed);
    EXPECT_FALSE(bob.ask_polkit);
    // Another bridge: the plain allow decides.
    EXPECT_TRUE(decide(rules, "br1", &kAlice).allowed);
}

TEST(MacDerivation, FixedNeedsNoDeriverPrefixRefusesWithoutOne) {
    auto rules = rules_of("allow br0 mac=52:54:00:01:02:03\nallow br1 mac-prefix=52:54\n");
    auto terms = terms_of(decide(rules, "br0", &kAlice), nullptr, 4711, "web", "br0");
    ASSERT_TRUE(terms.ok());
    EXPECT_EQ(format_mac(terms->guest_mac), "52:54:00:01:02:03");
    terms = terms_of(decide(rules, "br1", &kAlice), nullptr, 4711, "web", "br1");
    ASSERT_FALSE(terms.ok());
    EXPECT_EQ(terms.error().message(), "mac-prefix= at acl:2: no MAC key to derive the guest MAC with");
    MacDeriver failing = [](const MacPolicy&, uid_t, std::string_view, std::string_view) -> Result<Mac> {
        return Error::msg("no MAC key at /k: make one");
    };
    terms = terms_of(decide(rules, "br1", &kAlice), failing, 4711, "web", "br1");
    ASSERT_FALSE(terms.ok());
    EXPECT_EQ(terms.error().message(), "mac-prefix= at acl:2: no MAC key at /k: make one");
    terms = terms_of(decide(rules, "br1", &kAlice), kDerive, 4711, "web", "br1");
    ASSERT_TRUE(terms.ok());
    EXPECT_EQ(format_mac(terms->guest_mac), "52:54:ee:ee:ee:ee");
}

TEST(Extension, LeaseOption) {
    auto rules = rules_of("allow br0 max-taps=2 lease=8h\n");
    EXPECT_EQ(rules[0].limits.lease_max, 8u * 3600);
    EXPECT_EQ(format_duration(8 * 3600), "8h");
    EXPECT_EQ(format_duration(90), "90s");
    EXPECT_EQ(*parse_duration("366d"), kMaxLeaseSeconds);
    for (const char* bad : {"367d", "0s", "08h", "1", "h", "1w", "-1s", "1.5h"})
        EXPECT_FALSE(parse_duration(bad).ok()) << bad;
    EXPECT_EQ(parse_error("deny br0 lease=1h"), "f:1: lease= is for allow rules only");
    EXPECT_EQ(parse_error("allow br0 lease=0s"), "f:1: lease=0s: expected a whole number and s, m, h or d, 1s to 366d");
}

TEST(Extension, LeaseLength) {
    auto rules = rules_of("allow br0 lease=1h\nallow br1\n");
    Decision d = decide(rules, "br0");
    constexpr ChecksumGuard exact = ChecksumGuard::Exact;
    EXPECT_EQ(std::get<std::uint32_t>(lease_length(d, 0, exact)), 3600u);  // the rule's longest
    EXPECT_EQ(std::get<std::uint32_t>(lease_length(d, 60, exact)), 60u);
    EXPECT_EQ(std::get<std::uint32_t>(lease_length(d, 60, ChecksumGuard::Missing)), 60u);  // no pin to hold
    EXPECT_EQ(std::get<ub::Refusal>(lease_length(d, 7200, exact)).reason,
              "asked for a lease of 2h; " + where(*d.deciding) + " gives at most 1h");
    Decision none = decide(rules, "br1");
    EXPECT_EQ(std::get<ub::Refusal>(lease_length(none, 60, exact)).reason,
              where(*none.deciding) + " gives no leases (it has no lease=)");
    // A pinned MAC gives leases only behind the checksum guard: the
    // lease's opener picks its flags.
    auto pinned = rules_of("allow br0 lease=1h mac=52:54:00:00:00:01\n");
    Decision p = decide(pinned, "br0");
    EXPECT_EQ(std::get<std::uint32_t>(lease_length(p, 60, exact)), 60u);
    EXPECT_EQ(std::get<ub::Refusal>(lease_length(p, 60, ChecksumGuard::Missing)).reason,
              where(*p.deciding) + " pins a MAC, and userbridged could not load the checksum guard that holds a " +
                  "pin whatever a lease's opener asks (its log says why): it gives taps, not leases");
}
