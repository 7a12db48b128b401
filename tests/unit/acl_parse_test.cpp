// The ACL grammar, line by line. Each case states what QEMU's helper does with
// the same line where we differ on purpose: we always fail closed.
#include <gtest/gtest.h>

#include "policy/acl.h"
#include "acl_parse_all.h"

using ub::policy::Line;
using ub::policy::parse;
using ub::policy::Verb;

namespace {

struct GoodCase {
    const char* text;
    Verb verb;
    const char* arg;
};

class ParsesLine : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParsesLine, IntoOneRule) {
    auto r = parse(GetParam().text, "t.conf");
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].verb, GetParam().verb);
    EXPECT_EQ((*r)[0].arg, GetParam().arg);
    EXPECT_EQ((*r)[0].lineno, 1);
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, ParsesLine,
    ::testing::Values(GoodCase{"allow br0", Verb::Allow, "br0"},
                      GoodCase{"allow all", Verb::Allow, "all"},
                      GoodCase{"deny br0", Verb::Deny, "br0"},
                      GoodCase{"deny all", Verb::Deny, "all"},
                      GoodCase{"include /etc/qemu/alice.conf", Verb::Include, "/etc/qemu/alice.conf"},
                      GoodCase{"include sub dir/x.conf", Verb::Include, "sub dir/x.conf"},
                      GoodCase{"  allow br0  ", Verb::Allow, "br0"},
                      // QEMU splits at the first space, and only if there is
                      // none at the first tab: "allow\tbr0 " is an error there.
                      GoodCase{"allow\tbr0", Verb::Allow, "br0"},
                      GoodCase{"allow\tbr0 ", Verb::Allow, "br0"},
                      GoodCase{"allow br0\r", Verb::Allow, "br0"},       // CRLF files
                      GoodCase{"allow br0\n", Verb::Allow, "br0"},
                      GoodCase{"allow 123456789012345", Verb::Allow, "123456789012345"},
                      GoodCase{"allow br-lan.10", Verb::Allow, "br-lan.10"}));

struct BadCase {
    const char* text;
    const char* error;  // substring of ours, which reads "t.conf:LINE: ..."
    const char* qemu;   // what QEMU's helper does with it
};

class RejectsLine : public ::testing::TestWithParam<BadCase> {};

TEST_P(RejectsLine, WithFileAndLine) {
    auto r = parse(GetParam().text, "t.conf");
    ASSERT_FALSE(r.ok()) << "accepted; QEMU: " << GetParam().qemu;
    EXPECT_NE(r.error().message().find(GetParam().error), std::string::npos)
        << r.error().message();
    EXPECT_EQ(r.error().message().rfind("t.conf:", 0), 0u) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, RejectsLine,
    ::testing::Values(
        BadCase{"allow", "needs an argument", "same: 'Invalid config line'"},
        BadCase{"allow   ", "needs an argument", "accepts, rule with empty name never matches"},
        BadCase{"permit br0", "unknown keyword 'permit'", "same: 'Unknown command'"},
        BadCase{"Allow br0", "unknown keyword", "same: keywords are case-sensitive"},
        BadCase{"allow 1234567890123456", "16 bytes long, the limit is 15", "same since CVE-2019-13164"},
        BadCase{"allow br0 # lab", "'#': expected key=value", "accepts 'br0 # lab', which never matches"},
        BadCase{"allow br 0", "'0': expected key=value", "accepts 'br 0', which never matches"},
        BadCase{"allow br/0", "contains '/'", "accepts, never matches"},
        BadCase{"allow br:0", "contains ':'", "accepts, never matches"},
        BadCase{"allow ..", "not a valid interface name", "accepts, never matches"},
        BadCase{"allow br\x01", "not printable ASCII", "accepts, never matches"},
        BadCase{"allow br\xc3\xa9", "not printable ASCII", "accepts; kernel allows such names"}));

TEST(Parse, SkipsCommentsAndBlankLines) {
    auto r = parse("# comment\n\n   # indented comment\n\t\nallow br0\n", "t.conf");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].lineno, 5);
}

TEST(Parse, ReportsTheLineOfTheError) {
    auto r = parse("allow br0\n\ndeny br1\nbogus x\n", "/etc/qemu/bridge.conf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message().rfind("/etc/qemu/bridge.conf:4: ", 0), 0u) << r.error().message();
}

TEST(Parse, RejectsNulBytes) {
    std::string text = "allow br0\nallow b";
    text += '\0';
    text += "r1\n";
    auto r = parse(text, "t.conf");
    ASSERT_FALSE(r.ok());  // QEMU: fgets stops at NUL and reads "allow b"
    EXPECT_NE(r.error().message().find("t.conf:2: contains a NUL byte"), std::string::npos);
}

TEST(Parse, EmptyFileHasNoRules) {
    auto r = parse("", "t.conf");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
}

TEST(Parse, LastLineWithoutNewline) {
    auto r = parse("allow br0\ndeny br1", "t.conf");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[1].arg, "br1");
}

TEST(Parse, LongLinesAreOneLine) {
    // QEMU's fgets with a 4096-byte buffer splits a longer line in two.
    std::string text = "include /" + std::string(5000, 'a') + "\n";
    auto r = parse(text, "t.conf");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].arg.size(), 5001u);
}

}  // namespace
