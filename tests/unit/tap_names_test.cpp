// The daemon's tap names: a counter, in sequence, wrapping, always a valid
// interface name.
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

TEST(TapNames, WrapAfterTheLastAndFitIfnamsiz) {
    ub::net::TapNames names;
    std::string last;
    for (unsigned i = 0; i < ub::net::TapNames::kWrap; ++i) last = names.next();
    EXPECT_EQ(last, "tap999999");
    EXPECT_LT(last.size(), static_cast<std::size_t>(IFNAMSIZ));
    EXPECT_EQ(names.next(), "tap0");
}

}  // namespace
