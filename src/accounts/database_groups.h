// database_groups(): what `userbridge explain --user` asks of the group
// database. Apart from accounts.h, so that the helper, which takes its
// caller's groups from the kernel (getgroups), neither links nor reads it.
#pragma once

#include <vector>

#include "accounts/accounts.h"

namespace ub::accounts {

// The groups the group database lists `account` in, its primary group
// included (getgrouplist): what a login session of theirs would have.
// An Error when the database could not list them all.
Result<std::vector<gid_t>> database_groups(const Account& account);

}  // namespace ub::accounts
