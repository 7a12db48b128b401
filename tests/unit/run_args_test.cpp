// `userbridge run`: argument handling and placeholder substitution.
#include <gtest/gtest.h>

#include "cli/run_args.h"

using namespace ub::cli;

namespace {

const std::vector<NicValues> kTwo = {
    {6, "tap0", "52:01:02:03:04:05", "fe:01:02:03:04:05", 1500, "6", 1},
    {7, "tap1", "52:0a:0b:0c:0d:0e", "fe:0a:0b:0c:0d:0e", 9000, "7:8:9", 3}};

std::string sub(const std::string& arg) {
    auto r = substitute(arg, kTwo);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : "";
}

}  // namespace

TEST(Substitute, FirstNicShorthands) {
    EXPECT_EQ(sub("tap,id=n0,fd={fd}"), "tap,id=n0,fd=6");
    EXPECT_EQ(sub("{ifname}"), "tap0");
    EXPECT_EQ(sub("mac={mac}"), "mac=52:01:02:03:04:05");
    EXPECT_EQ(sub("{tapmac}"), "fe:01:02:03:04:05");
    EXPECT_EQ(sub("{mtu}"), "1500");
}

TEST(Substitute, IndexedNics) {
    EXPECT_EQ(sub("{fd0},{fd1}"), "6,7");
    EXPECT_EQ(sub("{ifname1} {mac1} {mtu1}"), "tap1 52:0a:0b:0c:0d:0e 9000");
    EXPECT_EQ(sub("{fd}{fd}"), "66");
}

TEST(Substitute, LeavesOtherBracesAlone) {
    EXPECT_EQ(sub("{\"execute\":\"qmp_capabilities\"}"), "{\"execute\":\"qmp_capabilities\"}");
    EXPECT_EQ(sub("${HOME}"), "${HOME}");
    EXPECT_EQ(sub("{}"), "{}");
    EXPECT_EQ(sub("{fd"), "{fd");
    EXPECT_EQ(sub("fd}"), "fd}");
    EXPECT_EQ(sub("{fdx}"), "{fdx}");
    EXPECT_EQ(sub("{fd1x}"), "{fd1x}");
    EXPECT_EQ(sub("{fd9999}"), "{fd9999}");  // too many digits: not ours
    EXPECT_EQ(sub("{{fd}}"), "{6}");
}

TEST(Substitute, MissingNicIsAnError) {
    auto r = substitute("{fd2}", kTwo);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "placeholder {fd2} refers to NIC 2, but only 2 NIC(s) requested");
    EXPECT_FALSE(substitute("{mac}", {}).ok());
}

TEST(RunArgs, DefaultsToOneNicOnBr0) {
    auto r = parse_run_args({"--", "qemu", "-x"}, "/usr/libexec/userbridge-helper");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->nics.size(), 1u);
    EXPECT_EQ(r->nics[0].bridge, "br0");
    EXPECT_TRUE(r->nics[0].vnet_hdr);
    EXPECT_EQ(r->helper, "/usr/libexec/userbridge-helper");
    EXPECT_EQ(r->command, (std::vector<std::string>{"qemu", "-x"}));
}

TEST(RunArgs, BridgeHelperNicsTimeout) {
    auto r = parse_run_args({"--br=br5", "--helper=/opt/h", "--timeout=3", "--nic", "vnet_hdr=off",
                             "--nic=br=br7", "cmd", "--br=not-ours"},
                            "/h");
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->helper, "/opt/h");
    EXPECT_EQ(r->timeout.count(), 3000);
    ASSERT_EQ(r->nics.size(), 2u);
    EXPECT_EQ(r->nics[0].bridge, "br5");
    EXPECT_FALSE(r->nics[0].vnet_hdr);
    EXPECT_EQ(r->nics[1].bridge, "br7");
    EXPECT_EQ(r->command, (std::vector<std::string>{"cmd", "--br=not-ours"}));
}

TEST(RunArgs, AskLetsPolkitPrompt) {
    auto r = parse_run_args({"--ask", "cmd", "--ask"}, "/h");
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(r->ask);
    EXPECT_EQ(r->command, (std::vector<std::string>{"cmd", "--ask"}));
    auto plain = parse_run_args({"cmd"}, "/h");
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->ask);
}

