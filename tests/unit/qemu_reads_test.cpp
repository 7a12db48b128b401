// What QEMU's qemu-bridge-helper makes of our ACL files
// (compat/qemu_helper.h, qemu_reads_otherwise): pure, on texts. Each case
// is what QEMU's parse_acl_file does with the line (qemu-bridge-helper.c).
#include <gtest/gtest.h>

#include "compat/qemu_helper.h"

using ub::compat::qemu_reads_otherwise;

namespace {

// "LINE: what" of each line QEMU reads otherwise.
std::vector<std::string> otherwise(std::string_view text, bool included = false) {
    std::vector<std::string> out;
    for (const auto& q : qemu_reads_otherwise(text, included)) out.push_back(std::to_string(q.line) + ": " + q.what);
    return out;
}

TEST(QemuReads, ADenyWithAnOptionDeniesNothing) {
    auto o = otherwise("allow br0\ndeny br0 user=bob\ndeny all group=guests\n  deny\tbr1\tuser=bob\n");
    ASSERT_EQ(o.size(), 3u);
    EXPECT_EQ(o[0], "2: QEMU's bridge helper takes 'br0 user=bob' for a name: it denies nothing by it");
    EXPECT_EQ(o[1], "3: QEMU's bridge helper takes 'all group=guests' for a name: it denies nothing by it");
    EXPECT_EQ(o[2], "4: QEMU's bridge helper takes 'br1\\x09user=bob' for a name: it denies nothing by it");
}

TEST(QemuReads, WhatBothReadAlikeIsNotListed) {
    EXPECT_TRUE(otherwise("# a comment\n\n  allow br0  \ndeny br1\ndeny all\nallow all\n"
                          "allow br0 user=alice\ninclude /etc/qemu/lab.conf\n# deny br0 user=bob\n")
                    .empty());
    EXPECT_TRUE(otherwise("allow br0 user=al\ndeny br1\n", true).empty());  // under 16 bytes: matches nothing
}

TEST(QemuReads, ARelativeIncludeIsTheCallers) {
    auto o = otherwise("include lab.conf\ninclude  ./x.conf \n");
    ASSERT_EQ(o.size(), 2u);
    EXPECT_EQ(o[0], "1: QEMU's bridge helper opens lab.conf from its caller's working directory, which the "
                    "caller chooses, and takes the rules found there");
    EXPECT_NE(o[1].find("opens ./x.conf from"), std::string::npos) << o[1];
}

// In an included file a line QEMU cannot parse ends its reading of that
// file: listed where a deny (or an include) after it is lost. In the main
// file QEMU then refuses every request: not listed.
TEST(QemuReads, ALineQemuCannotParse) {
    auto inc = otherwise("allow br9 user=ubalice\nallow br1\ndeny br0\n", true);
    ASSERT_EQ(inc.size(), 1u);
    EXPECT_EQ(inc[0], "1: QEMU's bridge helper (7.2) cannot parse it and reads nothing more of this file: line 3's "
                      "deny, and all after it, do not count for it");
    EXPECT_TRUE(otherwise("allow br0 group=netdev\nallow br1\n", true).empty());  // nothing lost
    auto deny = otherwise("deny br0 user=ubalice\ninclude /etc/qemu/x.conf\n", true);
    ASSERT_EQ(deny.size(), 1u);
    EXPECT_NE(deny[0].find("denies nothing by it; QEMU's bridge helper (7.2) cannot parse it"), std::string::npos)
        << deny[0];
    auto tab = otherwise("allow\tbr0 \ndeny br1\n", true);  // split at the space: command "allow\tbr0"
    ASSERT_EQ(tab.size(), 1u);
    EXPECT_NE(tab[0].find("line 2's deny"), std::string::npos) << tab[0];
    EXPECT_TRUE(otherwise("allow\ndeny br1\nallow\tbr0 user=ubalice\n").empty());
}

// QEMU 7.2 trims with g_ascii_isspace, which is not '\v'; userbridge
// splits at it (a fourth cold review).
TEST(QemuReads, AVerticalTabIsNoSpaceToQemu) {
    auto o = otherwise("allow all\ndeny br0\v\ninclude /etc/qemu/e.conf\v\ninclude \v/etc/qemu/e.conf\n");
    ASSERT_EQ(o.size(), 3u);
    EXPECT_NE(o[0].find("2: QEMU's bridge helper takes 'br0\\x0b' for a name"), std::string::npos) << o[0];
    EXPECT_NE(o[1].find("3: QEMU's bridge helper opens '/etc/qemu/e.conf\\x0b', not the file"), std::string::npos)
        << o[1];
    EXPECT_NE(o[2].find("4: QEMU's bridge helper opens \\x0b/etc/qemu/e.conf from its caller's"), std::string::npos)
        << o[2];
}

// The line QEMU cannot parse may be the deny itself.
TEST(QemuReads, TheUnparsableLineIsTheDeny) {
    for (std::string line : {"deny\tbr0 ", "deny\tbr0 user=ubbob", "\vdeny br0", "include\t/etc/qemu/e.conf "}) {
        auto o = otherwise(line + "\n", true);
        ASSERT_EQ(o.size(), 1u) << line;
        EXPECT_NE(o[0].find("reads nothing more of this file: line 1's"), std::string::npos) << o[0];
    }
}

// QEMU reads in pieces of 4,095 bytes: a long line's tail is a line of its
// own, whatever it says (a second review's comments ending in "allow all"
// and in an include).
TEST(QemuReads, ALongLinesTailIsALineToQemu) {
    for (std::string tail : {"allow all", "include /etc/qemu/more.conf", "include evil.conf", "allow br0"}) {
        auto o = otherwise("#" + std::string(4094, 'x') + tail + "\n", true);
        ASSERT_EQ(o.size(), 1u) << tail;
        EXPECT_NE(o[0].find("1: QEMU's bridge helper reads it in pieces of 4,095 bytes"), std::string::npos) << o[0];
    }
    EXPECT_TRUE(otherwise("#" + std::string(4094, 'x') + " # more\n", true).empty());  // a comment to QEMU too
    // A tail QEMU cannot parse: in the main file it refuses every request;
    // in an included one it reads no more of it, which matters before a deny.
    std::string junk = "#" + std::string(5000, 'x') + "\n";
    EXPECT_TRUE(otherwise(junk).empty());
    EXPECT_TRUE(otherwise(junk, true).empty());
    auto o = otherwise(junk + "deny br0\n", true);
    ASSERT_EQ(o.size(), 1u);
    EXPECT_NE(o[0].find("1: QEMU's bridge helper (7.2) cannot parse it"), std::string::npos) << o[0];
}

}  // namespace
