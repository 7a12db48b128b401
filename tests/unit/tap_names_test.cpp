// Tap names: a counter, in sequence, from where the creator starts it
// (userbridged: 0; the helper: its pid), wrapping, always a valid interface
// name.
#include <gtest/gtest.h>

#include <linux/if.h>

#include "net/tap.h"

namespace {

TEST(TapNames, CountFromZero) {
    ub::net::TapNames names;
    EXPECT_EQ(names.next(), "tap0");
    EXPECT_EQ(names.next(), "tap1");
    EXPECT_EQ(names.next(), "tap2");
}

TEST(TapNames, CountFromAPid) {
    ub::net::TapNames names(4194303);  // the largest pid Linux hands out
    EXPECT_EQ(names.next(), "tap4194303");
    EXPECT_EQ(names.next(), "tap4194304");
}

TEST(TapNames, WrapAfterTheLastAndFitIfnamsiz) {
    ub::net::TapNames names(ub::net::TapNames::kWrap - 1);
    std::string last = names.next();
    EXPECT_EQ(last, "tap9999999");
    EXPECT_LT(last.size(), static_cast<std::size_t>(IFNAMSIZ));
    EXPECT_EQ(names.next(), "tap0");
    EXPECT_EQ(ub::net::TapNames(ub::net::TapNames::kWrap + 5).next(), "tap5");
}

}  // namespace
