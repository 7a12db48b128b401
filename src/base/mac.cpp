#include "base/mac.h"

#include <cstdio>

namespace ub {

std::string format_mac(const Mac& mac, int len) {
    std::string s;
    for (int i = 0; i < len; ++i) {
        char b[4];
        std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", mac[static_cast<std::size_t>(i)]);
        s += b;
    }
    return s;
}

}  // namespace ub
