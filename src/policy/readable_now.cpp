// readable_now() (loader.h): userbridged's and `userbridge explain`'s
// question to the kernel, in a file of its own so that the helper, which
// reads the ACL as the caller and so never asks, does not link it.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "base/names.h"
#include "policy/readable.h"

namespace ub::policy {

namespace {

// Whether a file's group may read it where others may not, or the other
// way round, or POSIX ACL entries may set some group apart: whether a
// caller's groups may decide whether they read it.
bool group_apart(mode_t m, bool acl) { return acl || ((m & S_IRGRP) != 0) != ((m & S_IROTH) != 0); }

}  // namespace

Result<std::vector<bool>> readable_now(const Policy& policy) {
    // Files come in the order read, so an includer precedes what it includes.
    std::vector<bool> readable(policy.files.size(), false);
    auto reached = [&](int includer) { return includer < 0 || readable[static_cast<std::size_t>(includer)]; };
    for (std::size_t i = 0; i < policy.files.size(); ++i) {
        const FileInfo& f = policy.files[i];
        if (!reached(f.includer)) continue;
        UniqueFd fd = open_acl_file(f.path);
        if (!fd.valid()) {
            int err = errno;
            if (f.includer >= 0 && skippable(err)) continue;  // as load() skips it
            return Error::sys("cannot open " + printable(f.path, 4096), err);
        }
        struct stat st {};
        if (fstat(fd.get(), &st) != 0) return Error::sys("cannot stat " + printable(f.path, 4096));
        if (FileId{st.st_dev, st.st_ino} != f.id)
            return Error::msg(printable(f.path, 4096) + " changed since the ACL was loaded");
        // needs_account_groups() read the main file's mode at the load.
        if (f.includer < 0 && !group_apart(f.mode, f.acl) && group_apart(st.st_mode, has_acl_entries(fd.get())))
            return Error::msg(printable(f.path, 4096) + "'s permissions changed since the ACL was loaded");
        readable[i] = true;
    }
    for (const FileInfo& a : policy.absent)
        if (reached(a.includer) && open_acl_file(a.path).valid())
            return Error::msg(printable(a.path, 4096) + " can be read now, but could not when the ACL was loaded");
    return readable;
}

std::vector<gid_t> groups_beyond_process(const Credentials& who) {
    std::vector<gid_t> more;
    for (gid_t g : who.account_groups)
        if (g != who.gid && std::find(who.groups.begin(), who.groups.end(), g) == who.groups.end())
            more.push_back(g);
    return more;
}

Result<Readable> readable_views(
    const Credentials& who, const std::function<Result<std::vector<bool>>(const std::vector<gid_t>&)>& as) {
    std::vector<bool> process = UB_TRY(as(who.groups));
    std::vector<gid_t> more = groups_beyond_process(who);
    if (more.empty()) return Readable::same(process);
    more.insert(more.begin(), who.groups.begin(), who.groups.end());
    std::vector<bool> account = UB_TRY(as(more));
    Readable r = Readable::same(process);
    for (std::size_t i = 0; i < process.size() && i < account.size(); ++i) {
        r.allow[i] = process[i] && account[i];
        r.deny[i] = process[i] || account[i];
    }
    return r;
}

bool needs_account_groups(const Policy& policy) {
    for (const Rule& r : policy.rules)
        if (r.who.kind == Subject::Group) return true;
    if (policy.files.size() != 1 || !policy.absent.empty()) return true;
    return group_apart(policy.files.front().mode, policy.files.front().acl);
}

}  // namespace ub::policy
