// Users and groups, from the system's databases (NSS) and from the kernel:
// the one place the loader, the daemon, the audit records and the CLI look
// them up. Reads files (through NSS), so callers under a seccomp filter
// either allow that (the daemon) or call it before the filter (the helper).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"

namespace ub::accounts {

struct Account {
    std::string name;  // as the database has it, unfiltered
    uid_t uid;
    gid_t gid;  // primary group
};

// Each lookup has three outcomes: found, no such entry (an empty
// optional), or an Error when the database could not answer (an NSS
// module failed, or the entry is larger than the 1 MiB we read). Callers
// deciding on policy must treat the Error as neither: a deny rule cannot
// lapse, and a grant cannot be checked without the caller's groups.
Result<std::optional<Account>> account_by_uid(uid_t uid);
Result<std::optional<Account>> account_by_name(const std::string& name);
Result<std::optional<gid_t>> group_id_by_name(const std::string& name);

// A user= or group= name's id, as policy::LoadOptions::user_id and
// group_id want it: -1 when there is no such name.
Result<long long> uid_of_name(const std::string& name);
Result<long long> gid_of_name(const std::string& name);

}  // namespace ub::accounts
