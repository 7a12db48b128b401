// Strict decimal numbers from untrusted text: the one routine every parser
// of ours uses, so "+1", " 1", "1x", "0x10" and overflow are refused alike.
#pragma once

#include <optional>
#include <string_view>

namespace ub {

// The largest uid or gid a number may name: (uid_t)-1 is "no id" to the
// kernel.
inline constexpr long long kMaxId = 4294967294LL;

// Digits only (no sign, blanks or base prefix), at most `max`. Empty
// optional otherwise; callers word their own message.
inline std::optional<long long> parse_decimal(std::string_view text, long long max) {
    if (text.empty()) return std::nullopt;
    long long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
        if (v > max) return std::nullopt;
    }
    return v;
}

}  // namespace ub
