// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): pure, no I/O, for the
// keyed derivation of guest MACs (policy/mac_key.h), which only userbridged
// and `userbridge explain` do: the helper refuses mac-prefix= and links
// neither. Checked against the published test vectors (FIPS 180-4's
// examples, RFC 4231) in the unit tests. Not constant-time in the length
// of the message, which is not secret; the key is only ever mixed in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ub {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    void update(std::span<const std::uint8_t> data);
    Sha256Digest finish();

private:
    void block(const std::uint8_t* p);
    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buf_{};
    std::size_t used_ = 0;       // bytes in buf_
    std::uint64_t total_ = 0;    // bytes hashed so far
};

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message);

}  // namespace ub
