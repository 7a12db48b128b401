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

// A yes polkit gives from an authorization it kept after a password counts
// only for the question that password answered (daemon/polkit.h).
namespace {

using ub::daemon::judge;
using ub::daemon::KeptAuthorizations;
using ub::daemon::PolkitQuestion;
using ub::daemon::PolkitReply;
using ub::daemon::question_key;

PolkitQuestion question(const std::string& bridge) {
    PolkitQuestion q;
    q.subject.uid = 4711;
    q.subject.comm = "qemu";
    q.bridge = bridge;
    q.vm = "lab";
    return q;
}
PolkitReply kept_reply(const std::string& id, bool now) {
    PolkitReply r;
    r.authorized = true;
    r.kept_id = id;
    r.kept_now = now;
    return r;
}

}  // namespace

TEST(PolkitKept, AnswersOnlyTheQuestionItWasMadeFor) {
    KeptAuthorizations kept;
    auto t = KeptAuthorizations::Clock::now();
    std::string br0 = question_key(question("br0")), br1 = question_key(question("br1"));
    EXPECT_TRUE(judge(1, kept_reply("k1", true), ":1.5", true, br0, kept, t).yes);  // the password's own answer
    EXPECT_TRUE(judge(2, kept_reply("k1", false), ":1.5", false, br0, kept, t + std::chrono::minutes(4)).yes);
    auto other = judge(3, kept_reply("k1", false), ":1.5", false, br1, kept, t + std::chrono::minutes(1));
    EXPECT_FALSE(other.yes);
    EXPECT_NE(other.what.find("kept after a password for another request"), std::string::npos) << other.what;
    EXPECT_FALSE(other.prompt);
}

TEST(PolkitKept, UnknownOrLapsedIsNo) {
    KeptAuthorizations kept;
    auto t = KeptAuthorizations::Clock::now();
    std::string br0 = question_key(question("br0"));
    // Made by the caller's own CheckAuthorization, or before this daemon started.
    EXPECT_FALSE(judge(1, kept_reply("theirs", false), ":1.5", false, br0, kept, t).yes);
    judge(2, kept_reply("k1", true), ":1.5", true, br0, kept, t);
    EXPECT_FALSE(judge(3, kept_reply("k1", false), ":1.5", false, br0, kept, t + std::chrono::minutes(7)).yes);
    // polkit numbers them from 0 as it starts: the same id from a polkitd
    // started since (another unique name) is another authorization.
    judge(4, kept_reply("k2", true), ":1.5", true, br0, kept, t);
    EXPECT_FALSE(judge(5, kept_reply("k2", false), ":1.9", false, br0, kept, t).yes);
    EXPECT_TRUE(judge(6, kept_reply("k2", false), ":1.5", false, br0, kept, t).yes);
    kept.clear();  // the bus connection went
    EXPECT_FALSE(judge(7, kept_reply("k2", false), ":1.5", false, br0, kept, t).yes);
    // A yes of the rules' own (no kept id) is a yes.
    PolkitReply plain;
    plain.authorized = true;
    EXPECT_TRUE(judge(8, plain, ":1.5", false, br0, kept, t).yes);
}

TEST(PolkitKept, EveryDetailTellsQuestionsApart) {
    PolkitQuestion a = question("br0");
    std::string key = question_key(a);
    PolkitQuestion b = a;
    b.vm = "other";
    EXPECT_NE(question_key(b), key);
    b = a;
    b.queues = 4;
    EXPECT_NE(question_key(b), key);
    b = a;
    b.subject.comm = "firecracker";
    EXPECT_NE(question_key(b), key);
    b = a;
    b.subject.uid = 4712;
    EXPECT_NE(question_key(b), key);
    b = a;
    b.kind = "lease";
    EXPECT_NE(question_key(b), key);
    // Fields run into each other only through the separator.
    PolkitQuestion c = a, d = a;
    c.bridge = "br";
    c.vm = "0lab";
    d.bridge = "br0";
    d.vm = "lab";
    EXPECT_NE(question_key(c), question_key(d));
}
