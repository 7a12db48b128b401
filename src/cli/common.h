// What the CLI's commands share: their output, the caller as the policy
// sees them, and the JSON output's version (docs/JSON.md).
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "grant/grant.h"
#include "policy/daemon_options.h"
#include "policy/loader.h"

namespace ub::cli {

// The version of the JSON schemas (docs/schema/): raised only when a field
// goes or changes meaning; new fields come without (docs/JSON.md).
inline constexpr int kSchemaVersion = 1;

// A line on stdout.
void out(const std::string& line);
// "userbridge: MSG" on stderr; returns `code`.
int fail(const std::string& msg, int code = 1);
// With --json, the error as the command's JSON object on stdout
// ({"schema_version", "command", "error"}); else as fail(). Returns `code`.
int failed(bool as_json, const std::string& command, const std::string& msg, int code = 1);
// A JSON array of strings.
json::Value strings(const std::vector<std::string>& v);
// The first members of every command's JSON object.
json::Value json_head(const std::string& command);

// Loading as the helper does: user= and group= names through NSS.
policy::LoadOptions with_nss();

// A user as the engine would see them asking (grant/grant.h): their ids and
// groups, and their name; as through the helper, which reads as them.
using Account = grant::Caller;
Account as_caller(std::string name, policy::Credentials ids);
// The caller, with the groups their process really has.
Account self();

}  // namespace ub::cli
