#include "protocol/seen_wire.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/names.h"
#include "protocol/le_bytes.h"
#include "protocol/wire.h"

namespace ub::protocol {

namespace {

using le::get16;
using le::get32;
using le::put16;
using le::put32;

constexpr char kQueryMagic[4] = {'U', 'B', 'S', 'Q'};
constexpr char kReplyMagic[4] = {'U', 'B', 'S', 'P'};
constexpr std::size_t kMessageSize = 240;

bool all_zero(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (p[i] != 0) return false;
    return true;
}

// A NUL-padded field: the text up to the first NUL, and nothing but NULs after.
Result<std::string> get_str(const char* p, std::size_t field, const char* what) {
    std::size_t len = strnlen(p, field);
    if (len == field) return Error::msg(std::string(what) + " is not NUL-terminated");
    if (!all_zero(p + len, field - len)) return Error::msg(std::string(what) + " has bytes after its NUL");
    return std::string(p, len);
}

Result<SeenAddress> decode_record(const char* p) {
    SeenAddress s;
    s.port = UB_TRY(get_str(p, 16, "tap name"));
    if (std::string why = ifname_problem(s.port); !why.empty())
        return Error::msg("tap name '" + printable(s.port) + "' " + why);
    std::memcpy(s.mac.data(), p + 16, 6);
    auto family = static_cast<unsigned char>(p[22]);
    if (family != 4 && family != 6) return Error::msg("record has an unknown address family");
    s.v6 = family == 6;
    std::memcpy(s.addr.data(), p + 24, 16);
    if (!s.v6 && !all_zero(p + 28, 12)) return Error::msg("IPv4 record has bytes past its address");
    s.expires_s = get32(p + 40);
    if (p[23] != 0 || get32(p + 44) != 0) return Error::msg("record's reserved fields must be 0");
    return s;
}

}  // namespace

std::string format_address(const SeenAddress& s) {
    char buf[INET6_ADDRSTRLEN] = "";
    inet_ntop(s.v6 ? AF_INET6 : AF_INET, s.addr.data(), buf, sizeof buf);
    return buf;
}

std::array<char, kSeenQuerySize> encode_seen_query() {
    std::array<char, kSeenQuerySize> b{};
    std::memcpy(b.data(), kQueryMagic, 4);
    put16(&b[4], kVersion);
    return b;
}

bool is_seen_query(std::string_view bytes) { return bytes.size() >= 4 && std::memcmp(bytes.data(), kQueryMagic, 4) == 0; }

Result<void> decode_seen_query(std::string_view bytes) {
    if (bytes.size() != kSeenQuerySize || !is_seen_query(bytes)) return Error::msg("not a status query");
    if (get16(bytes.data() + 4) != kVersion)
        return Error::msg("protocol version " + std::to_string(get16(bytes.data() + 4)) +
                          " is not supported (this daemon speaks " + std::to_string(kVersion) + ")");
    if (!all_zero(bytes.data() + 6, kSeenQuerySize - 6)) return Error::msg("status query's reserved bytes must be 0");
    return Ok{};
}

std::string encode(const SeenReply& r) {
    std::size_t count = std::min(r.seen.size(), kMaxSeen);
    std::string b(kSeenHeaderSize + count * kSeenRecordSize, '\0');
    std::memcpy(b.data(), kReplyMagic, 4);
    put16(&b[4], kVersion);
    put16(&b[6], r.ok ? 0 : 3);
    put16(&b[8], static_cast<std::uint16_t>(count));
    put16(&b[10], (r.truncated || r.seen.size() > kMaxSeen) ? 1 : 0);
    std::memcpy(&b[16], r.message.data(), std::min(r.message.size(), kMessageSize - 1));
    for (std::size_t i = 0; i < count; ++i) {
        const SeenAddress& s = r.seen[i];
        char* p = &b[kSeenHeaderSize + i * kSeenRecordSize];
        std::memcpy(p, s.port.data(), std::min<std::size_t>(s.port.size(), 15));
        std::memcpy(p + 16, s.mac.data(), 6);
        p[22] = static_cast<char>(s.v6 ? 6 : 4);
        std::memcpy(p + 24, s.addr.data(), s.v6 ? 16 : 4);
        put32(p + 40, s.expires_s);
    }
    return b;
}

Result<SeenReply> decode_seen_reply(std::string_view bytes) {
    if (bytes.size() < kSeenHeaderSize) return Error::msg("status reply is too short");
    const char* p = bytes.data();
    if (std::memcmp(p, kReplyMagic, 4) != 0) return Error::msg("status reply has a bad magic");
    if (get16(p + 4) != kVersion)
        return Error::msg("status reply is in protocol version " + std::to_string(get16(p + 4)) +
                          " (userbridged and its clients must be of one release)");
    SeenReply r;
    std::uint16_t status = get16(p + 6);
    if (status != 0 && status != 3) return Error::msg("status reply has an unknown status");
    r.ok = status == 0;
    std::size_t count = get16(p + 8);
    std::uint16_t flags = get16(p + 10);
    if (count > kMaxSeen || flags > 1 || get32(p + 12) != 0) return Error::msg("status reply has a bad header");
    r.truncated = flags == 1;
    if (bytes.size() != kSeenHeaderSize + count * kSeenRecordSize)
        return Error::msg("status reply's size does not match its count");
    r.message = UB_TRY(get_str(p + 16, kMessageSize, "message"));
    for (std::size_t i = 0; i < count; ++i)
        r.seen.push_back(UB_TRY(decode_record(p + kSeenHeaderSize + i * kSeenRecordSize)));
    return r;
}

}  // namespace ub::protocol
