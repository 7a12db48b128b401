// QEMU's helper found privileged (compat/qemu_helper.h), on real files in
// a temporary directory, and the warning's wording. Setuid root needs root:
// those cases skip themselves otherwise.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "compat/qemu_helper.h"
#include "temp_dir.h"

using namespace ub;
namespace fs = std::filesystem;

namespace {

class QemuHelper : public ub::testing::TempDir {
protected:
    std::string file(const std::string& name, mode_t mode) { return write(name, "#!/bin/false\n", mode); }
    std::vector<compat::PrivilegedHelper> found(const std::vector<std::string>& paths) {
        std::vector<std::string_view> views(paths.begin(), paths.end());
        return compat::privileged_qemu_helpers(views);
    }
};

TEST_F(QemuHelper, SetuidRootIsPrivilegedAndPlainIsNot) {
    if (geteuid() != 0) GTEST_SKIP() << "setuid root needs root";
    std::string suid = file("qemu-bridge-helper", 04755);
    std::string plain = file("qemu-bridge-helper.debian", 0755);
    auto h = found({suid, plain, dir + "/absent", dir});
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].path, suid);
    EXPECT_EQ(h[0].why, "setuid root");
    EXPECT_EQ(h[0].remedy, "chmod u-s " + suid);
}

TEST_F(QemuHelper, SetgidIsPrivileged) {
    std::string sgid = file("qemu-bridge-helper", 02755);
    struct stat st{};
    ASSERT_EQ(stat(sgid.c_str(), &st), 0);
    if (!(st.st_mode & S_ISGID)) GTEST_SKIP() << "setgid bit not kept here";
    auto h = found({sgid});
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].why.rfind("setgid (group ", 0), 0u) << h[0].why;
    EXPECT_EQ(h[0].remedy, "chmod g-s " + sgid);
}

// The compat package's link, or an administrator's, to one of our programs
// is not QEMU's helper, whatever its mode; a link to QEMU's is followed.
TEST_F(QemuHelper, ALinkToOurProgramIsNotQemus) {
    if (geteuid() != 0) GTEST_SKIP() << "setuid root needs root";
    std::string ours = file("userbridge-helper", 04755);
    std::string theirs = file("qemu-bridge-helper.real", 04755);
    fs::create_symlink(ours, dir + "/qemu-bridge-helper");
    fs::create_symlink(theirs, dir + "/qemu-bridge-helper.debian");
    auto h = found({dir + "/qemu-bridge-helper", dir + "/qemu-bridge-helper.debian"});
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].path, dir + "/qemu-bridge-helper.debian");
}

TEST(QemuDenyWarnings, NameTheHelperItsPrivilegeAndEachDeny) {
    policy::Rule deny{policy::Verb::Deny, "br0", std::make_shared<const std::string>("/etc/qemu/bridge.conf"), 1};
    std::vector<compat::PrivilegedHelper> helpers{{"/usr/libexec/qemu-bridge-helper", "setuid root",
                                                   "chmod u-s /usr/libexec/qemu-bridge-helper"}};
    std::vector<policy::QemuBlindDeny> denies{{&deny, "/etc/qemu/bridge.conf:1", "deny br0 user=bob"}};
    auto w = compat::qemu_deny_warnings(helpers, denies);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_NE(w[0].find("/usr/libexec/qemu-bridge-helper is privileged (setuid root)"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("denies nothing by the deny below"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("(chmod u-s /usr/libexec/qemu-bridge-helper)"), std::string::npos) << w[0];
    EXPECT_EQ(w[1], "/etc/qemu/bridge.conf:1: 'deny br0 user=bob': QEMU's bridge helper denies nothing by it");
    EXPECT_TRUE(compat::qemu_deny_warnings({}, denies).empty());
    EXPECT_TRUE(compat::qemu_deny_warnings(helpers, {}).empty());
}

}  // namespace
