#include "base/fds.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/system.h"

namespace ub {

namespace {

Result<void> close_range_or_loop(unsigned first, unsigned last) {
    if (first > last) return Ok{};
    Result<void> closed = system::close_range(first, last);
    if (closed.ok() || closed.error().code() != ENOSYS) return closed;
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    unsigned top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 20
                       ? 1u << 20
                       : static_cast<unsigned>(rl.rlim_cur);
    for (unsigned fd = first; fd <= last && fd < top; ++fd) ::close(static_cast<int>(fd));
    return Ok{};
}

}  // namespace

Result<void> close_all_fds_except(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned next = 3;
    for (int fd : keep) {
        if (fd < 3 || static_cast<unsigned>(fd) < next) continue;
        UB_TRYV(close_range_or_loop(next, static_cast<unsigned>(fd) - 1));
        next = static_cast<unsigned>(fd) + 1;
    }
    return close_range_or_loop(next, ~0u);
}

}  // namespace ub
