// Which denies QEMU's qemu-bridge-helper reads as denying nothing
// (policy/explain.h, denies_qemu_ignores): every deny with an option, and
// no other rule. Loaded from real files, so that file:line is the loader's.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "policy/explain.h"
#include "policy/loader.h"
#include "temp_dir.h"

using namespace ub::policy;
namespace fs = std::filesystem;

namespace {

class QemuBlindDenies : public ub::testing::TempDir {
protected:
    void SetUp() override {
        TempDir::SetUp();
        opt.trusted_owner = geteuid();
        opt.daemon = &daemon_options();
        opt.user_id = [](const std::string& name) -> ub::Result<long long> { return name == "bob" ? 4712 : -1; };
        opt.group_id = [](const std::string& name) -> ub::Result<long long> { return name == "guests" ? 4800 : -1; };
    }
    // The loaded policy's blind denies as "file:line text", the file's name only.
    std::vector<std::string> blind(const std::string& main) {
        auto p = load(main, opt);
        EXPECT_TRUE(p.ok()) << p.error().message();
        if (!p.ok()) return {};
        policy_ = std::move(*p);
        std::vector<std::string> out;
        for (const QemuBlindDeny& d : denies_qemu_ignores(policy_.rules)) {
            EXPECT_EQ(d.where, where(*d.rule));
            out.push_back(fs::path(d.where).filename().string() + " " + d.text);
        }
        return out;
    }

    LoadOptions opt;
    Policy policy_;
};

TEST_F(QemuBlindDenies, EveryDenyWithASubjectIsListed) {
    std::string acl = write("bridge.conf",
                            "deny br0 user=bob\n"
                            "# a comment\n"
                            "deny all group=guests\n"
                            "deny br1 user=4713\n"
                            "allow br0\n");
    EXPECT_EQ(blind(acl), (std::vector<std::string>{"bridge.conf:1 deny br0 user=bob",
                                                    "bridge.conf:3 deny all group=guests",
                                                    "bridge.conf:4 deny br1 user=4713"}));
}

// QEMU reads these as they read to us: a plain deny denies, and an allow
// with options matches nothing for it, which only narrows.
TEST_F(QemuBlindDenies, PlainDeniesAndAllowsAreNotListed) {
    std::string acl = write("bridge.conf",
                            "deny br0\n"
                            "deny all\n"
                            "allow br1 user=bob max-taps=2\n"
                            "allow br1 group=guests max-queues=2 isolated=yes\n"
                            "allow all rate=10mbit\n");
    EXPECT_TRUE(blind(acl).empty());
}

TEST_F(QemuBlindDenies, ADenyInAnIncludedFileNamesThatFile) {
    write("lab.conf", "allow br-lab\n\ndeny br-lab user=bob\n");
    std::string acl = write("bridge.conf", "include " + dir + "/lab.conf\ndeny br0\n");
    EXPECT_EQ(blind(acl), (std::vector<std::string>{"lab.conf:3 deny br-lab user=bob"}));
}

TEST_F(QemuBlindDenies, AQemuFileHasNone) {
    std::string acl = write("bridge.conf", "allow br0\nallow br1\ndeny br1\ndeny all\n");
    EXPECT_TRUE(blind(acl).empty());
}

}  // namespace
