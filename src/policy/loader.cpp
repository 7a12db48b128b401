#include "policy/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/fd.h"
#include "base/names.h"

namespace ub::policy {

namespace {

struct Loader {
    const LoadOptions& opt;
    Policy policy;
    std::vector<FileId> stack;  // files being read, outermost first

    Result<void> load_file(const std::string& path, int includer, int depth);
    Result<void> load_checked(const std::string& path, int includer, int depth);
    Result<void> resolve_subjects();
    Result<std::string> read_checked(const UniqueFd& fd, const std::string& path, const std::string& shown, FileInfo&);
};

// `shown`: the path as messages show it (load_checked).
Result<std::string> Loader::read_checked(const UniqueFd& fd, const std::string& path, const std::string& shown,
                                         FileInfo& info) {
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return Error::sys("cannot stat " + shown);
    if (!S_ISREG(st.st_mode)) return Error::msg(shown + " is not a regular file");
    if (st.st_uid != opt.trusted_owner)
        return Error::msg(shown + " is not owned by root (owner uid " +
                          std::to_string(st.st_uid) + "); refusing it");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return Error::msg(shown + " is writable by group or others; refusing it");
    auto too_large = [&] {
        return Error::msg(shown + " is larger than " + std::to_string(opt.max_file_size) +
                          " bytes; refusing it");
    };
    if (static_cast<std::size_t>(st.st_size) > opt.max_file_size) return too_large();
    info.id = {st.st_dev, st.st_ino};
    info.mode = st.st_mode;
    info.acl = has_acl_entries(fd.get());
    if (opt.after_open) opt.after_open(path.c_str());

    // Read straight into the result, sized by fstat plus one byte, so that
    // a file that grew since is seen; no 16 KiB stack buffer to fault in.
    std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t used = 0;
    for (;;) {
        if (used == text.size()) {
            // The size may have grown since fstat; the cap holds for what we read.
            if (used > opt.max_file_size) return too_large();
            text.resize(std::min(2 * used, opt.max_file_size + 1));
        }
        ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::sys("cannot read " + shown);
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    return text;
}

// In check mode a file's problem is recorded and the rest is still read.
Result<void> Loader::load_file(const std::string& path, int includer, int depth) {
    Result<void> r = load_checked(path, includer, depth);
    if (r.ok() || !opt.problems) return r;
    opt.problems->push_back(r.error().message());
    while (!stack.empty() && stack.size() > static_cast<std::size_t>(depth)) stack.pop_back();
    return Ok{};
}

Result<void> Loader::load_checked(const std::string& path, int includer, int depth) {
    bool is_include = includer >= 0;
    // The path as messages show it: an include's is the ACL's own bytes,
    // which `userbridge check` may be shown before anyone vetted them.
    const std::string shown = printable(path, 4096);  // PATH_MAX
    if (depth > opt.max_depth)
        return Error::msg(shown + ": includes nested deeper than " + std::to_string(opt.max_depth) + " levels");
    if (policy.files.size() >= opt.max_files)
        return Error::msg(shown + ": more than " + std::to_string(opt.max_files) + " files included");

    UniqueFd fd = open_acl_file(path);
    if (!fd.valid()) {
        int err = errno;
        if (is_include && skippable(err)) {
            policy.skipped.push_back(shown + ": " + std::strerror(err));
            policy.absent.push_back({path, {}, includer});
            return Ok{};
        }
        if (err == ELOOP) return Error::msg(shown + " is a symbolic link; refusing it");
        return Error::sys("cannot open " + shown, err);
    }

    FileInfo info{path, {}, includer};
    std::string text = UB_TRY(read_checked(fd, path, shown, info));
    FileId id = info.id;
    for (const FileId& open_id : stack)
        if (open_id == id) return Error::msg(shown + ": include cycle");
    int index = static_cast<int>(policy.files.size());
    policy.files.push_back(std::move(info));

    // One shared name for all of this file's rules. Includes are read where
    // they stand, so rules keep QEMU's reading order.
    auto name = std::make_shared<const std::string>(shown);  // named in messages and records only (where())
    // At most one rule a line: growing the vector once spares a large ACL
    // the copies and fresh pages of repeated doubling.
    if (opt.only_bridge.empty())
        policy.rules.reserve(policy.rules.size() +
                             static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    stack.push_back(id);
    Result<void> failed = Ok{};
    UB_TRYV(parse_each(
        text, shown,
        [&](Line&& line) {
            if (!failed.ok()) return;
            if (line.verb == Verb::Include) {
                failed = load_file(resolve_include(path, line.arg), index, depth + 1);
                return;
            }
            std::string bridge = line.arg == "all" ? std::string() : std::move(line.arg);
            if (!bears_on(opt.only_bridge, bridge, line)) return;
            policy.rules.push_back(Rule{line.verb, std::move(bridge), name, line.lineno, index,
                                        std::move(line.who), line.limits, line.auth});
        },
        opt.problems, opt.daemon));
    UB_TRYV(failed);
    stack.pop_back();
    return Ok{};
}

}  // namespace

// O_NOFOLLOW: a symlink as the last component is refused (ELOOP), so a
// writable directory cannot redirect us to a file we did not vet.
// O_NONBLOCK: opening a FIFO must not hang; fstat then refuses it.
bool has_acl_entries(int fd) { return fgetxattr(fd, "system.posix_acl_access", nullptr, 0) > 0; }

UniqueFd open_acl_file(const std::string& path) {
    return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
}

bool skippable(int err) { return err == EACCES || err == ENOENT || err == ENOTDIR; }

bool bears_on(const std::string& only_bridge, const std::string& bridge, const Line& line) {
    return only_bridge.empty() || bridge.empty() || bridge == only_bridge ||
           (line.verb == Verb::Deny && line.who.kind != Subject::Anyone);
}

std::string resolve_include(const std::string& including_file, const std::string& arg) {
    if (!arg.empty() && arg.front() == '/') return arg;
    std::size_t slash = including_file.rfind('/');
    if (slash == std::string::npos) return arg;  // only for a relative main path
    return including_file.substr(0, slash + 1) + arg;
}

namespace {

// Without a user database (LoadOptions), a name cannot be looked up: as
// when the database fails, a deny naming it refuses the file.
Result<long long> no_database(const std::string& name) {
    return Error::msg("no user database to look up " + printable(name) + " in");
}

}  // namespace

// Names are looked up once each, however many rules name them.
Result<void> Loader::resolve_subjects() {
    auto user_id = opt.user_id ? opt.user_id : no_database;
    auto group_id = opt.group_id ? opt.group_id : no_database;
    std::vector<std::pair<std::string, Result<long long>>> users, groups;
    for (Rule& r : policy.rules) {
        if (r.who.kind == Subject::Anyone || r.who.id >= 0) continue;
        bool is_user = r.who.kind == Subject::User;
        auto& cache = is_user ? users : groups;
        auto hit = std::find_if(cache.begin(), cache.end(),
                                [&](const auto& e) { return e.first == r.who.name; });
        if (hit == cache.end())
            hit = cache.insert(cache.end(), {r.who.name, is_user ? user_id(r.who.name)
                                                                 : group_id(r.who.name)});
        const Result<long long>& id = hit->second;
        if (id.ok() && id.value() >= 0) {
            r.who.id = id.value();
            continue;
        }
        // Unknown, or the database could not say: either way the rule
        // matches nobody, and a deny that matches nobody refuses the file.
        std::string what = id.ok() ? (is_user ? "user " : "group ") + r.who.name + " does not exist"
                                   : id.error().message();
        if (r.verb == Verb::Deny) {
            Error e = Error::msg(where(r) + ": " + what +
                                 "; a deny rule must not lapse, so the ACL is refused");
            if (!opt.problems) return e;
            opt.problems->push_back(e.message());
        } else {
            policy.warnings.push_back(where(r) + ": " + what + "; the rule matches nobody");
        }
    }
    return Ok{};
}

Result<Policy> load(const std::string& path, const LoadOptions& options) {
    Loader loader{options, {}, {}};
    UB_TRYV(loader.load_file(path, -1, 0));
    UB_TRYV(loader.resolve_subjects());
    return std::move(loader.policy);
}

}  // namespace ub::policy
