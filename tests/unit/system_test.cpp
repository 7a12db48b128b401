// base/system.h: each wrapper returns the call's result or an Error that
// keeps errno and the caller's text naming the call and its object.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "base/system.h"
#include "base/system_sockets.h"

using namespace ub;

TEST(System, OpenFailureKeepsErrnoAndNamesTheObject) {
    Result<UniqueFd> fd = system::open("/nonexistent/x", O_RDONLY | O_CLOEXEC, "cannot open /nonexistent/x");
    ASSERT_FALSE(fd.ok());
    EXPECT_EQ(fd.error().code(), ENOENT);
    EXPECT_EQ(fd.error().message(), "cannot open /nonexistent/x: No such file or directory");
}

TEST(System, OpenReturnsAnOwnedFd) {
    Result<UniqueFd> fd = system::open("/dev/null", O_RDONLY | O_CLOEXEC, "cannot open /dev/null");
    ASSERT_TRUE(fd.ok());
    EXPECT_GE(fd->get(), 0);
}

TEST(System, IoctlOnAClosedFdIsEbadf) {
    unsigned features = 0;
    Result<void> r = system::ioctl(-1, TUNGETFEATURES, &features, "TUNGETFEATURES");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), EBADF);
}

TEST(System, SocketOptionsRoundTrip) {
    auto pair = system::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, "socketpair");
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(*system::getsockopt_int(pair->first.get(), SOL_SOCKET, SO_TYPE, "SO_TYPE"), SOCK_STREAM);
    EXPECT_TRUE(system::setsockopt_int(pair->first.get(), SOL_SOCKET, SO_PASSCRED, 1, "SO_PASSCRED").ok());
    EXPECT_EQ(*system::getsockopt_int(pair->first.get(), SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED"), 1);
}

TEST(System, PrctlReadsAndSets) {
    Result<int> known = system::prctl_read(PR_CAPBSET_READ, 0, 0, "PR_CAPBSET_READ");
    EXPECT_TRUE(known.ok());
    Result<int> past = system::prctl_read(PR_CAPBSET_READ, 4096, 0, "PR_CAPBSET_READ");
    ASSERT_FALSE(past.ok());
    EXPECT_EQ(past.error().code(), EINVAL);
}
