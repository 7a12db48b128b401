// `userbridge check`, `explain` and `status`: the administrator's and the
// user's view of the policy. Unprivileged: they read what their caller may
// read and ask the kernel only what anyone may ask.
#pragma once

#include <string>
#include <vector>

namespace ub::cli {

// Each returns the process exit status; `default_acl` is the helper's ACL.
int cmd_check(const std::vector<std::string>& argv, const std::string& default_acl);
int cmd_explain(const std::vector<std::string>& argv, const std::string& default_acl);
int cmd_status(const std::vector<std::string>& argv, const std::string& default_acl);

}  // namespace ub::cli
