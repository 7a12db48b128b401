// The messages between userbridged and its user database process: round
// trips, and every refusal of the decoders (each side distrusts the other).
#include <gtest/gtest.h>

#include "protocol/userdb_wire.h"

using namespace ub::protocol::userdb;

namespace {

std::string asked(std::uint32_t seq, Kind kind, const std::string& arg) {
    auto q = encode(Question{seq, kind, arg});
    EXPECT_TRUE(q.ok()) << arg;
    return q.ok() ? *q : "";
}

bool answer_ok(std::string_view bytes, Kind kind) { return decode_answer(bytes, kind).ok(); }

}  // namespace

TEST(UserDbWire, QuestionRoundTrip) {
    auto q = decode_question(asked(7, Kind::UidByUser, "alice"));
    ASSERT_TRUE(q.ok()) << q.error().message();
    EXPECT_EQ(q->seq, 7u);
    EXPECT_EQ(q->kind, Kind::UidByUser);
    EXPECT_EQ(q->arg, "alice");
    q = decode_question(asked(4294967295u, Kind::UserByUid, "4294967294"));
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->seq, 4294967295u);
    EXPECT_EQ(q->arg, "4294967294");
    EXPECT_EQ(asked(1, Kind::GidByGroup, "kvm"), "1\tG\tkvm");
}

TEST(UserDbWire, QuestionsThatCannotBeAsked) {
    EXPECT_FALSE(encode(Question{1, Kind::UidByUser, ""}).ok());
    EXPECT_FALSE(encode(Question{1, Kind::UidByUser, std::string(kMaxName + 1, 'a')}).ok());
    EXPECT_TRUE(encode(Question{1, Kind::UidByUser, std::string(kMaxName, 'a')}).ok());
    EXPECT_FALSE(encode(Question{1, Kind::UidByUser, std::string("a\0b", 3)}).ok());
    EXPECT_FALSE(encode(Question{1, Kind::GidByGroup, "a\tb"}).ok());
    EXPECT_FALSE(encode(Question{1, Kind::GidByGroup, "a\nb"}).ok());
    EXPECT_FALSE(encode(Question{1, Kind::UserByUid, "alice"}).ok());
    EXPECT_FALSE(encode(Question{1, Kind::UserByUid, "4294967295"}).ok());  // (uid_t)-1
    EXPECT_FALSE(encode(Question{1, Kind::UserByUid, "-1"}).ok());
    EXPECT_FALSE(encode(Question{1, static_cast<Kind>('x'), "1"}).ok());
}

TEST(UserDbWire, QuestionRefusals) {
    EXPECT_FALSE(decode_question("").ok());
    EXPECT_FALSE(decode_question("1\tU").ok());
    EXPECT_FALSE(decode_question("1\tU\t").ok());
    EXPECT_FALSE(decode_question("1\tX\talice").ok());
    EXPECT_FALSE(decode_question("1\tUU\talice").ok());
    EXPECT_FALSE(decode_question("x\tU\talice").ok());
    EXPECT_FALSE(decode_question("4294967296\tU\talice").ok());
    EXPECT_FALSE(decode_question("01\tU\talice").ok());
    EXPECT_FALSE(decode_question("1\tu\t0100").ok());
    EXPECT_TRUE(decode_question("0\tu\t0").ok());
    EXPECT_FALSE(decode_question("1\tu\talice").ok());
    EXPECT_FALSE(decode_question("1\tU\tal\tice").ok());
    EXPECT_FALSE(decode_question(std::string("1\tU\tal\0ice", 10)).ok());
    EXPECT_FALSE(decode_question("1\tU\t" + std::string(kMaxMessage, 'a')).ok());
}

TEST(UserDbWire, AnswerRoundTrip) {
    auto a = decode_answer(encode(Answer{3, Outcome::Found, "alice"}), Kind::UserByUid);
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(a->seq, 3u);
    EXPECT_EQ(a->outcome, Outcome::Found);
    EXPECT_EQ(a->value, "alice");
    a = decode_answer(encode(Answer{4, Outcome::None, "ignored"}), Kind::UidByUser);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->outcome, Outcome::None);
    EXPECT_EQ(a->value, "");
    a = decode_answer(encode(Answer{5, Outcome::Failed, "sssd is down"}), Kind::GidByGroup);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->outcome, Outcome::Failed);
    EXPECT_EQ(a->value, "sssd is down");
    // Overlong values are cut to their bound by encode, and still decode.
    a = decode_answer(encode(Answer{6, Outcome::Failed, std::string(5000, 'x')}), Kind::GidByGroup);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->value.size(), kMaxWhy);
}

