// QEMU's helper found privileged (compat/qemu_helper.h), on real files in
// a temporary directory, and the warning's wording. Setuid root needs root:
// those cases skip themselves otherwise.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "compat/qemu_helper.h"
#include "policy/loader.h"
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

// The warning names the helper, its privilege and the remedy, then each
// line QEMU reads otherwise as FILE:LINE; nothing without a helper, or with
// nothing QEMU reads otherwise.
TEST_F(QemuHelper, WarningsNameTheHelperAndEachLine) {
    std::string lab = write("lab.conf", "allow br1\ndeny br1 user=bob\n");
    std::string main = write("bridge.conf", "allow br0\ninclude lab.conf\n");
    auto id = [](const std::string& path) {
        struct stat st{};
        EXPECT_EQ(stat(path.c_str(), &st), 0);
        return policy::FileId{st.st_dev, st.st_ino};
    };
    policy::Policy p;
    p.files = {{main, id(main), -1}, {lab, id(lab), 0}};
    std::vector<compat::PrivilegedHelper> helpers{{"/usr/libexec/qemu-bridge-helper", "setuid root",
                                                   "chmod u-s /usr/libexec/qemu-bridge-helper"}};
    auto w = compat::qemu_warnings(helpers, p);
    ASSERT_EQ(w.size(), 3u);
    EXPECT_NE(w[0].find("/usr/libexec/qemu-bridge-helper is privileged (setuid root)"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("the 2 lines below mean something else to it"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("(chmod u-s /usr/libexec/qemu-bridge-helper)"), std::string::npos) << w[0];
    EXPECT_EQ(w[1], main + ":2: 'include lab.conf': QEMU's bridge helper opens lab.conf from its caller's working "
                           "directory, which the caller chooses, and takes the rules found there");
    EXPECT_EQ(w[2], lab + ":2: 'deny br1 user=bob': QEMU's bridge helper takes 'br1 user=bob' for a name: it "
                          "denies nothing by it");
    EXPECT_TRUE(compat::qemu_warnings({}, p).empty());
    write("bridge.conf", "allow br0\ninclude " + lab + "\n");
    write("lab.conf", "deny br1\n");
    EXPECT_TRUE(compat::qemu_warnings(helpers, p).empty());
}

}  // namespace
