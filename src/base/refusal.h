// A refusal by policy: a decision, not a failure. Functions that may refuse
// return it as a value (std::optional<Refusal>, or a variant beside what
// they grant), never through the error channel, so that no caller has to
// tell a denial from an error by its message.
#pragma once

#include <string>

namespace ub {

struct Refusal {
    std::string reason;  // one line, for the user and the audit record
};

}  // namespace ub
