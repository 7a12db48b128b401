// privilege::FsIdentity: a caller's filesystem identity on for a scope, and
// the process's own ids, groups and capabilities exactly back after it.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/fd.h"
#include "privilege/fs_identity.h"

using ub::privilege::FsIdentity;

namespace {

struct State {
    uid_t fsuid;
    gid_t fsgid;
    std::vector<gid_t> groups;
    __u32 effective[2];
    bool operator==(const State& o) const {
        return fsuid == o.fsuid && fsgid == o.fsgid && groups == o.groups &&
               effective[0] == o.effective[0] && effective[1] == o.effective[1];
    }
};

State now() {
    State s{static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))),
            static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))), {}, {0, 0}};
    s.groups.resize(static_cast<std::size_t>(getgroups(0, nullptr)));
    if (!s.groups.empty() && getgroups(static_cast<int>(s.groups.size()), s.groups.data()) < 0) s.groups.clear();
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    syscall(SYS_capget, &h, d);
    s.effective[0] = d[0].effective;
    s.effective[1] = d[1].effective;
    return s;
}

TEST(FsIdentity, OpensAsTheCallerAndComesBackWhole) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/ub-fsid-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    std::string dir = tmpl, file = dir + "/f";
    chmod(dir.c_str(), 0755);
    ub::UniqueFd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0040));
    ASSERT_EQ(chown(file.c_str(), 0, 4800), 0);
    auto opens = [&] { return ub::UniqueFd(::open(file.c_str(), O_RDONLY | O_CLOEXEC)).valid(); };

    State before = now();
    {
        auto as_member = FsIdentity::assume(4711, 4711, {4800});
        ASSERT_TRUE(as_member.ok()) << as_member.error().message();
        State during = now();
        EXPECT_EQ(during.fsuid, 4711u);
        EXPECT_EQ(during.fsgid, 4711u);
        EXPECT_EQ(during.groups, std::vector<gid_t>{4800});
        EXPECT_FALSE(during.effective[0] & CAP_TO_MASK(CAP_DAC_OVERRIDE));
        EXPECT_FALSE(during.effective[0] & CAP_TO_MASK(CAP_DAC_READ_SEARCH));
        EXPECT_TRUE(opens());  // the group may read it
        EXPECT_EQ(getuid(), 0u);  // real and effective uids never change
        EXPECT_EQ(geteuid(), 0u);
    }
    EXPECT_TRUE(now() == before);
    {
        auto as_other = FsIdentity::assume(4712, 4712, {});
        ASSERT_TRUE(as_other.ok());
        EXPECT_FALSE(opens());
        auto as_root = FsIdentity::assume(0, 0, {});  // root without DAC overrides: owner bits ---
        ASSERT_TRUE(as_root.ok());
        EXPECT_FALSE(opens());
    }
    EXPECT_TRUE(now() == before);
    EXPECT_TRUE(opens());  // our own DAC overrides are back
    unlink(file.c_str());
    rmdir(dir.c_str());
}

TEST(FsIdentity, ARestoreThatFailsEndsTheProcess) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto restore_fails = [](const char*) -> ub::Result<void> { return ub::Error::msg("injected"); };
    // Put on, then taken off at the end of the block: the injected failure
    // must end the process there.
    EXPECT_EXIT({ auto as_other = FsIdentity::assume(4712, 4712, {}, restore_fails); },
        ::testing::ExitedWithCode(71), "cannot take back our own identity \\(injected\\)");
}

}  // namespace
