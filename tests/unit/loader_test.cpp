// Loading ACL files from disk: ownership, modes, symlinks, includes. Uses
// real files in a temporary directory; the trusted owner is whoever runs the
// test, so it also runs unprivileged (root-only cases skip themselves).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "policy/loader.h"
#include "temp_dir.h"
#include "policy/readable.h"
#include "privilege/fs_identity.h"

using namespace ub::policy;
namespace fs = std::filesystem;

namespace {

class Loader : public ub::testing::TempDir {
protected:
    void SetUp() override {
        TempDir::SetUp();
        opt.trusted_owner = geteuid();
        chmod(dir.c_str(), 0755);  // callers in readable_now tests must search it
    }
    std::string fails(const std::string& path) {
        auto r = load(path, opt);
        EXPECT_FALSE(r.ok());
        return r.ok() ? "" : r.error().message();
    }

    LoadOptions opt;
};

TEST_F(Loader, ReadsRulesWithTheirOrigin) {
    std::string main = write("bridge.conf", "# site policy\nallow br0\ndeny br1\n");
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_EQ(p->rules.size(), 2u);
    EXPECT_EQ(*p->rules[1].file, main);
    EXPECT_EQ(p->rules[1].lineno, 3);
    ASSERT_EQ(p->files.size(), 1u);
    EXPECT_EQ(p->files[0].path, main);
    EXPECT_EQ(p->files[0].includer, -1);
}

TEST_F(Loader, RelativeIncludeResolvesAgainstTheIncludingFile) {
    write("sub/alice.conf", "allow br9\n");
    std::string main = write("bridge.conf", "include sub/alice.conf\n");
    ASSERT_EQ(chdir("/"), 0);  // the working directory must not matter
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_EQ(p->rules.size(), 1u);
    EXPECT_EQ(*p->rules[0].file, dir + "/sub/alice.conf");
    EXPECT_EQ(resolve_include("/etc/qemu/bridge.conf", "x.conf"), "/etc/qemu/x.conf");
    EXPECT_EQ(resolve_include("/etc/qemu/bridge.conf", "/abs.conf"), "/abs.conf");
}

TEST_F(Loader, MissingIncludeIsSkippedAsInQemu) {
    std::string main = write("bridge.conf", "include nothere.conf\nallow br0\n");
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(p->rules.size(), 1u);
    ASSERT_EQ(p->skipped.size(), 1u);
    EXPECT_NE(p->skipped[0].find("nothere.conf"), std::string::npos);
}

TEST_F(Loader, AnIncludesPathIsShownPrintable) {
    // `userbridge check` shows an administrator a file before anyone vetted
    // it: an include's path is its own bytes, a terminal's escapes among them.
    std::string main = write("bridge.conf", "include /nothere\x1b]2;ok\x07\x1b[2J.conf\nallow br0\n");
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_EQ(p->skipped.size(), 1u);
    EXPECT_EQ(p->skipped[0].find('\x1b'), std::string::npos) << p->skipped[0];
    EXPECT_NE(p->skipped[0].find("/nothere\\x1b]2;ok\\x07\\x1b[2J.conf"), std::string::npos) << p->skipped[0];
    write("esc\x1b[2J.conf", "allow\n");
    std::string bad = write("bad.conf", "include esc\x1b[2J.conf\n");
    EXPECT_EQ(fails(bad), dir + "/esc\\x1b[2J.conf:1: 'allow' needs an argument");
    // Its rules name it so too: explain, check's warnings, refusals.
    write("rule\x1b[2J.conf", "allow br0\n");
    auto ok = load(write("good.conf", "include rule\x1b[2J.conf\n"), opt);
    ASSERT_TRUE(ok.ok()) << ok.error().message();
    ASSERT_EQ(ok->rules.size(), 1u);
    EXPECT_EQ(where(ok->rules[0]), dir + "/rule\\x1b[2J.conf:1");
    EXPECT_EQ(ok->files[1].path, dir + "/rule\x1b[2J.conf");  // opened by its own bytes
}

TEST_F(Loader, MissingMainFileFails) {
    EXPECT_NE(fails(dir + "/none.conf").find("cannot open"), std::string::npos);
}

TEST_F(Loader, SyntaxErrorInIncludeFailsClosed) {
    // QEMU ignores an include's errors and keeps the rules read before them.
    write("inc.conf", "allow br1\nallow\n");
    std::string main = write("bridge.conf", "include inc.conf\n");
    EXPECT_EQ(fails(main), dir + "/inc.conf:2: 'allow' needs an argument");
}

TEST_F(Loader, GroupOrOtherWritableIsRefused) {
    std::string main = write("bridge.conf", "allow br0\n", 0664);
    EXPECT_NE(fails(main).find("writable by group or others"), std::string::npos);
    chmod(main.c_str(), 0646);
    EXPECT_NE(fails(main).find("writable by group or others"), std::string::npos);
    write("inc.conf", "allow br1\n", 0666);
    chmod(main.c_str(), 0644);
    std::ofstream(main) << "include inc.conf\n";
    EXPECT_NE(fails(main).find("inc.conf is writable"), std::string::npos);
}

TEST_F(Loader, WrongOwnerIsRefused) {
    opt.trusted_owner = geteuid() + 1;
    std::string main = write("bridge.conf", "allow br0\n");
    EXPECT_NE(fails(main).find("is not owned by root"), std::string::npos);
}

TEST_F(Loader, SymlinkIsRefused) {
    std::string real = write("real.conf", "allow br0\n");
    std::string link = dir + "/bridge.conf";
    ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
    EXPECT_EQ(fails(link), link + " is a symbolic link; refusing it");
    std::string main = write("main.conf", "include bridge.conf\n");
    EXPECT_EQ(fails(main), link + " is a symbolic link; refusing it");
}

TEST_F(Loader, NonRegularFilesAreRefused) {
    std::string fifo = dir + "/fifo.conf";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
    EXPECT_EQ(fails(fifo), fifo + " is not a regular file");  // and does not hang
    EXPECT_EQ(fails(dir), dir + " is not a regular file");
}

TEST_F(Loader, IncludeCycleIsAnError) {
    write("a.conf", "include b.conf\n");
    write("b.conf", "include a.conf\n");
    EXPECT_NE(fails(dir + "/a.conf").find("include cycle"), std::string::npos);
    write("self.conf", "include self.conf\n");
    EXPECT_NE(fails(dir + "/self.conf").find("include cycle"), std::string::npos);
}

TEST_F(Loader, DiamondIncludesAreFine) {
    write("common.conf", "allow br0\n");
    write("x.conf", "include common.conf\n");
    write("y.conf", "include common.conf\n");
    std::string main = write("bridge.conf", "include x.conf\ninclude y.conf\n");
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(p->rules.size(), 2u);
}

TEST_F(Loader, IncludeDepthIsBounded) {
    for (int i = 0; i < 12; ++i)
        write("d" + std::to_string(i) + ".conf", "include d" + std::to_string(i + 1) + ".conf\n");
    write("d12.conf", "allow br0\n");
    EXPECT_NE(fails(dir + "/d0.conf").find("nested deeper than 8 levels"), std::string::npos);
    opt.max_depth = 12;
    EXPECT_TRUE(load(dir + "/d0.conf", opt).ok());
}

TEST_F(Loader, SizeIsCapped) {
    opt.max_file_size = 64;
    std::string main = write("bridge.conf", std::string(100, '#') + "\n");
    EXPECT_NE(fails(main).find("is larger than 64 bytes"), std::string::npos);
}

TEST_F(Loader, FileOfExactlyTheCapLoads) {
    opt.max_file_size = 64;
    std::string text = std::string(53, '#') + "\nallow br0\n";
    ASSERT_EQ(text.size(), 64u);
    auto p = load(write("bridge.conf", text), opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    EXPECT_EQ(p->rules.size(), 1u);
}

TEST_F(Loader, LargeFileIsReadToTheEnd) {
    // Much larger than any single read the loader might make.
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "# padding line " + std::to_string(i) + "\n";
    text += "allow br0\n";
    auto p = load(write("bridge.conf", text), opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_EQ(p->rules.size(), 1u);
    EXPECT_EQ(p->rules[0].lineno, 20001);
}

TEST_F(Loader, HardLinkToAnUntrustedFileIsStillCheckedByOwner) {
    // The check is on the inode we read, not on the name we were given.
    if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
    std::string user_file = write("user.conf", "allow all\n");
    ASSERT_EQ(chown(user_file.c_str(), 12345, 12345), 0);
    std::string hard = dir + "/bridge.conf";
    ASSERT_EQ(link(user_file.c_str(), hard.c_str()), 0);
    EXPECT_NE(fails(hard).find("is not owned by root (owner uid 12345)"), std::string::npos);
}

// readable_now() + decide(): what a caller would have read, asked of the
// kernel with their filesystem identity on, as the daemon asks it.
ub::Result<std::vector<bool>> readable_as(const Policy& p, const Credentials& who) {
    return ub::privilege::with_fs_identity(who.uid, who.gid, who.groups, [&] { return readable_now(p); });
}

TEST_F(Loader, ReadableNowAppliesTheCallersFilePermissions) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to chown and take other identities";
    std::string main = write("bridge.conf", "allow br0\ninclude lab.conf\n");
    std::string lab = write("lab.conf", "allow br1\ninclude deep.conf\n", 0040);  // not even root's
    write("deep.conf", "allow br2\n", 0644);  // readable, but only through lab.conf
    ASSERT_EQ(chown(lab.c_str(), 0, 4800), 0);
    opt.trusted_owner = 0;
    auto p = load(main, opt);  // as root with every capability, as the daemon loads
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_EQ(p->rules.size(), 3u);

    auto names = [&](const Credentials& who) {
        auto r = readable_as(*p, who);
        EXPECT_TRUE(r.ok()) << r.error().message();
        std::string out;
        for (const Rule& rule : p->rules)
            if ((*r)[static_cast<std::size_t>(rule.file_index)]) out += rule.bridge + " ";
        Readable files = Readable::same(*r);
        EXPECT_EQ(decide(p->rules, "br1", nullptr, &files).allowed, out.find("br1") != std::string::npos);
        return out;
    };
    EXPECT_EQ(names({4711, 4711, {4800}}), "br0 br1 br2 ");  // member of the lab group
    EXPECT_EQ(names({4712, 4712, {}}), "br0 ");              // lab.conf unreadable: skipped
    EXPECT_EQ(names({4713, 4800, {}}), "br0 br1 br2 ");       // primary group counts
    EXPECT_EQ(names({0, 0, {}}), "br0 ");                     // root, without DAC overrides

    chmod(main.c_str(), 0600);
    p = load(main, opt);
    ASSERT_TRUE(p.ok());
    auto r = readable_as(*p, {4711, 4711, {4800}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "cannot open " + main + ": Permission denied");
}

TEST_F(Loader, ReadableNowNeedsSearchPermissionOnDirectories) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    write("sub/inc.conf", "allow br1\n");
    std::string main = write("bridge.conf", "allow br0\ninclude sub/inc.conf\n");
    chmod((dir + "/sub").c_str(), 0700);
    opt.trusted_owner = 0;
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok());
    auto r = readable_as(*p, {4711, 4711, {}});
    ASSERT_TRUE(r.ok());
    Readable files = Readable::same(*r);
    EXPECT_TRUE(decide(p->rules, "br0", nullptr, &files).allowed);
    EXPECT_FALSE(decide(p->rules, "br1", nullptr, &files).allowed);
}

TEST_F(Loader, ReadableNowRefusesFilesThatChangedSinceTheLoad) {
    std::string main = write("bridge.conf", "allow br0\ninclude inc.conf\ninclude later.conf\n");
    std::string inc = write("inc.conf", "deny br0\n");
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(readable_now(*p).ok());
    // Replaced (a new inode at the path): what it says now is unknown.
    std::string fresh = write("inc.new", "allow br0\n");
    ASSERT_EQ(rename(fresh.c_str(), inc.c_str()), 0);
    auto r = readable_now(*p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), inc + " changed since the ACL was loaded");
    // Come since the load: the same.
    p = load(main, opt);
    ASSERT_TRUE(p.ok());
    std::string later = write("later.conf", "allow br1\n");
    r = readable_now(*p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), later + " can be read now, but could not when the ACL was loaded");
    // Removed since: skipped, as the helper would skip it now.
    ASSERT_EQ(unlink(later.c_str()), 0);
    ASSERT_EQ(unlink(inc.c_str()), 0);
    r = readable_now(*p);
    ASSERT_TRUE(r.ok());
    Readable files = Readable::same(*r);
    EXPECT_TRUE(decide(p->rules, "br0", nullptr, &files).allowed);
}

}  // namespace

