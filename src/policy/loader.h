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

#include "base/fd.h"
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
    // database could not answer); null: no database, and a name is an
    // Error (accounts/accounts.h has NSS's: uid_of_name, gid_of_name).
    // Numeric ids are never looked up. Pure: this module does no lookups.
    std::function<Result<long long>(const std::string& name)> user_id;
    std::function<Result<long long>(const std::string& name)> group_id;
    // Non-empty: keep only the rules that can bear on a request for this
    // bridge (those naming it or "all"), plus every deny naming a user or
    // group, so that one naming an unknown subject still refuses the file.
    // The helper decides for one bridge; storing every rule of a large
    // ACL would cost it fresh pages, its main cost (docs/PERFORMANCE.md).
    std::string only_bridge;
    // The parsers of daemon-only options (daemon_options.h): userbridged
    // and the CLI pass them; the helper does not, and its rules with such
    // an option are recorded as needing userbridged (acl.h).
    const DaemonOptions* daemon = nullptr;
};

// Which file: device and inode, as fstat said when it was read.
struct FileId {
    dev_t dev;
    ino_t ino;
    bool operator==(const FileId&) const = default;
};

struct FileInfo {
    std::string path;
    FileId id;
    int includer;  // index into Policy::files, -1 for the main file
    mode_t mode = 0;  // as fstat said when it was read
    bool acl = false;  // it had POSIX ACL entries then (system.posix_acl_access)
};

struct Policy {
    std::vector<Rule> rules;                 // Rule::file indexes `files`
    std::vector<FileInfo> files;             // in the order read
    std::vector<std::string> skipped;        // "path: why" for skipped includes
    // "file:line: why" for allow rules that match nobody (a user or group
    // that does not exist). A deny naming one fails the load instead: a
    // deny must never lapse silently.
    std::vector<std::string> warnings;
    // The includes skipped when loaded (absent, or not readable even to
    // the loader); their FileInfo::id is zero. readable_now() checks that
    // they still cannot be read.
    std::vector<FileInfo> absent;
};

Result<Policy> load(const std::string& path, const LoadOptions& options = {});

// How load() opens an ACL file, and which errors of that open skip an
// include, as QEMU skips it; readable_now() opens and skips the same way,
// so that the caller's view is the loader's.
UniqueFd open_acl_file(const std::string& path);
bool skippable(int err);

// Whether the open file has POSIX ACL entries (system.posix_acl_access).
bool has_acl_entries(int fd);

// Where a relative include resolves: against the including file's directory.
std::string resolve_include(const std::string& including_file, const std::string& arg);

// Whether the rule read as `line` (its bridge, "" for "all") is kept when
// loading with LoadOptions::only_bridge (empty: every rule is).
bool bears_on(const std::string& only_bridge, const std::string& bridge, const Line& line);

}  // namespace ub::policy
