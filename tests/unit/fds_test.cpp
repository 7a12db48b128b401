// close_all_fds_except(): what the helper and `userbridge run` rely on to
// pass nothing but what they mean to. Runs in a forked child, whose fds it
// may close freely.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fds.h"

namespace {

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Runs `body` in a child; true if it exited 0.
template <typename F>
bool in_child(F body) {
    pid_t pid = fork();
    if (pid == 0) _exit(body() ? 0 : 1);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

}  // namespace

TEST(Fds, KeepsStdioAndTheChosenOnes) {
    EXPECT_TRUE(in_child([] {
        for (int fd : {10, 11, 12, 40, 1000}) dup2(1, fd);
        if (!ub::close_all_fds_except({40, 11}).ok()) return false;
        return is_open(0) && is_open(1) && is_open(2) && !is_open(10) && is_open(11) &&
               !is_open(12) && is_open(40) && !is_open(1000);
    }));
}

TEST(Fds, StdioInTheListChangesNothing) {
    EXPECT_TRUE(in_child([] {
        dup2(1, 7);
        if (!ub::close_all_fds_except({2, 0}).ok()) return false;
        return is_open(0) && is_open(1) && is_open(2) && !is_open(7);
    }));
}

TEST(Fds, DuplicatesAndUnsortedInput) {
    EXPECT_TRUE(in_child([] {
        for (int fd : {5, 6, 9}) dup2(1, fd);
        if (!ub::close_all_fds_except({9, 5, 9, 5}).ok()) return false;
        return is_open(5) && !is_open(6) && is_open(9);
    }));
}
