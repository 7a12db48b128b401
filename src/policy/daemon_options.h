// The ACL options only userbridged acts on (acl.h, kDaemonOnly): their
// values' parsers, handed to parse_each as a DaemonOptions, and what
// userbridged and the CLI make of the values. userbridge-helper links none
// of this: it records these options by name and refuses their rules.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "policy/acl.h"

namespace ub::policy {

// The parsers userbridged, the CLI, the tests and the fuzzers give
// parse_each (and LoadOptions::daemon).
const DaemonOptions& daemon_options();

// "bridge", "routed", "macvtap".
std::string_view mode_name(Mode mode);

// The decision once polkit said yes to `d` (whose ask_polkit is set):
// allowed by the same rule, with its limits.
Decision polkit_granted(const Decision& d);

// The guest MAC a mac= or mac-prefix= rule sets is userbridged's: the
// helper refuses such rules, and its engine pins none (grant.h,
// Resources::terms).
// How a guest MAC under mac-prefix= is made for one request: the MAC key's
// derivation (mac_key.h, deriver_for), or its error when there is no key.
// Only userbridged derives: the helper refuses mac-prefix= as a filter
// rule, so it links neither the key nor the hash.
using MacDeriver = std::function<Result<Mac>(const MacPolicy& prefix, uid_t uid, std::string_view vm_name,
                                             std::string_view bridge)>;
// `derive`: needed only when the rule says mac-prefix=, and then its error,
// or its absence, is the refusal.
Result<Terms> terms_of(const Decision& d, const MacDeriver& derive, uid_t uid, std::string_view vm_name,
                       std::string_view bridge);

// The longest lease= may say, and userbridge lease --for= ask: a year.
inline constexpr std::uint32_t kMaxLeaseSeconds = 366U * 24 * 3600;

struct DurationUnit {
    char name;
    long long seconds;
};
inline constexpr DurationUnit kDurationUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

// "90s", "30m", "8h", "7d" to seconds: a whole number and s, m, h or d,
// 1 second to kMaxLeaseSeconds.
Result<std::uint32_t> parse_duration(std::string_view text);

// The most rate= may say: 100gbit. (The kernel refuses a byte limit whose
// rate times 10^9 overflows 64 bits: about 147 Gbit/s.)
inline constexpr std::uint64_t kMaxRateBits = 100ULL * 1000 * 1000 * 1000;

// "100mbit" to 100,000,000: a whole number and kbit, mbit or gbit (powers
// of 1000, as tc(8) counts), 1 kbit to 100 gbit.
Result<std::uint64_t> parse_rate(std::string_view text);
// Back, in the largest unit that divides it: "1500mbit".
std::string format_rate(std::uint64_t bits);

// The polkit action a rule with auth=polkit asks for (packaging/polkit).
inline constexpr const char* kPolkitAction = "org.userbridge.use-bridge";

// Whether `limits` ask for a traffic filter on the tap: mac= or mac-prefix=
// (the guest may send from that MAC only), servers=no, ip= or rate=. Such
// a filter is nftables elements per tap, which only userbridged adds and
// removes (daemon/filters.h). Every MAC the ACL sets is pinned: an
// unpinned one would be a promise nothing keeps.
bool needs_filter(const Limits& limits);

// " mac=... servers=no ip=... rate=...": what `limits` ask of the tap's
// traffic, as written, each word after a space; "" for a QEMU rule.
std::string traffic_words(const Limits& limits);

}  // namespace ub::policy
