#include "daemon/netns.h"

#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "base/fd.h"
#include "base/system.h"

namespace ub::daemon {

Result<NsId> own_netns() {
    struct stat st {};
    if (stat("/proc/self/ns/net", &st) != 0) return Error::sys("cannot stat /proc/self/ns/net");
    return NsId{st.st_dev, st.st_ino};
}

bool may_use_netns(uid_t owner, uid_t caller, const SubUids& subuids) {
    return owner == caller || (subuids.account_of(caller) == caller && subuids.account_of(owner) == caller);
}

namespace {

// The uid that made the user namespace above `userns` (or it) right under
// the daemon's own, or none when `userns` is the daemon's own. NS_GET_PARENT
// fails with EPERM at our own: its parent is out of our reach.
Result<std::optional<uid_t>> top_owner(int userns) {
    UniqueFd cur(::fcntl(userns, F_DUPFD_CLOEXEC, 0));
    if (!cur.valid()) return Error::sys("cannot hold a user namespace");
    UniqueFd below;  // cur's child on the way up; none at the start
    // The kernel nests user namespaces 32 deep at most.
    for (int depth = 0; depth <= 33; ++depth) {
        UniqueFd parent(::ioctl(cur.get(), NS_GET_PARENT));
        if (!parent.valid()) {
            if (errno != EPERM) return Error::sys("the kernel will not name a user namespace's parent");
            if (!below.valid()) return std::optional<uid_t>();
            uid_t owner = 0;
            if (::ioctl(below.get(), NS_GET_OWNER_UID, &owner) != 0)
                return Error::sys("the kernel will not name a user namespace's owner");
            return std::optional<uid_t>(owner);
        }
        below = std::move(cur);
        cur = std::move(parent);
    }
    return Error::msg("user namespaces nested deeper than the kernel nests them");
}

}  // namespace

std::string netns_refusal(int fd, uid_t caller, const SubUids& subuids, const NsId& host) {
    // On nsfs, where every namespace is, before any ioctl: an ioctl on a
    // FUSE file is a request to its server, which may never answer, and
    // this runs in the thread that serves everyone. statx with
    // AT_STATX_DONT_SYNC answers from what the kernel holds, asking no
    // file system's server (fuse_update_get_attr, nfs_getattr).
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &stx) != 0)
        return "cannot look at the fd sent (" + std::string(std::strerror(errno)) + ")";
    if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != host.dev) return "the fd sent is not a namespace";
    // ENOTTY: an nsfs file, but no namespace (none such yet).
    int type = ::ioctl(fd, NS_GET_NSTYPE);
    if (type < 0) return "the fd sent is not a namespace (" + std::string(std::strerror(errno)) + ")";
    if (type != CLONE_NEWNET) return "the fd sent is a namespace, but not a network namespace";
    struct stat st {};
    if (fstat(fd, &st) != 0) return "cannot fstat the namespace fd (" + std::string(std::strerror(errno)) + ")";
    if (NsId{st.st_dev, st.st_ino} == host) return "the namespace is the host's own network namespace";
    UniqueFd userns(::ioctl(fd, NS_GET_USERNS));
    if (!userns.valid())
        return "the kernel will not name the namespace's user namespace (" + std::string(std::strerror(errno)) +
               ")";
    uid_t owner = 0;
    if (::ioctl(userns.get(), NS_GET_OWNER_UID, &owner) != 0)
        return "the kernel will not name the namespace's owner (" + std::string(std::strerror(errno)) + ")";
    if (!may_use_netns(owner, caller, subuids))
        return "the network namespace belongs to uid " + std::to_string(owner) + ", not to you (uid " +
               std::to_string(caller) + ")";
    // The kernel gives a process of ours rights in a namespace through the
    // user namespace right under ours that holds it, whoever made the ones
    // nested in it (cap_capable): a container root made, mapping the
    // caller's uid, is between the caller and what a process of that uid
    // made in it (review item 35-2). That one must be the caller's, or its
    // account's for a subordinate uid.
    Result<std::optional<uid_t>> top = top_owner(userns.get());
    if (!top.ok()) return top.error().message();
    if (*top && **top != caller && **top != subuids.account_of(caller))
        return "the network namespace is in a user namespace uid " + std::to_string(**top) +
               " made, not you (uid " + std::to_string(caller) + ")";
    return "";
}

}  // namespace ub::daemon
