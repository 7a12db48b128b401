// The policy in words (policy/explain.h): why a rule applies or not, and
// what `userbridge explain` concludes.
#include <gtest/gtest.h>

#include "policy/explain.h"
#include "acl_parse_all.h"

using namespace ub::policy;

namespace {

// One rule a line, users and groups resolved from `ids` (name, id); a name
// not listed does not exist.
std::vector<Rule> rules_with(const char* text, const std::vector<std::pair<std::string, long long>>& ids) {
    auto lines = parse(text, "acl");
    EXPECT_TRUE(lines.ok()) << lines.error().message();
    std::vector<Rule> rules;
    auto file = std::make_shared<const std::string>("acl");
    for (Line& l : *lines) {
        for (const auto& [name, id] : ids)
            if (l.who.id < 0 && l.who.name == name) l.who.id = id;
        rules.push_back({l.verb, l.arg == "all" ? "" : l.arg, file, l.lineno, 0, l.who, l.limits, l.auth});
    }
    return rules;
}

const std::vector<std::pair<std::string, long long>> kIds{{"alice", 4711}, {"bob", 4712}, {"vm", 4800}};
const Credentials kAlice{4711, 4711, {4800}};
const Credentials kBob{4712, 4712, {}};

TEST(Explain, WhyARuleDoesNotApply) {
    auto rules = rules_with("allow br1\nallow br0 user=bob\nallow br0 group=vm\nallow br0 user=nosuch\n", kIds);
    EXPECT_EQ(applies(rules[0], "br0", &kAlice).why, "for bridge br1");
    EXPECT_EQ(applies(rules[1], "br0", &kAlice).why, "for user bob only");
    EXPECT_EQ(applies(rules[2], "br0", &kAlice).why, "for group vm");
    EXPECT_EQ(applies(rules[2], "br0", &kBob).why, "for group vm, which the user is not in");
    EXPECT_EQ(applies(rules[3], "br0", &kAlice).why, "user nosuch does not exist");
    EXPECT_EQ(format_rule(rules[2]), "allow br0 group=vm");
}

TEST(Explain, PolkitDecidesOnlyThroughTheDaemon) {
    auto rules = rules_with("allow all\nallow br0 user=alice max-taps=3 auth=polkit\ndeny br0 user=bob\n", kIds);
    auto lines = explain(rules, "br0", kAlice, nullptr);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "=> polkit decides: userbridged asks it for org.userbridge.use-bridge (not asked "
                            "here); if it says yes, allowed by acl:2, max-taps=3 max-queues=8 (MAC not "
                            "pinned); the helper refuses");
}

TEST(Explain, AFilterRuleSaysTheHelperRefuses) {
    auto rules = rules_with("allow br0 rate=1mbit\n", {});
    auto lines = explain(rules, "br0", {0, 0, {0}}, nullptr);
    EXPECT_NE(lines.back().find("only through userbridged"), std::string::npos) << lines.back();
}

// max-taps= is userbridged's: explain says the helper refuses the rule,
// and check says why (daemon_only).
TEST(Explain, AQuotaRuleSaysTheHelperRefuses) {
    auto rules = rules_with("allow br0 user=alice max-taps=2\nallow all\n", kIds);
    auto lines = explain(rules, "br0", kAlice, nullptr);
    EXPECT_EQ(lines.back(), "=> allowed by acl:1, max-taps=2 max-queues=8 (MAC not pinned); only through "
                            "userbridged (userbridge-client, userbridge run): the helper refuses max-taps=");
    EXPECT_EQ(daemon_only(rules[0]), "it counts a quota (max-taps=)");
}

}  // namespace
