// The userbridged status query: what the daemon has seen guests use on the
// caller's taps (net/seen.h). Pure encoding and decoding, for the unit
// tests and the fuzzer, as protocol/wire.h.
//
// Query (96 bytes, the size of a grant request, so the daemon reads either
// the same way): char[4] magic "UBSQ", u16 version (2), then 90 bytes of 0.
// Reply: a 256-byte header, then `count` records of 48 bytes:
//   0   char[4]  magic "UBSP"
//   4   u16      version (2)
//   6   u16      status: 0 answered; 3 failed (the message says why)
//   8   u16      count of records (at most kMaxSeen)
//   10  u16      flags: bit 0 = there were more than kMaxSeen
//   12  u32      reserved, 0
//   16  char[240] message, NUL-padded
// Record:
//   0   char[16] tap name, NUL-padded
//   16  u8[6]    the guest MAC the address came from
//   22  u8       4 or 6
//   23  u8       reserved, 0
//   24  u8[16]   the address (IPv4: the first 4 bytes, the rest 0)
//   40  u32      seconds until it is forgotten unless seen again
//   44  u32      reserved, 0
// The daemon answers with the entries of the caller's own taps (by their
// label's uid, from SO_PEERCRED), or of every tap when the caller is root.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/mac.h"
#include "base/result.h"

namespace ub::protocol {

// One address a guest was seen to use, on the tap named `port`.
struct SeenAddress {
    std::string port;  // the tap's name
    Mac mac{};
    bool v6 = false;
    std::array<std::uint8_t, 16> addr{};  // the first 4 bytes for IPv4
    unsigned expires_s = 0;  // seconds until it is forgotten, unless seen again
};

// "10.0.0.5", "2001:db8::5".
std::string format_address(const SeenAddress& s);

inline constexpr std::size_t kSeenQuerySize = 96;
inline constexpr std::size_t kSeenHeaderSize = 256;
inline constexpr std::size_t kSeenRecordSize = 48;
inline constexpr std::size_t kMaxSeen = 1024;

struct SeenReply {
    bool ok = false;
    std::string message;  // why, when not ok
    bool truncated = false;
    std::vector<SeenAddress> seen;
};

std::array<char, kSeenQuerySize> encode_seen_query();
// Whether `bytes` (a full request) is a status query rather than a grant.
bool is_seen_query(std::string_view bytes);
Result<void> decode_seen_query(std::string_view bytes);

std::string encode(const SeenReply& reply);
Result<SeenReply> decode_seen_reply(std::string_view bytes);

}  // namespace ub::protocol
