// The ACL file format of qemu-bridge-helper, parsed and decided without I/O.
//
//   allow NAME | allow all | deny NAME | deny all | include PATH
//   # comment lines and blank lines
//
// Semantics (QEMU's): every rule of every file is considered; a matching deny
// beats any allow; with no matching allow the answer is deny. Where we differ
// from QEMU on purpose we fail closed (see docs/man/userbridge-acl.5).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ub::policy {

enum class Verb { Allow, Deny, Include };

// One meaningful line of one file, as written.
struct Line {
    Verb verb;
    std::string arg;  // bridge name, "all", or include path (unresolved)
    int lineno;
};

// Parse one file's text. `origin` names the file in errors, which read
// "origin:line: message". Pure: no I/O, safe on any bytes.
Result<std::vector<Line>> parse(std::string_view text, std::string_view origin);

// The same, handing each line to `each` as it is parsed instead of building
// a vector: the loader's path, which keeps a large ACL's memory (and so its
// page faults, the main cost of a short-lived helper) down.
Result<void> parse_each(std::string_view text, std::string_view origin,
                        const std::function<void(Line&&)>& each);

// An allow or deny rule, with where it came from.
struct Rule {
    Verb verb;           // Allow or Deny
    std::string bridge;  // empty: "all"
    // Shared by every rule of a file: one allocation per file, not per rule.
    std::shared_ptr<const std::string> file;
    int lineno;
    int file_index = 0;  // into Policy::files, when loaded from disk
};

struct Decision {
    bool allowed;
    // The rule that decided: the first matching deny when denied by a rule,
    // the first matching allow when allowed; none for the default deny.
    const Rule* deciding;
    std::string reason;  // one line, for users and audit logs
};

// Decide whether `bridge` may be used. The bridge name must already be valid.
// With `file_ok`, a rule counts only if file_ok[rule.file_index] is true (the
// daemon's view of what the caller may read; see loader.h).
Decision decide(const std::vector<Rule>& rules, std::string_view bridge,
                const std::vector<bool>* file_ok = nullptr);

}  // namespace ub::policy
