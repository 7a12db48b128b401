// An Ethernet MAC address: the one type for every MAC the project handles
// (a tap's port MAC, a guest MAC a rule pins, a prefix), and its text form.
// Pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ub {

using Mac = std::array<std::uint8_t, 6>;

// Parse "52:54:00:12:34:56" (6 bytes); with `len_out`, 1 to 6 bytes (a
// prefix), their count stored there. Hex digits in pairs, colon separated,
// any case. (mac_parse.cpp, which the helper, writing MACs only, never links.)
Result<Mac> parse_mac(std::string_view text, int* len_out);
// "52:54:00:12:34:56", or the first `len` bytes of it.
std::string format_mac(const Mac& mac, int len = 6);

}  // namespace ub