namespace {

ub::Result<long long> only_root(const std::string& name) { return name == "root" ? 0LL : -1LL; }

TEST_F(Loader, OnlyBridgeKeepsTheRulesThatBearOnIt) {
    opt.only_bridge = "br0";
    opt.user_id = only_root;
    std::string main = write("bridge.conf",
                             "allow br1\nallow br0 user=root\ndeny br2\nallow all\n"
                             "deny br3 user=root\nallow br4 user=nosuchuser\n");
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    std::vector<int> kept;
    for (const Rule& r : p->rules) kept.push_back(r.lineno);
    // br0's rule, "all", and the deny naming a user; the allow for an
    // unknown user on another bridge is dropped, so it warns of nothing.
    EXPECT_EQ(kept, (std::vector<int>{2, 4, 5}));
    EXPECT_TRUE(p->warnings.empty());
    auto d = decide(p->rules, "br0");
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.deciding->lineno, 4);  // no requester: the user rule matches nobody
}

TEST_F(Loader, OnlyBridgeStillRefusesADenyForAnUnknownUserOnAnotherBridge) {
    opt.only_bridge = "br0";
    opt.user_id = only_root;
    std::string main = write("bridge.conf", "allow br0\ndeny br9 user=nosuchuser\n");
    EXPECT_NE(fails(main).find("a deny rule must not lapse"), std::string::npos);
}

