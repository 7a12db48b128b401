#include "daemon/netns.h"

#include <gtest/gtest.h>

#include <fstream>

namespace ub::daemon {
namespace {

SubUids bob_owns_200000() {
    std::string path = ::testing::TempDir() + "/subuid-netns-test";
    std::ofstream(path) << "bob:200000:65536\n";
    auto lookup = [](const std::string& name) -> Result<long long> { return name == "bob" ? 4712 : -1; };
    return *SubUids::load(path, lookup);
}

TEST(Netns, TheCallersOwnIsTheirs) {
    SubUids none = bob_owns_200000();
    EXPECT_TRUE(may_use_netns(4711, 4711, none));
    EXPECT_FALSE(may_use_netns(4711, 4712, none));
    EXPECT_FALSE(may_use_netns(0, 4712, none));  // init's user namespace is root's
}

TEST(Netns, AnAccountReachesItsSubordinateUidsNamespacesNotTheReverse) {
    SubUids s = bob_owns_200000();
    EXPECT_TRUE(may_use_netns(200000, 4712, s));   // root of bob's container
    EXPECT_TRUE(may_use_netns(265535, 4712, s));
    EXPECT_FALSE(may_use_netns(265536, 4712, s));  // past his range
    EXPECT_FALSE(may_use_netns(4712, 200000, s));  // a subordinate uid asking for its owner's
    EXPECT_FALSE(may_use_netns(200001, 200000, s));  // nor for its siblings'
    EXPECT_FALSE(may_use_netns(200000, 4711, s));  // nor does another account reach them
}

TEST(Netns, AFileIsNoNamespace) {
    std::string path = ::testing::TempDir() + "/not-a-namespace";
    std::ofstream(path) << "x";
    FILE* f = std::fopen(path.c_str(), "r");
    ASSERT_NE(f, nullptr);
    EXPECT_NE(netns_refusal(fileno(f), 0, bob_owns_200000(), NsId{}).find("not a namespace"), std::string::npos);
    std::fclose(f);
}

}  // namespace
}  // namespace ub::daemon
