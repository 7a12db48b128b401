// Passing tap fds over a unix stream socket with SCM_RIGHTS, QEMU's way: one
// data byte carrying one control message of fds.
//
// Both directions live here so that the encoding has one definition. The
// receiving side trusts nothing: it checks the control message's level, type
// and length and the truncation flags, and closes any fd it did not expect.
#pragma once

#include <string>
#include <vector>

#include "base/fd.h"
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

struct Received {
    std::size_t bytes = 0;
    std::vector<UniqueFd> fds;  // every fd that came, owned: none can leak
    bool truncated = false;     // MSG_CTRUNC or MSG_TRUNC
};

// One recvmsg into `buf`, taking any fds (close-on-exec).
Result<Received> recvmsg_with_fds(int sock, char* buf, std::size_t len);

// Receives exactly `count` fds sent by send_fds (or by qemu-bridge-helper
// when count is 1). An orderly close without fds is an error.
Result<std::vector<UniqueFd>> recv_fds(int sock, int count);

}  // namespace ub::handover
