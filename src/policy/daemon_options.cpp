// The values of the ACL options only userbridged acts on (acl.h,
// kDaemonOnly), and the rules between them: the half of the ACL grammar
// that userbridge-helper, which refuses every rule with one of these
// options, does not link. acl.cpp's parser calls in through
// daemon_options(); the errors here are a line's whole message after
// "FILE:LINE: ".
#include "policy/daemon_options.h"

#include <optional>

#include "base/names.h"
#include "base/number.h"
#include "policy/ip_prefix.h"

namespace ub::policy {

namespace {

bool is_unicast(std::uint8_t first) { return (first & 1) == 0; }

struct RateUnit {
    const char* name;
    std::uint64_t bits;
};
constexpr RateUnit kRateUnits[] = {{"gbit", 1000ULL * 1000 * 1000}, {"mbit", 1000ULL * 1000}, {"kbit", 1000}};

struct ModeName {
    const char* name;
    Mode mode;
};
constexpr ModeName kModes[] = {{"bridge", Mode::Bridge}, {"routed", Mode::Routed}, {"macvtap", Mode::Macvtap}};

// mode=: a name of kModes, through mode_name (Macvtap is last).
Result<Mode> parse_mode(std::string_view value) {
    for (int m = 0; m <= static_cast<int>(Mode::Macvtap); ++m)
        if (value == mode_name(static_cast<Mode>(m))) return static_cast<Mode>(m);
    return Error::msg("expected bridge, routed or macvtap");
}

Result<void> parse_mac_option(std::string_view key, std::string_view value, Limits& out) {
    bool prefix = key == "mac-prefix";
    int len = 0;
    Mac mac = UB_TRY(parse_mac(value, &len));
    if (prefix ? (len < 1 || len > 5) : len != 6)
        return Error::msg(prefix ? "a prefix has 1 to 5 bytes" : "a MAC has 6 bytes");
    if (!is_unicast(mac[0])) return Error::msg("a multicast address (first byte odd)");
    if (!prefix && mac == Mac{}) return Error::msg("the all-zero address");
    out.mac = {prefix ? MacPolicy::Prefix : MacPolicy::Fixed, mac, len};
    return Ok{};
}

// One option's value into `out`; the error says why it is not one.
Result<void> parse_value(std::string_view key, std::string_view value, Line& out) {
    Limits& l = out.limits;
    if (key == "mac" || key == "mac-prefix") return parse_mac_option(key, value, l);
    if (key == "max-taps") {
        std::optional<long long> n = parse_decimal(value, kMaxTapsCeiling);
        if (!n) return Error::msg("expected a whole number, 0 to " + std::to_string(kMaxTapsCeiling));
        l.max_taps = static_cast<int>(*n);
    } else if (key == "servers") {
        if (value != "yes" && value != "no") return Error::msg("expected yes or no");
        l.servers = value == "yes";
    } else if (key == "rate") {
        l.rate_bits = UB_TRY(parse_rate(value));
    } else if (key == "mode") {
        l.mode = UB_TRY(parse_mode(value));
    } else if (key == "lease") {
        l.lease_max = UB_TRY(parse_duration(value));
    } else if (key == "auth") {
        if (value != "polkit") return Error::msg("expected polkit");
        out.auth = Auth::Polkit;
    } else if (key == "ip") {
        l.ips = UB_TRY(parse_ip_list(value));
    } else {
        return Error::msg("not an option of userbridged");
    }
    return Ok{};
}

// acl.h's DaemonOptions::parse: "key=value: why" on a bad value.
Result<void> parse_option(std::string_view key, std::string_view value, Line& out) {
    if ((key == "mac" || key == "mac-prefix") && out.limits.mac.mode != MacPolicy::None)
        return Error::msg("a rule has one mac= or mac-prefix=, not more");
    Result<void> r = parse_value(key, value, out);
    if (r.ok()) return r;
    return Error::msg(std::string(key) + "=" + printable(value) + ": " + r.error().message());
}

// What a mode=routed rule must and must not say: the addresses routed to
// its tap are ip='s, one each (a prefix would have the host answer ARP for
// a whole range on the uplink); the rest is bridge-family filtering and
// bridge-port state, which a tap on no bridge has none of.
std::string routed_problem(const Limits& l) {
    if (l.ips.empty()) return "mode=routed needs ip= (the guest's addresses)";
    for (const IpPrefix& p : l.ips)
        if (p.len != p.bits() || is_link_local(p))
            return "mode=routed: ip= lists single addresses, not link-local, not prefixes (" +
                   format_ip_prefix(p) + ")";
    if (l.mac.mode != MacPolicy::None || !l.servers || l.rate_bits || l.isolated)
        return "mode=routed takes no mac=, mac-prefix=, servers=, rate= or isolated=: its tap is no bridge port";
    return "";
}

// acl.h's DaemonOptions::check.
std::string check_line(const Line& out) {
    const Limits& l = out.limits;
    // The filter that drops a guest's server messages is the MAC pin's.
    if (!l.servers && l.mac.mode == MacPolicy::None) return "servers=no needs mac= or mac-prefix= on the same rule";
    if (l.lease_max && l.mode != Mode::Bridge) return "lease= is for mode=bridge rules: a lease is a tap on a bridge";
    // Only a bridge is checked to be one (find_bridge): "all" with another
    // mode would let a user route to, or put a macvtap on, any interface of
    // the host, another user's veth end or a bridge among them.
    if (l.mode != Mode::Bridge && out.arg == "all")
        return "mode=" + std::string(mode_name(l.mode)) + " names its interface: not all";
    if (l.mode == Mode::Routed) return routed_problem(l);
    if (!l.ips.empty() && l.mac.mode == MacPolicy::None) return "ip= needs mac= or mac-prefix= on the same rule";
    // nftables' bridge family sees bridge ports only, and a macvtap is none.
    if (l.mode == Mode::Macvtap && (!l.servers || !l.ips.empty() || l.rate_bits || l.isolated))
        return "mode=macvtap takes no servers=, ip=, rate= or isolated=: a macvtap is no bridge port";
    return "";
}

}  // namespace

std::string_view mode_name(Mode mode) {
    for (const ModeName& m : kModes)
        if (m.mode == mode) return m.name;
    return "?";
}

Result<Terms> terms_of(const Decision& d, const MacDeriver& derive, uid_t uid, std::string_view vm_name,
                       std::string_view bridge) {
    Terms t{d.limits()};
    if (t.limits.mac.mode != MacPolicy::None) {
        t.has_mac = true;
        t.guest_mac = t.limits.mac.bytes;
        if (t.limits.mac.mode == MacPolicy::Prefix) {
            Result<Mac> mac = derive ? derive(t.limits.mac, uid, vm_name, bridge)
                                     : Error::msg("no MAC key to derive the guest MAC with");
            if (!mac.ok())
                return mac.error().context("mac-prefix= at " +
                                           (d.deciding ? where(*d.deciding) : std::string("?")));
            t.guest_mac = *mac;
        }
        t.no_servers = !t.limits.servers;
    }
    return t;
}

Decision polkit_granted(const Decision& d) {
    return {true, d.deciding, "allowed by " + where(*d.deciding) + " and polkit"};
}

const DaemonOptions& daemon_options() {
    static constexpr DaemonOptions options{parse_option, check_line};
    return options;
}

Result<std::uint64_t> parse_rate(std::string_view text) {
    for (const RateUnit& u : kRateUnits) {
        std::string_view unit = u.name;
        if (text.size() <= unit.size() || text.substr(text.size() - unit.size()) != unit) continue;
        std::string_view digits = text.substr(0, text.size() - unit.size());
        std::optional<long long> n = parse_decimal(digits, static_cast<long long>(kMaxRateBits / u.bits));
        if (!n || *n < 1 || digits[0] == '0') break;
        return static_cast<std::uint64_t>(*n) * u.bits;
    }
    return Error::msg("expected a whole number and kbit, mbit or gbit, 1kbit to 100gbit");
}

Result<std::uint32_t> parse_duration(std::string_view text) {
    for (const DurationUnit& u : kDurationUnits) {
        if (text.size() < 2 || text.back() != u.name) continue;
        std::string_view digits = text.substr(0, text.size() - 1);
        std::optional<long long> n = parse_decimal(digits, kMaxLeaseSeconds / u.seconds);
        if (!n || *n < 1 || digits[0] == '0') break;
        return static_cast<std::uint32_t>(*n * u.seconds);
    }
    return Error::msg("expected a whole number and s, m, h or d, 1s to 366d");
}

std::string format_rate(std::uint64_t bits) {
    for (const RateUnit& u : kRateUnits)
        if (bits % u.bits == 0) return std::to_string(bits / u.bits) + u.name;
    return std::to_string(bits) + "bit";
}

std::string traffic_words(const Limits& l) {
    std::string s;
    if (l.mac.mode == MacPolicy::Fixed) s += " mac=" + format_mac(l.mac.bytes);
    if (l.mac.mode == MacPolicy::Prefix) s += " mac-prefix=" + format_mac(l.mac.bytes, l.mac.prefix_len);
    if (!l.servers) s += " servers=no";
    if (!l.ips.empty()) s += " ip=" + format_ip_list(l.ips);
    if (l.rate_bits) s += " rate=" + format_rate(l.rate_bits);
    return s;
}

bool needs_filter(const Limits& l) {
    return l.mac.mode != MacPolicy::None || !l.servers || !l.ips.empty() || l.rate_bits != 0;
}

}  // namespace ub::policy
