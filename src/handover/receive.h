// Receiving tap fds sent with SCM_RIGHTS (handover/handover.h): the
// clients' side, which the helper never runs.
//
// It trusts nothing: it takes ownership of every fd that arrives before it
// looks at the message, checks the control message's level, type and
// length and the truncation flags, and closes any fd it did not expect.
#pragma once

#include <cstddef>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "handover/handover.h"

namespace ub::handover {

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
