// The messages between userbridged and its user-database process
// (daemon/userdb.h): one question, one answer, each a SOCK_SEQPACKET
// message of text fields separated by tabs.
//
//   question  SEQ \t KIND \t ARG      KIND: u (uid -> user name),
//                                     U (user name -> uid), G (group name -> gid)
//   answer    SEQ \t = \t VALUE       found: a name, or an id in decimal
//             SEQ \t -                no such entry
//             SEQ \t ! \t WHY         the database could not answer
//
// Encoding and decoding are pure and total: each side treats what the
// other sends as untrusted (the broker runs NSS modules, the daemon holds
// CAP_NET_ADMIN), so decoding refuses anything out of shape or bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ub::protocol::userdb {

inline constexpr std::size_t kMaxName = 256;     // names asked and answered
inline constexpr std::size_t kMaxWhy = 512;      // an error's text
inline constexpr std::size_t kMaxMessage = 1024;  // any message, whole

enum class Kind : char { UserByUid = 'u', UidByUser = 'U', GidByGroup = 'G' };

struct Question {
    std::uint32_t seq = 0;
    Kind kind = Kind::UserByUid;
    std::string arg;  // a uid in decimal, or a name
};

enum class Outcome : char { Found = '=', None = '-', Failed = '!' };

struct Answer {
    std::uint32_t seq = 0;
    Outcome outcome = Outcome::Failed;
    std::string value;  // Found: the name or id; Failed: why
};

// Refuses an argument that could not be asked (an empty or overlong name,
// a NUL, a uid that is not a number).
Result<std::string> encode(const Question& q);
Result<Question> decode_question(std::string_view bytes);

// Never fails: an overlong value or reason is cut to its bound.
std::string encode(const Answer& a);
// `kind` is what was asked: an id answer must be a number below 2^32 - 1
// (which is (uid_t)-1), a name one a name.
Result<Answer> decode_answer(std::string_view bytes, Kind kind);
// The sequence number an answer starts with, read before anything else of
// it: a late answer to an earlier question is recognised as that, whatever
// it was asked.
Result<std::uint32_t> answer_seq(std::string_view bytes);

}  // namespace ub::protocol::userdb
