#include "base/fds.h"

#include <algorithm>

#include "base/system.h"

namespace ub {

// close_range(2) only (Linux 5.9): on a kernel without it this fails, and
// the helper with it, rather than keep a fallback loop no test runs.
Result<void> close_all_fds_except(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned next = 3;
    for (int fd : keep) {
        if (fd < 3 || static_cast<unsigned>(fd) < next) continue;
        if (static_cast<unsigned>(fd) > next) UB_TRYV(system::close_range(next, static_cast<unsigned>(fd) - 1));
        next = static_cast<unsigned>(fd) + 1;
    }
    return system::close_range(next, ~0u);
}

}  // namespace ub
