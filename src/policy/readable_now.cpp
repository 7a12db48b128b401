// readable_now() (loader.h): userbridged's and `userbridge explain`'s
// question to the kernel, in a file of its own so that the helper, which
// reads the ACL as the caller and so never asks, does not link it.
#include <sys/stat.h>

#include <cerrno>

#include "policy/loader.h"

namespace ub::policy {

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
            return Error::sys("cannot open " + f.path, err);
        }
        struct stat st {};
        if (fstat(fd.get(), &st) != 0) return Error::sys("cannot stat " + f.path);
        if (FileId{st.st_dev, st.st_ino} != f.id)
            return Error::msg(f.path + " changed since the ACL was loaded");
        readable[i] = true;
    }
    for (const FileInfo& a : policy.absent)
        if (reached(a.includer) && open_acl_file(a.path).valid())
            return Error::msg(a.path + " can be read now, but could not when the ACL was loaded");
    return readable;
}

}  // namespace ub::policy
