// The wrappers of base/system.h that make sockets: socket(2) and
// socketpair(2). Apart from the others because only userbridged makes
// sockets of its own; the helper makes none (its unix socket comes from
// its caller, its rtnetlink socket from libmnl), and includes only the
// wrappers it calls.
#pragma once

#include <sys/socket.h>

#include <string>
#include <utility>

#include "base/fd.h"
#include "base/result.h"
#include "base/system.h"

namespace ub::system {

using FdPair = std::pair<UniqueFd, UniqueFd>;

inline Result<UniqueFd> socket(int domain, int type, int protocol, const std::string& what) {
    int fd = ::socket(domain, type, protocol);
    return value_or_error(fd, UniqueFd(fd), what);
}
inline Result<FdPair> socketpair(int domain, int type, const std::string& what) {
    int fds[2] = {-1, -1};
    long rc = ::socketpair(domain, type, 0, fds);
    return value_or_error(rc, FdPair(fds[0], fds[1]), what);
}

}  // namespace ub::system