// The database failed to answer (an NSS module's error, an entry past the
// lookups' 1 MiB): the rule matches nobody, as for an unknown name, but
// the message says why instead of "does not exist".
ub::Result<long long> unanswered(const std::string&) { return ub::Error::sys("cannot look up group g", EIO); }

TEST_F(Loader, AFailedLookupRefusesADenyAndWarnsOfAnAllow) {
    opt.group_id = unanswered;
    auto p = load(write("allow.conf", "allow br0 group=g\n"), opt);
    ASSERT_TRUE(p.ok()) << p.error().message();
    ASSERT_EQ(p->warnings.size(), 1u);
    EXPECT_NE(p->warnings[0].find(":1: cannot look up group g: Input/output error; the rule matches nobody"),
              std::string::npos);
    EXPECT_FALSE(decide(p->rules, "br0").allowed);
    EXPECT_NE(fails(write("deny.conf", "allow br0\ndeny br0 group=g\n"))
                  .find(":2: cannot look up group g: Input/output error; a deny rule must not lapse"),
              std::string::npos);
}

// When userbridged asks the group database for a caller's account
// (review item 29-2): only for an ACL such groups could bear on.
TEST_F(Loader, NeedsAccountGroups) {
    auto needs = [&](const std::string& text, mode_t mode = 0644) {
        std::string main = write("bridge.conf", text, mode);
        auto p = load(main, opt);
        EXPECT_TRUE(p.ok()) << p.error().message();
        return p.ok() && needs_account_groups(*p);
    };
    opt.group_id = [](const std::string&) { return ub::Result<long long>(4800LL); };
    opt.user_id = [](const std::string&) { return ub::Result<long long>(4711LL); };
    EXPECT_FALSE(needs("allow br0\n"));
    EXPECT_FALSE(needs("allow br0 user=alice\ndeny br1 user=alice\n"));
    EXPECT_TRUE(needs("allow br0 group=vm max-taps=1\nallow br0\n"));
    EXPECT_FALSE(needs("allow br0\n", 0600));  // neither its group nor others may read it
    EXPECT_TRUE(needs("deny br1 group=vm\nallow br0\n"));
    EXPECT_TRUE(needs("deny all group=vm\n"));
    EXPECT_TRUE(needs("allow br0\n", 0604));  // others may read it, its group not
    EXPECT_TRUE(needs("allow br0\n", 0640));  // its group may, others not
    write("inc.conf", "allow br1\n");
    EXPECT_TRUE(needs("allow br0\ninclude inc.conf\n"));
    EXPECT_TRUE(needs("allow br0\ninclude absent.conf\n"));
}

// A main file whose permissions set its group apart only since the load,
// when needs_account_groups() last saw them: refused until reloaded.
TEST_F(Loader, ReadableNowRefusesAMainFileSetApartSinceTheLoad) {
    std::string main = write("bridge.conf", "allow br0\n", 0644);
    auto p = load(main, opt);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(readable_now(*p).ok());
    chmod(main.c_str(), 0600);  // the same for group and others: still fine
    EXPECT_TRUE(readable_now(*p).ok());
    chmod(main.c_str(), 0604);
    auto r = readable_now(*p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), main + "'s permissions changed since the ACL was loaded");
}

}  // namespace
