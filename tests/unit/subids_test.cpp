#include "daemon/subids.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace ub::daemon {
namespace {

TEST(SubIds, ParsesOwnerFirstCount) {
    auto r = parse_subids("alice:100000:65536\n1001:165536:65536\n");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].owner, "alice");
    EXPECT_EQ(r[0].first, 100000u);
    EXPECT_EQ(r[0].count, 65536u);
    EXPECT_EQ(r[1].owner, "1001");
}

TEST(SubIds, SkipsWhatIsNoRange) {
    auto r = parse_subids("\n# x\n:1:2\nbob:1\nbob:x:2\nbob:1:0\nbob:4294967290:10\nbob:-1:2\ncarol:5:5");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].owner, "carol");
}

TEST(SubIds, MapsASubordinateUidToItsOwner) {
    std::string path = ::testing::TempDir() + "/subuid-test";
    std::ofstream(path) << "4711:400000:1\nbob:200000:65536\nghost:300000:10\n";  // unsorted
    auto lookup = [](const std::string& name) -> Result<long long> { return name == "bob" ? 4712 : -1; };
    Result<SubUids> s = SubUids::load(path, lookup);
    std::remove(path.c_str());
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->account_of(200000), 4712u);
    EXPECT_EQ(s->account_of(265535), 4712u);
    EXPECT_EQ(s->account_of(265536), 265536u);
    EXPECT_EQ(s->account_of(300001), 300001u);  // no such owner: its own account...
    ASSERT_TRUE(s->unknown_owner(300001));  // ...and refused, counted as its range
    EXPECT_EQ(s->unknown_owner(300001)->name, "ghost");
    EXPECT_EQ(s->unknown_owner(300001)->first, 300000u);
    EXPECT_EQ(s->unknown_owner(200001), std::nullopt);
    EXPECT_TRUE(s->any_unknown());
    EXPECT_EQ(s->account_of(400000), 4711u);
    EXPECT_EQ(s->account_of(4712), 4712u);
}

TEST(SubIds, AnOwnerTheDatabaseForgetsKeepsItsRange) {
    std::string path = ::testing::TempDir() + "/subuid-forget-test";
    std::ofstream(path) << "bob:200000:65536\nbob:400000:10\ncarol:300000:10\n";
    int asked = 0;
    auto knows = [&asked](const std::string& name) -> Result<long long> {
        ++asked;
        return name == "bob" ? 4712 : -1;
    };
    Result<SubUids> before = SubUids::load(path, knows);
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(asked, 2);  // bob once, carol once
    // The directory is away: bob's ranges stay his; carol, a new account
    // no cache knows yet, stays unknown, her uids refused.
    auto forgets = [](const std::string&) -> Result<long long> { return -1; };
    Result<SubUids> after = SubUids::load(path, forgets, &*before);
    std::remove(path.c_str());
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->account_of(200001), 4712u);
    EXPECT_EQ(after->account_of(400001), 4712u);
    ASSERT_TRUE(after->unknown_owner(300001));
    EXPECT_EQ(after->unknown_owner(300001)->name, "carol");
    EXPECT_TRUE(after->same_ranges(*before));
    EXPECT_TRUE(after->any_unknown());
    // A lookup that fails is an unknown owner, not a failed read.
    std::ofstream(path) << "bob:200000:65536\ncarol:300000:10\n";
    auto fails = [](const std::string&) -> Result<long long> { return Error::msg("no answer"); };
    Result<SubUids> failed = SubUids::load(path, fails, &*before);
    std::remove(path.c_str());
    ASSERT_TRUE(failed.ok()) << failed.error().message();
    EXPECT_EQ(failed->account_of(200001), 4712u);  // kept
    EXPECT_TRUE(failed->unknown_owner(300001));
    // Asked for again: each kept or unknown name once, bob's kept owner
    // confirmed, carol known now.
    std::vector<std::string> names;
    auto knows_both = [&names](const std::string& name) -> Result<long long> {
        names.push_back(name);
        return name == "carol" ? 4713 : name == "bob" ? 4712 : -1;
    };
    Result<bool> found = after->resolve_unknown(knows_both);
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(*found);
    EXPECT_EQ(names, (std::vector<std::string>{"bob", "carol"}));
    EXPECT_EQ(after->account_of(300001), 4713u);
    EXPECT_EQ(after->account_of(200001), 4712u);
    EXPECT_FALSE(after->any_unknown());
}

