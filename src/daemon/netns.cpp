#include "daemon/netns.h"

#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

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
    return "";
}

}  // namespace ub::daemon
