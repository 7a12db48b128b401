// A refusal by policy: a decision, not a failure. Functions that may refuse
// return it as a value (std::optional<Refusal>, or a variant beside what
// they grant), never through the error channel, and its kind travels with
// it to the client (the helper's exit status, the daemon's reply), so that
// nobody has to tell a denial from an error, or one denial from another,
// by its message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ub {

// What refused: what the user can do about it differs.
enum class Refused : std::uint8_t {
    Acl = 1,           // the ACL: no rule allows it, a deny, the rule's limits
    Quota = 2,         // the rule's max-taps is reached
    NeedsDaemon = 3,   // only userbridged may grant it: auth=polkit, or a traffic filter
    Polkit = 4,        // polkit said no
    PolkitPrompt = 5,  // polkit would ask for a password; the request allowed no prompt
};
inline constexpr std::uint8_t kMaxRefused = 5;

struct Refusal {
    Refused kind = Refused::Acl;
    std::string reason;  // one line, for the user and the audit record
};

// The helper's (and userbridge-client's) exit status for a refusal, so
// that its caller learns the kind (userbridge-helper(8)): 10 + kind. Any
// other non-zero status is a failure.
inline constexpr int kExitRefusedBase = 10;
inline int exit_status(Refused kind) { return kExitRefusedBase + static_cast<int>(kind); }
inline std::optional<Refused> refused_by_exit_status(int status) {
    if (status <= kExitRefusedBase || status > kExitRefusedBase + kMaxRefused) return std::nullopt;
    return static_cast<Refused>(status - kExitRefusedBase);
}

}  // namespace ub
