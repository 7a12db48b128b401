#include "base/result.h"

#include <cstring>

namespace ub {

std::string Error::message() const {
    if (errno_ == 0) return what_;
    return what_ + ": " + std::strerror(errno_);
}

}  // namespace ub
