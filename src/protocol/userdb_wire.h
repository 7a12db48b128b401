// The messages between userbridged and its user-database process
// (daemon/userdb.h): one question, one answer, each a SOCK_SEQPACKET
// message of text fields separated by tabs.
//
//   question  SEQ \t KIND \t ARG      KIND: u (uid -> user name),
//                                     U (user name -> uid), G (group name -> gid),
//                                     g (uid -> the groups the group database
//                                     lists its user in, primary included)
//   answer    SEQ \t = \t VALUE       found: a name, an id in decimal, or
//                                     ids in decimal separated by commas
//             SEQ \t -                no such entry
//             SEQ \t ! \t WHY         the database could not answer
//
// Encoding and decoding are pure and total: each side treats what the
// other sends as untrusted (the broker runs NSS modules, the daemon holds
// CAP_NET_ADMIN), so decoding refuses anything out of shape or bounds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ub::protocol::userdb {

inline constexpr std::size_t kMaxName = 256;      // names asked and answered
inline constexpr std::size_t kMaxWhy = 512;       // an error's text
inline constexpr std::size_t kMaxGroups = 4096;   // gids in one answer
inline constexpr std::size_t kMaxMessage = 65536;  // any message, whole: kMaxGroups gids fit

enum class Kind : char { UserByUid = 'u', UidByUser = 'U', GidByGroup = 'G', GroupsByUid = 'g' };

struct Question {
    std::uint32_t seq = 0;
    Kind kind = Kind::UserByUid;
    std::string arg;  // a uid in decimal (u, g), or a name (U, G)
};

enum class Outcome : char { Found = '=', None = '-', Failed = '!' };

struct Answer {
    std::uint32_t seq = 0;
    Outcome outcome = Outcome::Failed;
    std::string value;  // Found: the name, id or ids; Failed: why
};

// Refuses an argument that could not be asked (an empty or overlong name,
// a NUL, a uid that is not a number).
Result<std::string> encode(const Question& q);
Result<Question> decode_question(std::string_view bytes);

// Never fails: an overlong reason is cut to its bound, and so is a value
// past the message's; decode_answer() then refuses it, as it refuses a
// name longer than kMaxName: the broker checks its answers that way, so
// that it never sends a list of groups cut short.
std::string encode(const Answer& a);
// `kind` is what was asked: an id answer must be a number below 2^32 - 1
// (which is (uid_t)-1), a name one a name, a groups one 1 to kMaxGroups
// such ids (format_groups).
Result<Answer> decode_answer(std::string_view bytes, Kind kind);

// A groups answer's value, and back: "100,4800". parse_groups() refuses
// what decode_answer() would.
std::string format_groups(const std::vector<gid_t>& gids);
Result<std::vector<gid_t>> parse_groups(std::string_view value);
// The sequence number an answer starts with, read before anything else of
// it: a late answer to an earlier question is recognised as that, whatever
// it was asked.
Result<std::uint32_t> answer_seq(std::string_view bytes);

}  // namespace ub::protocol::userdb
