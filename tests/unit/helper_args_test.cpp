// The helper's command line: QEMU's and libvirt's orders, and everything else
// refused with a message naming the argument.
#include <gtest/gtest.h>

#include "protocol/helper_args.h"

using namespace ub::protocol;

namespace {

HelperArgs ok(std::vector<std::string> argv) {
    auto r = parse_helper_args(argv);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : HelperArgs{};
}

std::string bad(std::vector<std::string> argv) {
    auto r = parse_helper_args(argv);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message();
}

}  // namespace

TEST(HelperArgs, QemuOrder) {
    HelperArgs a = ok({"--use-vnet", "--fd=7", "--br=br0"});
    EXPECT_TRUE(a.tap.vnet_hdr);
    EXPECT_EQ(a.fd, 7);
    EXPECT_EQ(a.tap.bridge, "br0");
    EXPECT_EQ(a.action, HelperAction::Run);
}

TEST(HelperArgs, LibvirtOrder) {
    HelperArgs a = ok({"--use-vnet", "--br=virbr0", "--fd=23"});
    EXPECT_EQ(a.fd, 23);
    EXPECT_EQ(a.tap.bridge, "virbr0");
}

TEST(HelperArgs, VnetIsOptional) {
    EXPECT_FALSE(ok({"--br=br0", "--fd=3"}).tap.vnet_hdr);
}

TEST(HelperArgs, HelpAndVersion) {
    EXPECT_EQ(ok({"--help"}).action, HelperAction::Help);
    EXPECT_EQ(ok({"--version"}).action, HelperAction::Version);
    EXPECT_EQ(ok({"--br=x", "--help"}).action, HelperAction::Help);
}

TEST(HelperArgs, Refusals) {
    EXPECT_EQ(bad({}), "missing --br=BRIDGE");
    EXPECT_EQ(bad({"--br=br0"}), "missing --fd=N");
    EXPECT_EQ(bad({"--fd=3"}), "missing --br=BRIDGE");
    EXPECT_EQ(bad({"--br=br0", "--br=br1", "--fd=3"}), "--br given more than once");
    EXPECT_EQ(bad({"--br=br0", "--fd=3", "--fd=4"}), "--fd given more than once");
    EXPECT_EQ(bad({"--br", "br0", "--fd=3"}), "unknown argument '--br'");
    EXPECT_EQ(bad({"--br=br0", "--fd=3", "--acl=/tmp/x"}), "unknown argument '--acl=/tmp/x'");
    EXPECT_EQ(bad({"--br=1234567890123456", "--fd=3"}),
              "bridge name '1234567890123456' is 16 bytes long, the limit is 15");
    EXPECT_EQ(bad({"--br=", "--fd=3"}), "bridge name '' is empty");
    EXPECT_EQ(bad({"--br=../x", "--fd=3"}), "bridge name '../x' contains '/'");
    EXPECT_EQ(bad({"--br=a\nb", "--fd=3"}), "bridge name 'a\\x0ab' contains whitespace");
}

TEST(HelperArgs, OurExtensions) {
    HelperArgs a = ok({"--queues=4", "--vm=web-1.lab", "--br=br0", "--fd=3"});
    EXPECT_EQ(a.tap.queues, 4);
    EXPECT_EQ(a.tap.vm_name, "web-1.lab");
    EXPECT_EQ(ok({"--br=br0", "--fd=3"}).tap.queues, 1);  // QEMU's call: one queue
    EXPECT_EQ(bad({"--queues=0", "--br=br0", "--fd=3"}), "--queues=0: expected 1 to 64");
    EXPECT_EQ(bad({"--queues=65", "--br=br0", "--fd=3"}), "--queues=65: expected 1 to 64");
    EXPECT_EQ(bad({"--queues=+2", "--br=br0", "--fd=3"}), "--queues=+2: expected 1 to 64");
    EXPECT_EQ(bad({"--queues=", "--br=br0", "--fd=3"}), "--queues=: expected 1 to 64");
    EXPECT_EQ(bad({"--queues=2", "--queues=2", "--br=br0", "--fd=3"}), "--queues given more than once");
    EXPECT_EQ(bad({"--vm=a b", "--br=br0", "--fd=3"}),
              "VM name 'a b' may hold only letters, digits and . _ - + @ :");
    EXPECT_EQ(bad({"--vm=x=y", "--br=br0", "--fd=3"}),
              "VM name 'x=y' may hold only letters, digits and . _ - + @ :");
    EXPECT_EQ(bad({"--vm=" + std::string(64, 'a'), "--br=br0", "--fd=3"}),
              "VM name '" + std::string(64, 'a') + "' is longer than 63 bytes");
    EXPECT_EQ(bad({"--vm=a", "--vm=b", "--br=br0", "--fd=3"}), "--vm given more than once");
}

TEST(HelperArgs, FdMustBeAPlainNumber) {
    EXPECT_EQ(bad({"--br=br0", "--fd="}), "--fd needs a number");
    EXPECT_EQ(bad({"--br=br0", "--fd=-1"}), "--fd=-1 is not a decimal number");
    EXPECT_EQ(bad({"--br=br0", "--fd=+5"}), "--fd=+5 is not a decimal number");
    EXPECT_EQ(bad({"--br=br0", "--fd= 5"}), "--fd= 5 is not a decimal number");
    EXPECT_EQ(bad({"--br=br0", "--fd=5x"}), "--fd=5x is not a decimal number");
    EXPECT_EQ(bad({"--br=br0", "--fd=0x5"}), "--fd=0x5 is not a decimal number");
    EXPECT_EQ(bad({"--br=br0", "--fd=99999999999999999999"}),
              "--fd=99999999999999999999 is too large");
    EXPECT_EQ(bad({"--br=br0", "--fd=2147483648"}), "--fd=2147483648 is too large");
    EXPECT_EQ(bad({"--br=br0", "--fd=0"}),
              "--fd=0 names a standard stream; pass a socket fd of 3 or more");
    EXPECT_EQ(ok({"--br=br0", "--fd=2147483647"}).fd, 2147483647);
    EXPECT_EQ(ok({"--br=br0", "--fd=007"}).fd, 7);
}

TEST(HelperArgs, TooManyArguments) {
    std::vector<std::string> argv(kMaxHelperArgs + 1, "--use-vnet");
    EXPECT_EQ(bad(argv), "too many arguments");
}

// main()'s argv: argv[0] is not an argument, and a huge argv is refused
// from the copied words alone.
TEST(HelperArgs, FromMainsArgv) {
    char prog[] = "--use-vnet", br[] = "--br=br0", fd[] = "--fd=3";
    char* argv[] = {prog, br, fd, nullptr};
    auto a = parse_helper_argv(3, argv);
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_FALSE(a->tap.vnet_hdr);
    EXPECT_EQ(a->tap.bridge, "br0");
    std::vector<char*> many(1000, br);
    many[0] = prog;
    many.push_back(nullptr);
    auto b = parse_helper_argv(1000, many.data());
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().message(), "too many arguments");
}
