// The client's tap handle (client/tap_handle): the guest MAC that pairs
// with a tap's own.
#include <gtest/gtest.h>

#include "base/mac.h"
#include "client/tap_handle.h"

using ub::Mac;

TEST(GuestMac, TheTapsMacWithFirstByte52) {
    Mac tap{0xfe, 0x12, 0x34, 0x56, 0x78, 0x9a};
    EXPECT_EQ(ub::format_mac(ub::client::guest_mac(tap)), "52:12:34:56:78:9a");
}