TEST(RunArgs, QueuesAndVmNames) {
    auto r = parse_run_args({"--vm=web", "--nic", "queues=4", "--nic=br=br1", "--nic=vm=db", "q"}, "/h");
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->nics.size(), 3u);
    EXPECT_EQ(r->nics[0].queues, 4);
    EXPECT_EQ(r->nics[0].vm_name, "web");
    EXPECT_EQ(r->nics[1].queues, 1);
    EXPECT_EQ(r->nics[1].vm_name, "web.1");  // distinct, so a derived MAC differs
    EXPECT_EQ(r->nics[2].vm_name, "db");
}

TEST(Substitute, QueueFds) {
    EXPECT_EQ(sub("fds={fds},queues={queues}"), "fds=6,queues=1");
    EXPECT_EQ(sub("fds={fds1},queues={queues1}"), "fds=7:8:9,queues=3");
}

TEST(RunArgs, Refusals) {
    auto err = [](std::vector<std::string> a) {
        auto r = parse_run_args(a, "/h");
        EXPECT_FALSE(r.ok());
        return r.ok() ? "" : r.error().message();
    };
    EXPECT_EQ(err({}), "missing COMMAND (put it after --)");
    EXPECT_EQ(err({"--"}), "missing COMMAND (put it after --)");
    EXPECT_EQ(err({"--frob", "x"}), "unknown option '--frob'");
    EXPECT_EQ(err({"--helper=rel", "x"}), "--helper needs an absolute path");
    EXPECT_EQ(err({"--br=a/b", "x"}), "bridge name 'a/b' contains '/'");
    EXPECT_EQ(err({"--nic", "br=1234567890123456", "x"}),
              "bridge name '1234567890123456' is 16 bytes long, the limit is 15");
    EXPECT_EQ(err({"--nic", "mq=2", "x"}),
              "unknown --nic option 'mq' (known: br, vnet_hdr, queues, vm)");
    EXPECT_EQ(err({"--nic", "queues=0", "x"}), "--nic queues=0: expected 1 to 64");
    EXPECT_EQ(err({"--nic", "queues=65", "x"}), "--nic queues=65: expected 1 to 64");
    EXPECT_EQ(err({"--nic", "queues=+2", "x"}), "--nic queues=+2: expected 1 to 64");
    EXPECT_EQ(err({"--nic", "vm=a b", "x"}),
              "VM name 'a b' may hold only letters, digits and . _ - + @ :");
    EXPECT_EQ(err({"--vm=" + std::string(64, 'v'), "x"}),
              "VM name '" + std::string(64, 'v') + "' is longer than 63 bytes");
    EXPECT_EQ(err({"--nic", "vnet_hdr=yes", "x"}), "--nic vnet_hdr=yes: expected on or off");
    EXPECT_EQ(err({"--nic", "br", "x"}), "--nic option 'br' is not KEY=VALUE");
    EXPECT_EQ(err({"--nic"}), "--nic needs OPTIONS");
    EXPECT_EQ(err({"--timeout=0", "x"}), "--timeout must be at least 1 second");
    EXPECT_EQ(err({"--timeout=1s", "x"}), "--timeout=1s: expected whole seconds, 1 to 999999");
    std::vector<std::string> many;
    for (int i = 0; i < 9; ++i) many.push_back("--nic=br=br0");
    many.push_back("x");
    EXPECT_EQ(err(many), "at most 8 --nic options");
}

TEST(RunArgs, Via) {
    auto via = [](std::vector<std::string> a) {
        a.push_back("cmd");
        auto r = parse_run_args(a, "/h");
        EXPECT_TRUE(r.ok()) << r.error().message();
        return r.ok() ? r->via : Via::Auto;
    };
    EXPECT_EQ(via({}), Via::Auto);
    EXPECT_EQ(via({"--via=daemon"}), Via::Daemon);
    EXPECT_EQ(via({"--helper=/x"}), Via::Helper);  // a helper given means that helper
    EXPECT_EQ(via({"--via=auto", "--helper=/x"}), Via::Auto);
    EXPECT_EQ(via({"--helper=/x", "--via=daemon"}), Via::Daemon);
    auto r = parse_run_args({"--via=smoke", "cmd"}, "/h");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "--via=smoke: expected auto, daemon or helper");
}
