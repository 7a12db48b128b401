// IP addresses and prefixes as the ACL's ip= option writes them, parsed
// without I/O: "10.0.3.7", "10.0.3.0/24", "2001:db8:3::/64", comma separated.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "policy/acl.h"  // IpPrefix

namespace ub::policy {

// The most entries one ip= may list.
inline constexpr std::size_t kMaxIpPrefixes = 32;

// One address or prefix. Refused: anything inet_pton(3) does not take,
// a length out of range or written with a sign, leading zero or blank,
// bits set past the length (10.0.3.7/24: which was meant?), and what no
// guest sends from: the unspecified and broadcast addresses and multicast.
Result<IpPrefix> parse_ip_prefix(std::string_view text);

// A comma-separated list of at most kMaxIpPrefixes, none inside another
// (the filter's interval sets refuse overlapping entries).
Result<std::vector<IpPrefix>> parse_ip_list(std::string_view text);

// "10.0.3.0/24"; one address without its length: "10.0.3.7".
std::string format_ip_prefix(const IpPrefix& p);
std::string format_ip_list(const std::vector<IpPrefix>& list);

// The prefix's last address (its first is addr).
std::array<std::uint8_t, 16> last_address(const IpPrefix& p);

// Whether `outer` contains every address of `inner`.
bool contains(const IpPrefix& outer, const IpPrefix& inner);

// Whether the prefix lies within IPv6 link-local, fe80::/10. Listing one in
// ip= holds the guest's link-local addresses to those listed too; without
// one, any passes.
bool is_link_local(const IpPrefix& p);

}  // namespace ub::policy
