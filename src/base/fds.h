// Closing every inherited fd but a chosen few: the helper keeps stdio and
// the caller's socket; `userbridge run` keeps stdio and the taps it passes.
#pragma once

#include <vector>

#include "base/result.h"

namespace ub {

// Closes every fd from 3 up except those in `keep` (fds below 3 in it are
// ignored: stdio always stays), with close_range(2) (Linux 5.9).
Result<void> close_all_fds_except(std::vector<int> keep);

}  // namespace ub
