// Reading ACL files safely: the I/O half of the policy module.
//
// Invariants: a file is opened without following a final symlink, checked
// with fstat on the very fd that is then read (no check-then-open race), must
// be a regular file owned by the trusted owner (root) and not writable by
// group or others, and is size-capped. Any problem fails closed, except an
// include the caller may not read or that does not exist: QEMU skips those,
// and per-user policy through file permissions depends on it.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "base/result.h"
#include "policy/acl.h"

namespace ub::policy {

struct LoadOptions {
    uid_t trusted_owner = 0;
    int max_depth = 8;                           // nested includes
    std::size_t max_file_size = 4u << 20;         // bytes per file
    std::size_t max_files = 1024;                 // files read in total
    // Called between the checks on an opened file and reading it; for
    // fault-injection tests of check-then-read races. May be null.
    void (*after_open)(const char* path) = nullptr;
    // For `userbridge check`: every problem is recorded here and loading
    // goes on, instead of stopping at the first. The result then must not
    // be used to decide anything.
    std::vector<std::string>* problems = nullptr;
    // Name lookups for user= and group= (-1: no such name; an Error: the
    // database could not answer); null means the system's databases
    // through NSS. Numeric ids are never looked up.
    std::function<Result<long long>(const std::string& name)> user_id;
    std::function<Result<long long>(const std::string& name)> group_id;
    // Non-empty: keep only the rules that can bear on a request for this
    // bridge (those naming it or "all"), plus every deny naming a user or
    // group, so that one naming an unknown subject still refuses the file.
    // The helper decides for one bridge; storing every rule of a
    // 10,000-rule ACL costs it 1.4 MB of fresh pages (measured: about 5 ms).
    std::string only_bridge;
};

// Owner and mode of a file or directory, as read when the policy was loaded.
struct Perm {
    uid_t uid;
    gid_t gid;
    mode_t mode;
};

struct FileInfo {
    std::string path;
    Perm perm;
    std::vector<Perm> dirs;  // the directories on its path, outermost first
    int includer;            // index into Policy::files, -1 for the main file
};

struct Policy {
    std::vector<Rule> rules;                 // Rule::file indexes `files`
    std::vector<FileInfo> files;             // in the order read
    std::vector<std::string> skipped;        // "path: why" for skipped includes
    // "file:line: why" for allow rules that match nobody (a user or group
    // that does not exist). A deny naming one fails the load instead: a
    // deny must never lapse silently.
    std::vector<std::string> warnings;
};

// Who asks, for a daemon that loaded the policy as root and must apply the
// caller's file permissions itself (the helper reads as the caller, so the
// kernel applies them).
struct Credentials {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
};

// Which of policy.files `who` would have read themselves: those they may
// read (read permission on it, search permission on its directories) whose
// includers they may read too. Pass it to decide(). An error when they may
// not read the main file, as the helper would fail to open it. Pure; copies
// no rules, so a large ACL costs a daemon request nothing extra.
Result<std::vector<bool>> readable_files(const Policy& policy, const Credentials& who);

Result<Policy> load(const std::string& path, const LoadOptions& options = {});

// Where a relative include resolves: against the including file's directory.
std::string resolve_include(const std::string& including_file, const std::string& arg);

// Whether the rule read as `line` (its bridge, "" for "all") is kept when
// loading with LoadOptions::only_bridge (empty: every rule is).
bool bears_on(const std::string& only_bridge, const std::string& bridge, const Line& line);

}  // namespace ub::policy
