// Thin wrappers over the syscalls the privileged code makes (the helper,
// net/, privilege/, handover/, the daemon), as SerenityOS's Core::System
// does: each makes one call, changes nothing about it, and turns its -1
// into an Error that keeps errno (Error::code(), for callers that act on
// EBUSY or EINTR). `what` is the error's text, naming the call and its
// object ("cannot create tap (TUNSETIFF)"); message() adds strerror.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace ub::system {

Result<UniqueFd> open(const char* path, int flags, const std::string& what);
Result<UniqueFd> socket(int domain, int type, int protocol, const std::string& what);
Result<std::pair<UniqueFd, UniqueFd>> socketpair(int domain, int type, const std::string& what);
Result<std::pair<UniqueFd, UniqueFd>> pipe2(int flags, const std::string& what);
Result<void> ioctl(int fd, unsigned long request, void* arg, const std::string& what);
Result<void> ioctl(int fd, unsigned long request, unsigned long arg, const std::string& what);
Result<int> getsockopt_int(int fd, int level, int option, const std::string& what);
Result<void> setsockopt_int(int fd, int level, int option, int value, const std::string& what);
Result<struct stat> fstat(int fd, const std::string& what);
Result<void> close_range(unsigned first, unsigned last);
Result<void> prctl(int option, unsigned long arg2, unsigned long arg3, const std::string& what);
// For the options that read a value (PR_GET_*, PR_CAPBSET_READ, ...).
Result<int> prctl_read(int option, unsigned long arg2, unsigned long arg3, const std::string& what);

// Real, effective and saved ids: getresuid(2), getresgid(2).
struct ResIds {
    unsigned real, effective, saved;
    bool all(unsigned id) const { return real == id && effective == id && saved == id; }
};
Result<ResIds> getresuid();
Result<ResIds> getresgid();
Result<void> setresuid(uid_t uid);  // all three to `uid`
Result<void> setresgid(gid_t gid);
Result<void> setgroups(const std::vector<gid_t>& groups);
Result<std::vector<gid_t>> getgroups();

}  // namespace ub::system
