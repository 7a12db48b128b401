#include <gtest/gtest.h>

#include "base/names.h"

using ub::ifname_problem;
using ub::printable;

TEST(Ifname, AcceptsKernelNames) {
    for (const char* ok : {"br0", "b", "virbr0", "br-lan", "br_lan.10", "123456789012345", "@x"})
        EXPECT_EQ(ifname_problem(ok), "") << ok;
}

TEST(Ifname, RejectsWhatTheKernelRejects) {
    EXPECT_NE(ifname_problem(""), "");
    EXPECT_NE(ifname_problem("1234567890123456"), "");  // CVE-2019-13164
    EXPECT_NE(ifname_problem(std::string(4096, 'a')), "");
    EXPECT_NE(ifname_problem("."), "");
    EXPECT_NE(ifname_problem(".."), "");
    EXPECT_NE(ifname_problem("a/b"), "");
    EXPECT_NE(ifname_problem("a:b"), "");
    EXPECT_NE(ifname_problem("a b"), "");
    EXPECT_NE(ifname_problem("a\tb"), "");
    EXPECT_NE(ifname_problem("a\nb"), "");
    EXPECT_NE(ifname_problem(std::string("a\0b", 3)), "");
}

TEST(Ifname, RejectsBytesWeRefuseOnPurpose) {
    EXPECT_NE(ifname_problem("br\x7f"), "");
    EXPECT_NE(ifname_problem("br\xff"), "");
    EXPECT_NE(ifname_problem("br\xc3\xa9"), "");  // valid UTF-8, still refused
    EXPECT_EQ(ifname_problem("..."), "");          // the kernel allows it
}

TEST(Printable, EscapesAndBounds) {
    EXPECT_EQ(printable("br0"), "br0");
    EXPECT_EQ(printable("a\nb"), "a\\x0ab");
    EXPECT_EQ(printable("a\\b"), "a\\x5cb");
    EXPECT_EQ(printable(std::string(100, 'x'), 8), "xxxxxxxx...");
}
