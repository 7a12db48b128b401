// Passing tap fds over a unix stream socket with SCM_RIGHTS, QEMU's way: one
// data byte carrying one control message of fds.
//
// The sending side, which the helper runs. The receiving side, which only
// the clients run, is handover/receive.h, so that the helper does not link
// it; both take the limit on fds (kMaxFds) from here.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace ub::handover {

inline constexpr int kMaxFds = 16;

// Checks that `fd` is open and is a connected AF_UNIX stream socket whose
// other end is still open, the only thing QEMU and libvirt pass. Called
// before anything is created.
Result<void> check_socket(int fd);

// Sends `fds` with one zero data byte. Never raises SIGPIPE.
Result<void> send_fds(int sock, const std::vector<int>& fds);

// The general form: `len` bytes of data with `fds` (up to kMaxFds) attached
// to the first. sendmsg's result; never raises SIGPIPE. `flags` adds to
// MSG_NOSIGNAL (the daemon passes MSG_DONTWAIT).
ssize_t sendmsg_with_fds(int sock, const char* data, std::size_t len, const std::vector<int>& fds,
                         int flags);

}  // namespace ub::handover
