// userbridged's view of a loaded ACL's files, which the helper, reading
// the ACL as its caller, never needs (nor links: readable_now.cpp): which
// files count for a caller, asked of the kernel, and whether the groups the
// group database gives the caller's account could change a decision.
#pragma once

#include <sys/types.h>

#include <functional>
#include <vector>

#include "base/result.h"
#include "policy/acl.h"
#include "policy/loader.h"

namespace ub::policy {

// Which of policy.files the process, with the filesystem identity it has
// now, would have read itself: the kernel's answer, not an emulation. Each
// file is opened by the path and with the flags load() used, so mode bits,
// POSIX ACLs, search permission on its directories and LSMs count exactly
// as for a helper reading as the caller; a file counts only if its includer
// does. Pass the result to decide() as a Readable (readable_views).
// userbridged calls it with the caller's filesystem identity on
// (privilege::FsIdentity); the helper, which reads the ACL as the caller,
// never asks.
// An error, as the helper fails, when the main file cannot be opened; an
// error too when a file is not the one loaded (another inode at its path,
// or an include that was absent now there): what the policy says is not
// what the files say until it is loaded again.
Result<std::vector<bool>> readable_now(const Policy& policy);

// The account's groups its process does not run with.
std::vector<gid_t> groups_beyond_process(const Credentials& who);

// The two views of Readable: `as(groups)` is readable_now() asked with the
// caller's filesystem identity and those groups on; asked with the
// process's groups, and again with the account's added when they add any.
Result<Readable> readable_views(
    const Credentials& who, const std::function<Result<std::vector<bool>>(const std::vector<gid_t>&)>& as);

// Whether the groups the group database gives a caller's account, beside
// their process's, could change a decision under `policy`
// (Credentials::account_groups, Readable): a rule names a group, or it has
// an include (whose file permissions are per-user policy), or its main
// file lets its group read it and others not, or the other way round, or
// has POSIX ACL entries. userbridged asks the database only then. Not
// seen: a directory above the main file that sets a group apart
// (docs/SECURITY.md, review item 29-2).
bool needs_account_groups(const Policy& policy);

}  // namespace ub::policy