TEST(SubIds, OnlyUnknownAndKeptNamesAreAskedAgain) {
    std::string path = ::testing::TempDir() + "/subuid-again-test";
    std::ofstream(path) << "dave:100000:10\nerin:200000:10\nfrank:300000:10\n";
    auto first = [](const std::string& name) -> Result<long long> {
        return name == "dave" ? 4714 : name == "frank" ? 4716 : -1;
    };
    Result<SubUids> before = SubUids::load(path, first);
    ASSERT_TRUE(before.ok());
    // frank's name goes unanswered: his range is kept as 4716's.
    auto second = [](const std::string& name) -> Result<long long> {
        return name == "dave" ? 4714 : name == "frank" ? Result<long long>(Error::msg("timeout")) : -1;
    };
    Result<SubUids> s = SubUids::load(path, second, &*before);
    std::remove(path.c_str());
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->account_of(300001), 4716u);
    std::vector<std::string> names;
    auto still_not = [&names](const std::string& name) -> Result<long long> {
        names.push_back(name);
        return -1;
    };
    Result<bool> r = s->resolve_unknown(still_not);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(*r);
    EXPECT_EQ(names, (std::vector<std::string>{"erin", "frank"}));  // not dave
    EXPECT_EQ(s->account_of(300001), 4716u);  // kept, still
    EXPECT_TRUE(s->any_unknown());
    // frank's name answers again, with another uid: the range moves.
    auto moved = [](const std::string& name) -> Result<long long> { return name == "frank" ? 4799 : -1; };
    r = s->resolve_unknown(moved);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
    EXPECT_EQ(s->account_of(300001), 4799u);
    // A failed lookup asks no other name in that pass.
    names.clear();
    auto down = [&names](const std::string& name) -> Result<long long> {
        names.push_back(name);
        return Error::msg("timeout");
    };
    (void)s->resolve_unknown(down);
    EXPECT_EQ(names.size(), 1u);
}

TEST(SubIds, ARangeTakenAwayIsNoOnesUntilReadAfresh) {
    std::string path = ::testing::TempDir() + "/subuid-removed-test";
    auto ids = [](const std::string& name) -> Result<long long> { return name == "bob" ? 4712 : 4713; };
    std::ofstream(path) << "bob:200000:10\ncarol:300000:10\n";
    Result<SubUids> before = SubUids::load(path, ids);
    std::ofstream(path) << "carol:300000:10\n";
    Result<SubUids> after = SubUids::load(path, ids, &*before);
    Result<SubUids> afresh = SubUids::load(path, ids);  // SIGHUP
    std::remove(path.c_str());
    ASSERT_TRUE(before.ok() && after.ok() && afresh.ok());
    ASSERT_TRUE(after->unknown_owner(200001));
    EXPECT_TRUE(after->unknown_owner(200001)->removed);
    EXPECT_EQ(after->account_of(300001), 4713u);
    EXPECT_FALSE(afresh->unknown_owner(200001));
    EXPECT_EQ(afresh->account_of(200001), 200001u);
}

TEST(SubIds, RootsRangesSpeakToPolicyAsNoAccount) {
    std::string path = ::testing::TempDir() + "/subuid-root-test";
    std::ofstream(path) << "root:1000000:65536\nbob:200000:65536\n";
    auto lookup = [](const std::string& name) -> Result<long long> { return name == "bob" ? 4712 : 0; };
    Result<SubUids> s = SubUids::load(path, lookup);
    std::remove(path.c_str());
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->account_of(1000001), 0u);  // counted with root's for bounds...
    EXPECT_EQ(s->policy_account(1000001), std::nullopt);  // ...but not root to policy
    EXPECT_EQ(s->policy_account(200001), std::optional<uid_t>(4712));
    EXPECT_EQ(s->policy_account(4712), std::nullopt);  // no subordinate uid
    EXPECT_TRUE(s->of_root(1000001));
    EXPECT_FALSE(s->of_root(0));
    EXPECT_FALSE(s->of_root(200001));
}

TEST(SubIds, NoFileIsNoRanges) {
    Result<SubUids> s = SubUids::load("/nonexistent/subuid", [](const std::string&) -> Result<long long> {
        return Error::msg("not asked");
    });
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->account_of(200000), 200000u);
}

}  // namespace
}  // namespace ub::daemon
