// The decision: every rule considered, deny wins, default deny. Each case is
// also QEMU's answer: here we do not differ.
#include <gtest/gtest.h>

#include "policy/acl.h"
#include "acl_parse_all.h"

using namespace ub::policy;

namespace {

std::vector<Rule> rules_of(const char* text) {
    auto lines = parse(text, "acl");
    EXPECT_TRUE(lines.ok());
    std::vector<Rule> rules;
    auto name = std::make_shared<const std::string>("acl");
    for (const Line& l : *lines)
        rules.push_back(Rule{l.verb, l.arg == "all" ? "" : l.arg, name, l.lineno});
    return rules;
}

struct Case {
    const char* acl;
    const char* bridge;
    bool allowed;
    const char* reason;
};

class Decides : public ::testing::TestWithParam<Case> {};

TEST_P(Decides, AsQemuDoes) {
    auto rules = rules_of(GetParam().acl);
    Decision d = decide(rules, GetParam().bridge);
    EXPECT_EQ(d.allowed, GetParam().allowed) << GetParam().acl << " / " << GetParam().bridge;
    EXPECT_EQ(d.reason, GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Decides,
    ::testing::Values(
        Case{"", "br0", false, "no rule allows it (the default is deny)"},
        Case{"allow br0", "br0", true, "allowed by acl:1"},
        Case{"allow br0", "br1", false, "no rule allows it (the default is deny)"},
        Case{"allow all", "br7", true, "allowed by acl:1"},
        Case{"deny br0", "br0", false, "denied by acl:1"},
        Case{"allow br0\ndeny br0", "br0", false, "denied by acl:2"},
        Case{"deny br0\nallow br0", "br0", false, "denied by acl:1"},
        Case{"allow all\ndeny br0", "br0", false, "denied by acl:2"},
        Case{"allow all\ndeny br0", "br1", true, "allowed by acl:1"},
        Case{"deny all\nallow br0", "br0", false, "denied by acl:1"},  // deny all wins
        Case{"allow br0\nallow all", "br0", true, "allowed by acl:1"},
        Case{"deny br1\nallow br0", "br0", true, "allowed by acl:2"},
        Case{"allow br0", "br00", false, "no rule allows it (the default is deny)"},
        Case{"allow br00", "br0", false, "no rule allows it (the default is deny)"},
        Case{"allow BR0", "br0", false, "no rule allows it (the default is deny)"}));

TEST(Decide, PointsAtTheDecidingRule) {
    auto rules = rules_of("allow all\n# x\ndeny br0\n");
    Decision d = decide(rules, "br0");
    ASSERT_NE(d.deciding, nullptr);
    EXPECT_EQ(d.deciding->lineno, 3);
    EXPECT_EQ(d.deciding->verb, Verb::Deny);
    d = decide(rules_of(""), "br0");
    EXPECT_EQ(d.deciding, nullptr);
}

TEST(Decide, TenThousandRules) {
    std::string acl;
    for (int i = 0; i < 10000; ++i) acl += "allow br" + std::to_string(i) + "\n";
    auto rules = rules_of(acl.c_str());
    EXPECT_TRUE(decide(rules, "br9999").allowed);
    EXPECT_FALSE(decide(rules, "br10000").allowed);
}

}  // namespace
