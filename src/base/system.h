// Thin wrappers over the syscalls the privileged code makes (the helper,
// net/, privilege/, handover/, the daemon), as SerenityOS's Core::System
// does: each makes one call, changes nothing about it, and turns its -1
// into an Error that keeps errno (Error::code(), for callers that act on
// EBUSY or EINVAL). `what` is the error's text, naming the call and its
// object ("cannot create tap (TUNSETIFF)"); message() adds strerror.
// The ones that make sockets are in base/system_sockets.h.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace ub::system {

inline Result<void> checked(long rc, const std::string& what) {
    if (rc < 0) return Error::sys(what);
    return Ok{};
}

template <typename T>
Result<T> value_or_error(long rc, T value, const std::string& what) {
    if (rc < 0) return Error::sys(what);
    return value;
}

inline Result<UniqueFd> open(const char* path, int flags, const std::string& what) {
    int fd = ::open(path, flags);
    return value_or_error(fd, UniqueFd(fd), what);
}
inline Result<void> ioctl(int fd, unsigned long request, void* arg, const std::string& what) {
    return checked(::ioctl(fd, request, arg), what);
}
inline Result<void> ioctl(int fd, unsigned long request, unsigned long arg, const std::string& what) {
    return checked(::ioctl(fd, request, arg), what);
}
inline Result<int> getsockopt_int(int fd, int level, int option, const std::string& what) {
    int v = 0;
    socklen_t len = sizeof v;
    long rc = ::getsockopt(fd, level, option, &v, &len);
    return value_or_error(rc, v, what);
}
inline Result<void> setsockopt_int(int fd, int level, int option, int value, const std::string& what) {
    return checked(::setsockopt(fd, level, option, &value, sizeof value), what);
}
inline Result<struct stat> fstat(int fd, const std::string& what) {
    struct stat st {};
    long rc = ::fstat(fd, &st);
    return value_or_error(rc, st, what);
}
inline Result<void> close_range(unsigned first, unsigned last) {
    return checked(::syscall(SYS_close_range, first, last, 0), "cannot close inherited fds (close_range)");
}
inline Result<void> prctl(int option, unsigned long arg2, unsigned long arg3, const std::string& what) {
    return checked(::prctl(option, arg2, arg3, 0UL, 0UL), what);
}
// For the options that read a value (PR_GET_*, PR_CAPBSET_READ, ...).
inline Result<int> prctl_read(int option, unsigned long arg2, unsigned long arg3, const std::string& what) {
    int rc = ::prctl(option, arg2, arg3, 0UL, 0UL);
    return value_or_error(rc, rc, what);
}

// Real, effective and saved ids: getresuid(2) and getresgid(2).
struct ResIds {
    unsigned real, effective, saved;
    bool all(unsigned id) const { return real == id && effective == id && saved == id; }
};
struct Ids {
    ResIds uid, gid;
};
inline Result<Ids> getresids() {
    Ids ids{};
    long rc = ::getresuid(&ids.uid.real, &ids.uid.effective, &ids.uid.saved) |
              ::getresgid(&ids.gid.real, &ids.gid.effective, &ids.gid.saved);
    return value_or_error(rc, ids, "cannot read the process's ids (getresuid, getresgid)");
}
// All three ids to one.
inline Result<void> setresuid(uid_t id) {
    return checked(::setresuid(id, id, id), "cannot set user ids to " + std::to_string(id) + " (setresuid)");
}
inline Result<void> setresgid(gid_t id) {
    return checked(::setresgid(id, id, id), "cannot set group ids to " + std::to_string(id) + " (setresgid)");
}
inline Result<void> setgroups(const std::vector<gid_t>& groups) {
    return checked(::setgroups(groups.size(), groups.data()), "cannot set supplementary groups (setgroups)");
}
inline Result<std::vector<gid_t>> getgroups() {
    int n = ::getgroups(0, nullptr);
    std::vector<gid_t> g(static_cast<std::size_t>(std::max(n, 0)));
    if (n < 0 || (n > 0 && ::getgroups(n, g.data()) != n))
        return Error::sys("cannot read supplementary groups (getgroups)");
    return g;
}

}  // namespace ub::system