// An account's groups: ids, comma-separated, at most kMaxGroups of them,
// never cut short on the way.
TEST(UserDbWire, Groups) {
    EXPECT_EQ(asked(2, Kind::GroupsByUid, "4711"), "2\tg\t4711");
    EXPECT_FALSE(encode(Question{2, Kind::GroupsByUid, "alice"}).ok());
    auto a = decode_answer(encode(Answer{2, Outcome::Found, format_groups({4711, 4800, 0})}), Kind::GroupsByUid);
    ASSERT_TRUE(a.ok()) << a.error().message();
    EXPECT_EQ(a->value, "4711,4800,0");
    EXPECT_EQ(*parse_groups(a->value), (std::vector<gid_t>{4711, 4800, 0}));
    EXPECT_TRUE(answer_ok("2\t-", Kind::GroupsByUid));
    for (const char* bad : {"", ",", "1,", ",1", "1,,2", "01", "1,-2", "4294967295", "1 2", "a"}) {
        EXPECT_FALSE(parse_groups(bad).ok()) << bad;
        EXPECT_FALSE(answer_ok(std::string("2\t=\t") + bad, Kind::GroupsByUid)) << bad;
    }
    // As many as fit, and not one more; the longest list fits a message.
    std::vector<gid_t> most(kMaxGroups, 4294967294u);
    std::string all = encode(Answer{3, Outcome::Found, format_groups(most)});
    EXPECT_LE(all.size(), kMaxMessage);
    EXPECT_TRUE(answer_ok(all, Kind::GroupsByUid));
    most.push_back(1);
    EXPECT_FALSE(parse_groups(format_groups(most)).ok());
    // A value past the message's bound is cut by encode, and then refused.
    std::vector<gid_t> too_many(7000, 4294967294u);
    EXPECT_FALSE(answer_ok(encode(Answer{4, Outcome::Found, format_groups(too_many)}), Kind::GroupsByUid));
    // A name is no list, nor a list a name.
    EXPECT_FALSE(answer_ok("2\t=\talice", Kind::GroupsByUid));
    EXPECT_FALSE(answer_ok("2\t=\t1,2", Kind::UidByUser));
}

// A late answer is known by its sequence number alone, whatever its kind.
TEST(UserDbWire, AnswerSeq) {
    EXPECT_EQ(*answer_seq("7\t=\talice"), 7u);
    EXPECT_EQ(*answer_seq("8\t=\t1000"), 8u);
    EXPECT_EQ(*answer_seq("4294967295\t-"), 4294967295u);
    EXPECT_FALSE(answer_seq("07\t=\talice").ok());
    EXPECT_FALSE(answer_seq("4294967296\t-").ok());
    EXPECT_FALSE(answer_seq("\t=\talice").ok());
    EXPECT_FALSE(answer_seq("9\t=\t" + std::string(kMaxMessage, 'a')).ok());
}

TEST(UserDbWire, AnswerRefusals) {
    // An id where a name was asked for is fine (names may be digits); a name
    // where an id was asked for is not, nor an id out of range.
    EXPECT_TRUE(answer_ok("1\t=\t1000", Kind::UserByUid));
    EXPECT_TRUE(answer_ok("1\t=\t1000", Kind::UidByUser));
    EXPECT_FALSE(answer_ok("1\t=\talice", Kind::UidByUser));
    EXPECT_FALSE(answer_ok("1\t=\t4294967295", Kind::GidByGroup));
    EXPECT_FALSE(answer_ok("1\t=\t-5", Kind::GidByGroup));
    EXPECT_FALSE(answer_ok("1\t=\t", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t=", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t=\t" + std::string(kMaxName + 1, 'a'), Kind::UserByUid));
    EXPECT_FALSE(answer_ok(std::string("1\t=\ta\0b", 7), Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t-\tsomething", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t!", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t!\t", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t!\t" + std::string(kMaxWhy + 1, 'x'), Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t?\tx", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("+1\t-", Kind::UserByUid));
    EXPECT_FALSE(answer_ok("1\t-\t", Kind::UserByUid));
    EXPECT_FALSE(answer_ok(std::string(kMaxMessage + 1, '1'), Kind::UserByUid));
}
