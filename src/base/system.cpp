#include "base/system.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ub::system {

namespace {

Result<void> checked(long rc, const std::string& what) {
    if (rc < 0) return Error::sys(what);
    return Ok{};
}

Result<UniqueFd> owned(int fd, const std::string& what) {
    if (fd < 0) return Error::sys(what);
    return UniqueFd(fd);
}

Result<std::pair<UniqueFd, UniqueFd>> pair(int rc, const int (&fds)[2], const std::string& what) {
    if (rc != 0) return Error::sys(what);
    return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

Result<UniqueFd> open(const char* path, int flags, const std::string& what) {
    return owned(::open(path, flags), what);
}

Result<UniqueFd> socket(int domain, int type, int protocol, const std::string& what) {
    return owned(::socket(domain, type, protocol), what);
}

Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type, const std::string& what) {
    int fds[2];
    return pair(::socketpair(domain, type, 0, fds), fds, what);
}

Result<std::pair<UniqueFd, UniqueFd>> pipe2(int flags, const std::string& what) {
    int fds[2];
    return pair(::pipe2(fds, flags), fds, what);
}

Result<void> ioctl(int fd, unsigned long request, void* arg, const std::string& what) {
    return checked(::ioctl(fd, request, arg), what);
}

Result<void> ioctl(int fd, unsigned long request, unsigned long arg, const std::string& what) {
    return checked(::ioctl(fd, request, arg), what);
}

Result<int> getsockopt_int(int fd, int level, int option, const std::string& what) {
    int v = 0;
    socklen_t len = sizeof v;
    UB_TRYV(checked(::getsockopt(fd, level, option, &v, &len), what));
    return v;
}

Result<void> setsockopt_int(int fd, int level, int option, int value, const std::string& what) {
    return checked(::setsockopt(fd, level, option, &value, sizeof value), what);
}

Result<struct stat> fstat(int fd, const std::string& what) {
    struct stat st {};
    UB_TRYV(checked(::fstat(fd, &st), what));
    return st;
}

Result<void> close_range(unsigned first, unsigned last) {
    return checked(::syscall(SYS_close_range, first, last, 0), "cannot close inherited fds (close_range)");
}

Result<void> prctl(int option, unsigned long arg2, unsigned long arg3, const std::string& what) {
    return checked(::prctl(option, arg2, arg3, 0UL, 0UL), what);
}

Result<int> prctl_read(int option, unsigned long arg2, unsigned long arg3, const std::string& what) {
    int rc = ::prctl(option, arg2, arg3, 0UL, 0UL);
    UB_TRYV(checked(rc, what));
    return rc;
}

Result<ResIds> getresuid() {
    ResIds ids{};
    UB_TRYV(checked(::getresuid(&ids.real, &ids.effective, &ids.saved), "cannot read user ids (getresuid)"));
    return ids;
}

Result<ResIds> getresgid() {
    ResIds ids{};
    UB_TRYV(checked(::getresgid(&ids.real, &ids.effective, &ids.saved), "cannot read group ids (getresgid)"));
    return ids;
}

Result<void> setresuid(uid_t uid) {
    return checked(::setresuid(uid, uid, uid), "cannot set user ids to " + std::to_string(uid) + " (setresuid)");
}

Result<void> setresgid(gid_t gid) {
    return checked(::setresgid(gid, gid, gid), "cannot set group ids to " + std::to_string(gid) + " (setresgid)");
}

Result<void> setgroups(const std::vector<gid_t>& groups) {
    return checked(::setgroups(groups.size(), groups.data()), "cannot set supplementary groups (setgroups)");
}

Result<std::vector<gid_t>> getgroups() {
    int n = ::getgroups(0, nullptr);
    UB_TRYV(checked(n, "getgroups"));
    std::vector<gid_t> g(static_cast<std::size_t>(n));
    if (n > 0 && ::getgroups(n, g.data()) != n) return Error::sys("getgroups");
    return g;
}

}  // namespace ub::system
