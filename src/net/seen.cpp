#include "net/seen.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cctype>
#include <optional>

namespace ub::net {

namespace {

// One rule per kind of claim, each spending the tap's budget first: the
// kernel's dynset adds an element only while the tap's limit is not over
// (a limit in a set statement ends the rule when it is), so that no tap
// adds more than a second's one element, after a burst. Priority -200:
// after table bridge userbridge's guard (-300), which drops what a pinned
// tap may not send, so no spoofed frame is learned from.
constexpr const char* kBudget = " update @budget { iif limit rate 1/second burst 16 packets }";
const std::string kTable = std::string(
    "add table bridge userbridge_seen\n"
    "add set bridge userbridge_seen budget { type iface_index; size 65536; flags dynamic,timeout; timeout 1m; }\n"
    "add set bridge userbridge_seen seen4"
    " { type iface_index . ether_addr . ipv4_addr; size 65536; flags dynamic,timeout; timeout 5m; }\n"
    "add set bridge userbridge_seen seen6"
    " { type iface_index . ether_addr . ipv6_addr; size 65536; flags dynamic,timeout; timeout 5m; }\n"
    "add set bridge userbridge_seen nd6"
    " { typeof iif . ether saddr . @th,64,128; size 65536; flags dynamic,timeout; timeout 5m; }\n"
    "add chain bridge userbridge_seen learn { type filter hook prerouting priority -200; policy accept; }\n"
    "add rule bridge userbridge_seen learn meta iifkind != \"tun\" return\n"
    // ARP requests and replies, announcements: the sender's address. A probe
    // (sender 0.0.0.0) claims nothing yet.
    "add rule bridge userbridge_seen learn arp saddr ip != 0.0.0.0") + kBudget +
    " update @seen4 { iif . ether saddr . arp saddr ip }\n"
    // A DHCP client renewing, or any IPv4 it sends to a server port 67.
    "add rule bridge userbridge_seen learn ip saddr != 0.0.0.0 udp dport 67" + kBudget +
    " update @seen4 { iif . ether saddr . ip saddr }\n"
    // ICMPv6 from the guest: neighbour and router discovery, MLD, echo.
    "add rule bridge userbridge_seen learn ip6 saddr != :: meta l4proto icmpv6" + kBudget +
    " update @seen6 { iif . ether saddr . ip6 saddr }\n"
    // The target of an NS (a duplicate address check, from ::) or an NA:
    // the address the guest is taking or says it has.
    "add rule bridge userbridge_seen learn icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert }" + kBudget +
    " update @nd6 { iif . ether saddr . @th,64,128 }\n";

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// nft's durations: "4m59s980ms", "1h", "30s".
unsigned parse_duration_s(std::string_view d) {
    unsigned long total_ms = 0, n = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        char c = d[i];
        if (std::isdigit(static_cast<unsigned char>(c))) {
            n = n * 10 + static_cast<unsigned>(c - '0');
            continue;
        }
        if (c == 'm' && i + 1 < d.size() && d[i + 1] == 's') {
            total_ms += n;
            ++i;
        } else if (c == 'd') total_ms += n * 86400000;
        else if (c == 'h') total_ms += n * 3600000;
        else if (c == 'm') total_ms += n * 60000;
        else if (c == 's') total_ms += n * 1000;
        else return 0;
        n = 0;
    }
    return static_cast<unsigned>(total_ms / 1000);
}

// "0x20010db8...": right-aligned into 16 bytes.
bool parse_hex128(std::string_view h, std::array<std::uint8_t, 16>& out) {
    if (h.rfind("0x", 0) != 0 || h.size() < 3 || h.size() > 34) return false;
    h.remove_prefix(2);
    out = {};
    int nibble = 0;
    for (std::size_t i = h.size(); i-- > 0; ++nibble) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(h[i])));
        int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) return false;
        out[15 - nibble / 2] |= static_cast<std::uint8_t>(nibble % 2 ? v << 4 : v);
    }
    return true;
}

// `"tap3" . 52:54:00:12:34:56 . 10.0.0.5 expires 4m59s`; nothing for a dead
// tap (a bare ifindex) or what does not parse.
std::optional<Seen> parse_element(std::string_view e, bool v6, bool hex) {
    std::size_t d1 = e.find(" . ");
    std::size_t d2 = d1 == std::string_view::npos ? d1 : e.find(" . ", d1 + 3);
    if (d2 == std::string_view::npos) return std::nullopt;
    std::string_view port = e.substr(0, d1);
    if (port.size() < 3 || port.front() != '"' || port.back() != '"') return std::nullopt;
    Seen s;
    s.port = std::string(port.substr(1, port.size() - 2));
    Result<Mac> mac = parse_mac(e.substr(d1 + 3, d2 - d1 - 3), nullptr);
    if (!mac.ok()) return std::nullopt;
    s.mac = *mac;
    std::string_view rest = e.substr(d2 + 3);
    std::string_view addr = rest.substr(0, rest.find(' '));
    if (std::size_t at = rest.find(" expires "); at != std::string_view::npos) {
        std::string_view d = trim(rest.substr(at + 9));
        s.expires_s = parse_duration_s(d.substr(0, d.find(' ')));
    }
    s.v6 = v6;
    if (hex) {
        if (!parse_hex128(addr, s.addr)) return std::nullopt;
    } else if (inet_pton(v6 ? AF_INET6 : AF_INET, std::string(addr).c_str(), s.addr.data()) != 1) {
        return std::nullopt;
    }
    return s;
}

}  // namespace

// The chain's rules are all added with it, in one transaction: a chain
// that exists has them. Without it (never made, or deleted by hand), what
// is left of the table is made whole again: `add` of a table or set that
// exists as described is a no-op.
Result<void> start_learning(Nft& nft) {
    if (nft.list("list chain bridge userbridge_seen learn").ok()) return Ok{};
    return nft.run(kTable);
}

std::vector<Seen> parse_seen(std::string_view listing) {
    std::vector<Seen> out;
    struct Set {
        const char* name;
        bool v6, hex;
    };
    for (Set set : {Set{"seen4", false, false}, Set{"seen6", true, false}, Set{"nd6", true, true}}) {
        std::optional<std::string_view> text = table_section(listing, "set", set.name);
        if (!text) continue;
        for (const std::string& e : set_elements(*text))
            if (std::optional<Seen> s = parse_element(e, set.v6, set.hex)) out.push_back(std::move(*s));
    }
    return out;
}

Result<std::vector<Seen>> list_seen(Nft& nft) {
    std::string text;
    for (const char* set : {"seen4", "seen6", "nd6"})
        text += UB_TRY(nft.list(std::string("list set bridge userbridge_seen ") + set));
    return parse_seen(text);
}

}  // namespace ub::net
