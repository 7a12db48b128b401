// What userbridged's traffic filter needs of an ip= prefix (net/mac_pin.cpp):
// its last address and whether it is link-local. In a file of its own so
// that the helper, which parses ip= but refuses to filter, does not link it.
#include "policy/ip_prefix.h"

namespace ub::policy {

std::array<std::uint8_t, 16> last_address(const IpPrefix& p) {
    std::array<std::uint8_t, 16> a = p.addr;
    for (int i = p.len; i < p.bits(); ++i) a[i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
    return a;
}

bool is_link_local(const IpPrefix& p) {
    return p.v6 && p.len >= 10 && p.addr[0] == 0xfe && (p.addr[1] & 0xc0) == 0x80;
}

}  // namespace ub::policy
