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
    EXPECT_EQ(o[2], "4: QEMU's bridge helper takes 'br1\tuser=bob' for a name: it denies nothing by it");
}

TEST(QemuReads, WhatBothReadAlikeIsNotListed) {
    EXPECT_TRUE(otherwise("# a comment\n\n  allow br0  \ndeny br1\ndeny all\nallow all\n"
                          "allow br0 user=alice\ninclude /etc/qemu/lab.conf\n# deny br0 user=bob\n")
                    .empty());
    EXPECT_TRUE(otherwise("allow br0 user=al\n", true).empty());  // under 16 bytes: matches nothing
}

TEST(QemuReads, ARelativeIncludeIsTheCallers) {
    auto o = otherwise("include lab.conf\ninclude  ./x.conf \n");
    ASSERT_EQ(o.size(), 2u);
    EXPECT_EQ(o[0], "1: QEMU's bridge helper opens lab.conf from its caller's working directory, which the "
                    "caller chooses, and takes the rules found there");
    EXPECT_NE(o[1].find("opens ./x.conf from"), std::string::npos) << o[1];
}

// In an included file a line QEMU cannot parse ends its reading of that
// file; in the main file, every request is refused.
TEST(QemuReads, ALineQemuCannotParse) {
    auto inc = otherwise("allow br9 user=ubalice\ndeny br0\n", true);
    ASSERT_EQ(inc.size(), 1u);
    EXPECT_EQ(inc[0], "1: QEMU 7.2's bridge helper cannot take a name of 16 bytes or more and reads nothing more "
                      "of this file: denies after it do not count for it");
    auto deny = otherwise("deny br0 user=ubalice\n", true);
    ASSERT_EQ(deny.size(), 1u);
    EXPECT_NE(deny[0].find("denies nothing by it; QEMU 7.2's cannot take"), std::string::npos) << deny[0];
    auto tab = otherwise("deny\tbr0 \n", true);  // split at the space: command "deny\tbr0"
    ASSERT_EQ(tab.size(), 1u);
    EXPECT_NE(tab[0].find("cannot parse it"), std::string::npos) << tab[0];
    EXPECT_NE(tab[0].find("reads nothing more of this file"), std::string::npos) << tab[0];
    auto main = otherwise("allow\n");
    ASSERT_EQ(main.size(), 1u);
    EXPECT_NE(main[0].find("refuses every request"), std::string::npos) << main[0];
}

// QEMU reads in pieces of 4,095 bytes: a long comment's tail is a line.
TEST(QemuReads, ALongLinesTailIsALineToQemu) {
    std::string comment = "#" + std::string(4094, 'x') + "include evil.conf\n";
    auto o = otherwise(comment);
    ASSERT_EQ(o.size(), 1u);
    EXPECT_NE(o[0].find("1: QEMU's bridge helper opens evil.conf"), std::string::npos) << o[0];
}

}  // namespace
