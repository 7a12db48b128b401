#include "policy/ip_prefix.h"

#include <arpa/inet.h>

#include "base/number.h"
#include "base/names.h"

namespace ub::policy {

namespace {

// Whether bit `i` (0: the most significant of the first byte) is set.
bool bit(const std::array<std::uint8_t, 16>& a, int i) { return (a[i / 8] >> (7 - i % 8)) & 1; }

bool any_bit_from(const std::array<std::uint8_t, 16>& a, int from, int to) {
    for (int i = from; i < to; ++i)
        if (bit(a, i)) return true;
    return false;
}

// Whether the prefix lies inside multicast (224.0.0.0/4, ff00::/8): it
// names nothing a guest sends from. A shorter one that contains multicast
// (0.0.0.0/0: any address) is taken as written.
bool is_multicast(const IpPrefix& p) {
    return p.v6 ? p.len >= 8 && p.addr[0] == 0xff : p.len >= 4 && (p.addr[0] & 0xf0) == 0xe0;
}

}  // namespace

Result<IpPrefix> parse_ip_prefix(std::string_view text) {
    auto bad = [&](const std::string& why) { return Error::msg("'" + printable(text) + "'" + why); };
    std::size_t slash = text.find('/');
    std::string_view host = text.substr(0, slash);
    IpPrefix p;
    p.v6 = host.find(':') != std::string_view::npos;
    // Longer than any address: refused before it is copied.
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN ||
        inet_pton(p.v6 ? AF_INET6 : AF_INET, std::string(host).c_str(), p.addr.data()) != 1)
        return bad(" is not an IP address");
    p.len = p.bits();
    if (slash != std::string_view::npos) {
        std::string_view len = text.substr(slash + 1);
        std::optional<long long> n = parse_decimal(len, p.bits());
        // "/08" and "/" are refused as "+8" and " 8" are.
        if (!n || (len.size() > 1 && len[0] == '0'))
            return bad(": the length after / is 0 to " + std::to_string(p.bits()));
        p.len = static_cast<int>(*n);
    }
    if (any_bit_from(p.addr, p.len, p.bits())) {
        IpPrefix net = p;
        for (int i = p.len; i < p.bits(); ++i) net.addr[i / 8] &= static_cast<std::uint8_t>(~(0x80 >> (i % 8)));
        return bad(" has bits set past /" + std::to_string(p.len) + " (the prefix is " + format_ip_prefix(net) + ")");
    }
    if (is_multicast(p)) return bad(" is multicast");
    if (p.len == p.bits() && !any_bit_from(p.addr, 0, p.bits())) return bad(" is the unspecified address");
    bool broadcast = !p.v6 && p.len == 32 && p.addr[0] == 255 && p.addr[1] == 255 && p.addr[2] == 255 && p.addr[3] == 255;
    if (broadcast) return bad(" is the broadcast address");
    return p;
}

Result<std::vector<IpPrefix>> parse_ip_list(std::string_view text) {
    std::vector<IpPrefix> out;
    while (true) {
        std::size_t comma = text.find(',');
        if (out.size() == kMaxIpPrefixes)
            return Error::msg("more than " + std::to_string(kMaxIpPrefixes) + " addresses");
        IpPrefix p = UB_TRY(parse_ip_prefix(text.substr(0, comma)));
        for (const IpPrefix& q : out)
            if (contains(q, p) || contains(p, q))
                return Error::msg(format_ip_prefix(p) + " overlaps " + format_ip_prefix(q));
        out.push_back(p);
        if (comma == std::string_view::npos) return out;
        text = text.substr(comma + 1);
    }
}

std::string format_ip_prefix(const IpPrefix& p) {
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(p.v6 ? AF_INET6 : AF_INET, p.addr.data(), buf, sizeof buf)) return "?";
    std::string s = buf;
    return p.len == p.bits() ? s : s + "/" + std::to_string(p.len);
}

std::string format_ip_list(const std::vector<IpPrefix>& list) {
    std::string s;
    for (const IpPrefix& p : list) s += (s.empty() ? "" : ",") + format_ip_prefix(p);
    return s;
}

bool contains(const IpPrefix& outer, const IpPrefix& inner) {
    if (outer.v6 != inner.v6 || outer.len > inner.len) return false;
    for (int i = 0; i < outer.len; ++i)
        if (bit(outer.addr, i) != bit(inner.addr, i)) return false;
    return true;
}

}  // namespace ub::policy
