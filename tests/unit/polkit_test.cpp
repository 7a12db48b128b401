// polkit's subject: the start time and command read from /proc/PID/stat.
#include <gtest/gtest.h>

#include "daemon/polkit.h"

using ub::daemon::parse_proc_stat;

TEST(PolkitSubject, StartTimeAndCommand) {
    // A command with ") " inside: the last ')' ends it (proc_pid_stat(5)).
    auto s = parse_proc_stat("4242 (qemu) x (1)) S 1 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 "
                             "987654321 1000 100 18446744073709551615\n");
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->comm, "qemu) x (1)");
    EXPECT_EQ(s->start_time, 987654321u);
}

TEST(PolkitSubject, Refusals) {
    EXPECT_FALSE(parse_proc_stat("").ok());
    EXPECT_FALSE(parse_proc_stat("1 (init S 1").ok());
    EXPECT_FALSE(parse_proc_stat("1 (init) S 1 2 3").ok());
    EXPECT_FALSE(parse_proc_stat("1 (a) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x3 1").ok());
}
