#include "net/mac_pin.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "policy/daemon_options.h"
#include "net/nft_batch.h"

namespace ub::net {

// The few libnftables entry points we use, resolved at run time.
struct Nft::Api {
    decltype(&::nft_ctx_new) ctx_new;
    decltype(&::nft_ctx_free) ctx_free;
    decltype(&::nft_ctx_buffer_output) buffer_output;
    decltype(&::nft_ctx_buffer_error) buffer_error;
    decltype(&::nft_ctx_get_output_buffer) output;
    decltype(&::nft_ctx_get_error_buffer) error;
    decltype(&::nft_run_cmd_from_buffer) run;
};

namespace {

Result<const Nft::Api*> load_api() {
    static Nft::Api api;
    static bool loaded = false;
    if (loaded) return &api;
    // RTLD_NODELETE: never unloaded, so the function pointers stay valid.
    void* lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib)
        return Error::msg(std::string("MAC pinning and rate limits need libnftables (package libnftables1): ") +
                          dlerror());
    bool ok = true;
    auto sym = [&](auto& fn, const char* name) {
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
        ok = ok && fn;
    };
    sym(api.ctx_new, "nft_ctx_new");
    sym(api.ctx_free, "nft_ctx_free");
    sym(api.buffer_output, "nft_ctx_buffer_output");
    sym(api.buffer_error, "nft_ctx_buffer_error");
    sym(api.output, "nft_ctx_get_output_buffer");
    sym(api.error, "nft_ctx_get_error_buffer");
    sym(api.run, "nft_run_cmd_from_buffer");
    if (!ok) return Error::msg("libnftables.so.1 lacks a function we need");
    loaded = true;
    return &api;
}

// nft's error text is several lines (message, the command, a caret line);
// the first says what went wrong.
std::string first_line(const char* text) {
    std::string s = text ? text : "";
    s = s.substr(0, s.find('\n'));
    return s.empty() ? "unknown nftables error" : s;
}

}  // namespace

Result<Nft> Nft::open() {
    const Api* api = UB_TRY(load_api());
    nft_ctx* ctx = api->ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) return Error::msg("cannot create an nftables context");
    api->buffer_output(ctx);
    api->buffer_error(ctx);
    return Nft(api, ctx);
}

Nft::Nft(Nft&& o) noexcept
    : api_(o.api_),
      ctx_(std::exchange(o.ctx_, nullptr)) {}

Nft::~Nft() {
    if (ctx_) api_->ctx_free(ctx_);
}

Result<void> Nft::run(const std::string& commands) {
    int rc = api_->run(ctx_, commands.c_str());
    // Read (and so reset) the error buffer every time: a warning left from
    // one command must not be reported as the next one's error.
    std::string err = first_line(api_->error(ctx_));
    if (rc != 0) return Error::msg("nftables: " + err);
    return Ok{};
}

Result<std::string> Nft::list(const std::string& command) {
    UB_TRYV(run(command));
    const char* out = api_->output(ctx_);
    return std::string(out ? out : "");
}

std::vector<std::string> set_elements(std::string_view listing) {
    std::vector<std::string> out;
    std::size_t start = listing.find("elements = {");
    if (start == std::string_view::npos) return out;
    std::size_t end = listing.find('}', start);
    std::string_view body = listing.substr(start + 12, end == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : end - start - 12);
    while (!body.empty()) {
        std::size_t comma = body.find(',');
        std::string_view item = body.substr(0, comma);
        body = comma == std::string_view::npos ? "" : body.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t' || item.front() == '\n'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t' || item.back() == '\n'))
            item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
    }
    return out;
}

bool is_stale_element(std::string_view element) {
    std::string_view index = element.substr(0, element.find(' '));
    return !index.empty() && index.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string deletable_element(std::string_view set, std::string_view element) {
    std::string out(element);
    std::size_t dot = element.rfind(" . ");
    if (dot == std::string_view::npos) return out;
    std::string_view value = element.substr(dot + 3);
    bool bare = value.find('/') == std::string_view::npos && value.find('-') == std::string_view::npos;
    if (!bare) return out;
    if (set == "ip4_allowed") return out + "/32";
    if (set == "ip6_allowed") return out + "/128";
    if (set == "na_allowed") return out + "-" + std::string(value);
    return out;
}

std::string our_table(std::string_view listing) {
    constexpr std::string_view kHead = "table bridge userbridge {\n";
    std::string out;
    for (std::size_t at = 0; (at = listing.find(kHead, at)) != std::string_view::npos;) {
        if (at > 0 && listing[at - 1] != '\n') {  // not a line of its own
            at += kHead.size();
            continue;
        }
        std::size_t end = listing.find("\n}", at);
        if (end == std::string_view::npos) break;
        out.append(listing.substr(at, end + 3 - at));
        out += '\n';
        at = end + 3;
    }
    return out;
}

std::optional<std::string_view> table_section(std::string_view table, std::string_view kind,
                                              std::string_view name) {
    std::string head = "\t" + std::string(kind) + " " + std::string(name) + " {\n";
    std::size_t start = table.find(head);
    if (start == std::string_view::npos) return std::nullopt;
    std::size_t end = table.find("\n\t}", start + head.size() - 1);
    if (end == std::string_view::npos) return std::nullopt;
    return table.substr(start, end + 3 - start);
}

bool has_stale_element(std::string_view listing) {
    for (const std::string& e : set_elements(listing))
        if (is_stale_element(e)) return true;
    return false;
}

namespace {

// `create table` fails if the table exists, and the batch is one
// transaction: so two helpers racing never add the rules twice.
constexpr const char* kTable =
    "create table bridge userbridge\n"
    "add set bridge userbridge pinned { type iface_index; }\n"
    "add set bridge userbridge allowed { type iface_index . ether_addr; }\n"
    "add chain bridge userbridge prerouting"
    " { type filter hook prerouting priority -300; policy accept; }\n"
    "add rule bridge userbridge prerouting"
    " iif @pinned iif . ether saddr != @allowed counter drop\n"
    "add rule bridge userbridge prerouting"
    " iif @pinned iif . arp saddr ether != @allowed counter drop\n";

// A VLAN tag hides what it carries from the rules here: their matches on
// ARP and IPv6 imply the outer EtherType (`ether type arp`), a tagged
// frame's is the tag's, and the kernel finds no IP header behind a tag it
// leaves in the frame (0x9100, or a second one) for UDP's. Its receivers
// look inside all the same: Linux takes a frame with a VID 0 (priority)
// tag as untagged, even two such tags stacked, and a VLAN interface or a
// VLAN-aware guest reads any other. So a pinned tap (every tap whose
// content a rule checks; a tap with only rate= has nothing checked to
// hide) sends no tagged frame at all: 802.1Q, 802.1ad, or the TPIDs
// pre-standard QinQ used, whatever is stacked inside. A rule that let
// VLANs through would have to hold the inner headers to every check here.
// The kernel takes the outer 802.1Q or 802.1ad tag out of a frame as the
// tap delivers it (skb_vlan_untag), but nft puts it back for expressions
// on the Ethernet header (nft_payload_copy_vlan), so `ether type` sees the
// tag's TPID; tests/integration/vlan_spoof.sh shows it for each kind of
// tag. Inserted first in the chain, into an older release's table too; the
// set, made by `create set` in the same transaction, is the sign the rule
// is there.
constexpr const char* kVlanRules =
    "create set bridge userbridge vlan_types { type ether_type; }\n"
    "add element bridge userbridge vlan_types { 8021q, 8021ad, 0x9100, 0x9200, 0x9300 }\n"
    "insert rule bridge userbridge prerouting iif @pinned ether type @vlan_types counter drop\n";

// Neighbour discovery names MACs too: a solicitation or advertisement whose
// link-layer address option names another MAC poisons neighbour caches as
// a spoofed ARP sender does. Such an option must be the pinned MAC (`lla`:
// the option's length byte, 1, then the MAC, so a malformed length fails
// too). Options are not parsed, so a message is allowed at most one: an
// NS or NA is 24 bytes plus one 8-byte option (the link-layer address, or
// the nonce of enhanced DAD), an RS 8 plus one. `create set` makes this
// its own transaction, as for the table: tables made before it get it once.
constexpr const char* kNdRules =
    "create set bridge userbridge allowed_lla { typeof iif . @th,200,56; }\n"
    "add rule bridge userbridge prerouting iif @pinned"
    " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 length > 32 counter drop\n"
    "add rule bridge userbridge prerouting iif @pinned"
    " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,192,8 { 1, 2 }"
    " iif . @th,200,56 != @allowed_lla counter drop\n"
    "add rule bridge userbridge prerouting iif @pinned"
    " icmpv6 type nd-router-solicit ip6 length > 16 counter drop\n"
    "add rule bridge userbridge prerouting iif @pinned"
    " icmpv6 type nd-router-solicit @th,64,8 1 iif . @th,72,56 != @allowed_lla counter drop\n";

// A guest that is only a client of its segment (servers=no) sends no
// router advertisements or redirects, which would make it the router of
// every host that listens, and no DHCP or DHCPv6 server or relay messages
// (source ports 67 and 547), which would hand out its own addresses,
// gateway and DNS. A client's own DHCP messages come from 68 and 546.
// Made once, as the neighbour-discovery rules are.
constexpr const char* kServerRules =
    "create set bridge userbridge clients { type iface_index; }\n"
    "add rule bridge userbridge prerouting iif @clients"
    " icmpv6 type { nd-router-advert, nd-redirect } counter drop\n"
    "add rule bridge userbridge prerouting iif @clients udp sport { 67, 547 } counter drop\n";

// A DHCP client takes an offer or ack sent to its port 68 whatever port
// it came from (busybox udhcpc and ISC dhclient filter their raw sockets
// on the destination port alone), and a DHCPv6 client, bound to 546, a
// reply from any port: a server's message to a client's port is dropped
// too, whatever its source (review item 22-2). Added once to a table
// without it: the rule is its own sign.
constexpr const char* kClientPortRule =
    "add rule bridge userbridge prerouting iif @clients udp dport { 68, 546 } counter drop\n";
constexpr const char* kClientPortSign = "udp dport { 68, 546 }";

// A relay agent on the segment listens on the server ports and passes a
// server's message on to the client it names: a DHCPv6 relay takes a
// Relay-Reply (ISC dhcrelay from any interface and any port) and sends the
// Advertise or Reply inside to its peer-address; a DHCPv4 relay sends a
// BOOTREPLY to its chaddr. So a client's messages to 547 must be a
// client's (RFC 8415 7.3: Solicit 1, Request 3, Confirm 4, Renew 5,
// Rebind 6, Release 8, Decline 9, Information-request 11; the msg-type is
// the payload's first byte) and to 67 a BOOTREQUEST (op 1). An allow-list:
// a type defined later, or unassigned, may be one a relay acts on. A first
// fragment may end with the UDP header, its payload's first byte in a
// later fragment, which has no UDP header to match (nft_payload reads no
// transport header at a non-zero fragment offset, and reading past the
// end breaks the rule): a client's DHCP message is far below any MTU, so
// a fragmented one to these ports is dropped. (Nor may the kernel split
// one, or write a checksum into its payload, after these rules: the
// checksum guard drops UDP to these ports that asks for either,
// net/csum_guard.cpp, kPayloadRead.) Added once, as kClientPortRule.
constexpr const char* kRelayRules =
    "add rule bridge userbridge prerouting iif @clients"
    " udp dport 547 @th,64,8 != { 1, 3, 4, 5, 6, 8, 9, 11 } counter drop\n"
    "add rule bridge userbridge prerouting iif @clients udp dport 67 @th,64,8 != 1 counter drop\n"
    "add rule bridge userbridge prerouting iif @clients"
    " udp dport { 67, 547 } ip frag-off & 0x2000 != 0 counter drop\n"
    "add rule bridge userbridge prerouting iif @clients udp dport { 67, 547 } exthdr frag exists counter drop\n";
constexpr const char* kRelaySign = "udp dport 547 @th,64,8";

// A first IPv6 fragment may end before its UDP header does, or hold none
// (a destination options header alone), or end inside its chain of
// extension headers (one naming another that starts the next fragment):
// no port rule above can read a port, and the later fragments have none
// to read. RFC 7112 has a receiver drop such a first fragment; Linux does
// when the chain reaches UDP, but not when the chain cannot be walked,
// and takes the datagram whole (a seventh cold review had a DHCPv6 Reply
// so reach a client). Nor may the chain be walked as nftables walks it:
// past the payload length, in bytes a receiver cuts off, a fake end of it
// showed a harmless UDP header (an eighth review). So a client's first
// fragment (wherever its fragment header) goes to a chain of its own,
// which lets through only the shape every sender uses: the fragment
// header right after the IPv6 header (its next header 44), naming TCP,
// UDP, ESP or ICMPv6 (6, 17, 50, 58) directly, and a payload length of 16
// or more, so that the frame holds 8 bytes of that transport header within
// its payload, where the port rules above read them. Any other first
// fragment is dropped. Raw loads, whose listing names no protocol:
// nftables prints a protocol field through the protocols database, which
// the daemon's seccomp filter does not allow. Added once, its jump its sign.
constexpr const char* kFirstFragmentRules =
    "add chain bridge userbridge client_first_fragment\n"
    "add rule bridge userbridge client_first_fragment"
    " @nh,48,8 44 @nh,320,8 { 6, 17, 50, 58 } @nh,32,16 >= 16 return\n"
    "add rule bridge userbridge client_first_fragment counter drop\n"
    "add rule bridge userbridge prerouting iif @clients frag frag-off 0 jump client_first_fragment\n";
constexpr const char* kFirstFragmentSign = "jump client_first_fragment";

// Neighbour discovery is never fragmented (RFC 6980 has a receiver drop a
// fragmented message; not every receiver does). Split after its first 8
// or 24 bytes, an advertisement carried in a later fragment a target, or a
// link-layer address, that no rule above reads (review item 32-7). So a
// pinned guest's first fragment, too, must be of the usual shape, which
// shows the ICMPv6 header (client_first_fragment above), and one of a
// neighbour-discovery message is dropped; a later fragment alone is no
// message. Added once, after kFirstFragmentRules: its jump its sign.
constexpr const char* kPinnedFragmentRules =
    "add rule bridge userbridge prerouting iif @pinned frag frag-off 0 jump client_first_fragment\n"
    "add rule bridge userbridge prerouting iif @pinned exthdr frag exists icmpv6 type"
    " { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect }"
    " counter drop\n";
constexpr const char* kPinnedFragmentSign = "iif @pinned frag frag-off 0 jump client_first_fragment";

// nftables takes the transport header of an IP packet whose header it
// accepts, and no `udp` rule matches one whose header it does not: a
// version other than 4 or 6, an IPv4 header shorter than 20 bytes, a
// total length past the frame's end. The receiving kernel drops such a
// packet, but a DHCP client reading a raw socket (ISC dhclient) may take
// one (a ninth cold review had a servers=no guest's offer cross so). So a
// client's IPv6 packet must say version 6, and its IPv4 packet goes to a
// chain that drops it unless it says version 4 with a header of 20 bytes
// or more, and either is a later fragment (no transport header in it,
// and one that a DHCP client's raw filter drops) or shows nftables its
// transport header. Raw loads, as above. Added once, its jump its sign.
constexpr const char* kClientHeaderRules =
    "add chain bridge userbridge client_ip4\n"
    "add rule bridge userbridge client_ip4 @nh,0,4 != 4 counter drop\n"
    "add rule bridge userbridge client_ip4 @nh,4,4 < 5 counter drop\n"
    "add rule bridge userbridge client_ip4 @nh,51,13 != 0 return\n"
    "add rule bridge userbridge client_ip4 @th,0,8 >= 0 return\n"
    "add rule bridge userbridge client_ip4 counter drop\n"
    "add rule bridge userbridge prerouting iif @clients ether type ip jump client_ip4\n"
    "add rule bridge userbridge prerouting iif @clients ether type ip6 @nh,0,4 != 6 counter drop\n";
constexpr const char* kClientHeaderSign = "jump client_ip4";

// IPv4 has its router messages too: an ICMP redirect (type 5) from the
// gateway's address (a guest without ip= may send from any) has every
// host that takes redirects send that destination's traffic to the
// address the message names, and a router advertisement (type 9, RFC
// 1256) makes its sender a router of hosts that listen for them. Both as
// servers=no drops their IPv6 forms. A first fragment shows its ICMP
// type (client_ip4 above), and a later one is not a message a host acts
// on alone. Added once, the rule its own sign.
constexpr const char* kClientIcmpRule =
    "add rule bridge userbridge prerouting iif @clients icmp type { redirect, router-advertisement } counter drop\n";
constexpr const char* kClientIcmpSign = "icmp type { redirect, router-advertisement }";

// PPPoE's discovery stage has servers too: an access concentrator answers
// a client's PADI (0x09) with an offer (PADO, 0x07) and its PADR (0x19)
// with a session (PADS, 0x65), and a PPPoE client on the segment takes
// the first offer, making its sender the router of all its traffic. So a
// client's discovery messages (0x8863) must be a client's: PADI, PADR, or
// PADT (0xa7, which either end sends). The code is the byte after the
// version and type (RFC 2516); an allow-list, as for DHCP relays above.
// Added once, the rule its own sign.
constexpr const char* kClientPppoeRule =
    "add rule bridge userbridge prerouting iif @clients ether type 0x8863 @nh,8,8 != { 0x09, 0x19, 0xa7 } counter drop\n";
constexpr const char* kClientPppoeSign = "ether type 0x8863";

// A guest given ip= sends only from its listed addresses. Its own chain,
// jumped to last, so that its `return` (the packet passes) skips nothing
// of the rules above. IPv4: the source address, and an ARP sender's,
// must be listed; from 0.0.0.0 it may only ask DHCP for an address, or
// probe with ARP (RFC 5227). IPv6: the source must be listed, the
// unspecified :: (duplicate-address detection) or link-local (neighbour
// discovery needs one, and it reaches no further than the segment); a
// neighbour advertisement's target, the address it claims (the IPv6 form
// of a spoofed ARP reply), must be listed or link-local, and so must a
// duplicate-address check's (an NS from ::), which would otherwise make
// the host configuring that address give it up. ip6_allowed and
// na_allowed hold the same IPv6 prefixes; nft cannot compare the target, a
// raw field, with a set of addresses. Frames of any other EtherType are
// dropped, VLAN-tagged ones and 802.3 (LLC) frames among them: what they
// carry is not looked at, so they would pass unchecked (a tag hides an IP
// packet from the rules below; PPPoE and MPLS carry IP packets of their
// own), as libvirt's clean-traffic filter does.
//
// A listed address is in one set of each kind: a single address (/32,
// /128) in a hash set (ip4_single, ip6_single, na_single), an IPv6 /64
// (the size of an IPv6 subnet) as its first address in a hash set looked
// up with the source masked to 64 bits (ip6_p64, na_p64), any other
// prefix in an interval set (ip4_allowed, ip6_allowed, na_allowed); a
// source passes when one holds it, each a constant-time lookup, the hash
// sets' first. Why not intervals for all: the kernel stores a
// concatenation with intervals as a pipapo set, and every change to one
// clones and resizes its lookup tables (pipapo_clone, zeroed pages,
// dearest for an IPv6 key); a hash set's insertion and deletion touch one
// bucket.
constexpr const char* kIpSets =
    "create set bridge userbridge ip_guarded { type iface_index; }\n"
    "add set bridge userbridge ip4_allowed { typeof iif . ip saddr; flags interval; }\n"
    "add set bridge userbridge ip6_allowed { typeof iif . ip6 saddr; flags interval; }\n"
    "add set bridge userbridge na_allowed { typeof iif . @th,64,128; flags interval; }\n"
    "add chain bridge userbridge ip_guard\n";

// The single-address sets; `create`, so that two daemons upgrading one
// table never both flush and refill ip_guard.
constexpr const char* kSingleSets =
    "create set bridge userbridge ip4_single { typeof iif . ip saddr; }\n"
    "add set bridge userbridge ip6_single { typeof iif . ip6 saddr; }\n"
    "add set bridge userbridge na_single { typeof iif . @th,64,128; }\n"
    "add set bridge userbridge ll_guarded { type iface_index; }\n";

// The /64 sets.
constexpr const char* kP64Sets =
    "add set bridge userbridge ip6_p64 { typeof iif . ip6 saddr; }\n"
    "add set bridge userbridge na_p64 { typeof iif . @th,64,128; }\n";

// ip_guard's rules. A guest whose ip= lists a link-local address
// (ll_guarded) is held to its listed link-local addresses as to the
// others: as a source, as an NA's target and as a duplicate-address
// check's (the rules before those let any link-local through, since most
// guests choose their own). Otherwise it could answer for the router's
// link-local address, which hosts use as their IPv6 gateway.
std::string ip_guard_rules() {
    // Not among the listed IPv6 sources: not a single address, not in a
    // listed /64, not in a listed prefix of another length; and the same
    // for an NA's or NS's target (a raw field: its /64 by a mask of bits).
    const std::string ip6_unlisted =
        " iif . ip6 saddr != @ip6_single iif . ip6 saddr & ffff:ffff:ffff:ffff:: != @ip6_p64"
        " iif . ip6 saddr != @ip6_allowed counter drop\n";
    const std::string target_unlisted =
        " iif . @th,64,128 != @na_single iif . @th,64,128 & 0xffffffffffffffff0000000000000000 != @na_p64"
        " iif . @th,64,128 != @na_allowed counter drop\n";
    const std::string rule = "add rule bridge userbridge ip_guard";
    return rule + " ether type != { ip, arp, ip6 } counter drop\n" +
           rule + " ip saddr 0.0.0.0 udp sport 68 udp dport 67 return\n" +
           rule + " iif . ip saddr != @ip4_single iif . ip saddr != @ip4_allowed counter drop\n" +
           rule + " arp saddr ip != 0.0.0.0 iif . arp saddr ip != @ip4_single iif . arp saddr ip != @ip4_allowed"
                  " counter drop\n" +
           rule + " ip6 saddr != { ::, fe80::/10 }" + ip6_unlisted +
           rule + " icmpv6 type nd-neighbor-advert @th,64,10 != 0x3fa" + target_unlisted +
           rule + " icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 != 0x3fa" + target_unlisted +
           rule + " iif @ll_guarded ip6 saddr fe80::/10" + ip6_unlisted +
           rule + " iif @ll_guarded icmpv6 type nd-neighbor-advert @th,64,10 0x3fa" + target_unlisted +
           rule + " iif @ll_guarded icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 0x3fa" + target_unlisted;
}

constexpr const char* kIpJump = "add rule bridge userbridge prerouting iif @ip_guarded jump ip_guard\n";

// The ip= filter whole, for a table that has none.
std::string ip_rules() { return std::string(kIpSets) + kSingleSets + kP64Sets + ip_guard_rules() + kIpJump; }

// ip_guard's rules replaced, after the sets an upgrade adds, in the same
// transaction: no frame ever meets a chain without them.
std::string refill_ip_guard() { return "flush chain bridge userbridge ip_guard\n" + ip_guard_rules(); }

// What a table made before the single-address sets lacks (with or without
// ll_guarded).
std::string single_upgrade() { return std::string(kSingleSets) + kP64Sets + refill_ip_guard(); }

// What a table made before the /64 sets lacks (its `create` makes the
// transaction fail whole for a second daemon).
std::string p64_upgrade() {
    return std::string("create set bridge userbridge ip6_p64 { typeof iif . ip6 saddr; }\n") + kP64Sets +
           refill_ip_guard();
}

// rate=: what a tap sends (its guest's upload) and what leaves the bridge
// through it (the guest's download) is policed to the rule's rate, each
// through a limit object of its own, named by the tap's ifindex (never
// reused, as the set elements) and found by a map. Over the rate, frames
// are dropped: TCP backs off to it, as from any full link.
constexpr const char* kRateRules =
    "create set bridge userbridge limited { type iface_index; }\n"
    "add map bridge userbridge rate_out { type iface_index : limit; }\n"
    "add map bridge userbridge rate_in { type iface_index : limit; }\n"
    "add rule bridge userbridge prerouting iif @limited limit name iif map @rate_out counter drop\n"
    "add chain bridge userbridge postrouting"
    " { type filter hook postrouting priority -300; policy accept; }\n"
    "add rule bridge userbridge postrouting oif @limited limit name oif map @rate_in counter drop\n";

// rate=: the limit objects that hold the tap with ifindex `ifindex` to
// `bits` per second each way, "rate<ifindex>_out" and "_in". nft's byte
// limits keep a bucket of one second's worth (and add any burst to it): a
// guest may send a second's worth at once, then no faster than the rate.
std::string limit_name(int ifindex, const char* way) {
    return "rate" + std::to_string(ifindex) + "_" + way;
}

// The deletions that collect dead taps' elements, each a unit to run alone
// should the batch of them fail.
using Deletions = std::vector<std::string>;

// Deletes the map elements of dead taps from rate_out or rate_in, each
// with the limit object it names.
void collect_stale_limits(Deletions& out, const char* map, std::string_view text) {
    for (const std::string& e : set_elements(text)) {
        if (!is_stale_element(e)) continue;
        std::size_t colon = e.find(" : ");
        if (colon == std::string::npos) continue;
        std::string object = e.substr(colon + 3);
        if (object.size() > 2 && object.front() == '"' && object.back() == '"')
            object = object.substr(1, object.size() - 2);
        // Only names of our own form go back to nft: rate<digits>_in or _out.
        std::size_t digits_end = object.find_first_not_of("0123456789", 4);
        bool ours = object.rfind("rate", 0) == 0 && digits_end != std::string::npos && digits_end > 4 &&
                    (object.substr(digits_end) == "_in" || object.substr(digits_end) == "_out");
        if (!ours) continue;
        out.push_back(std::string("delete element bridge userbridge ") + map + " { " + e.substr(0, colon) +
                      " }\ndelete limit bridge userbridge " + object + "\n");
    }
}

using Bytes = std::vector<std::uint8_t>;

// The tap's ifindex as the first component of a key: as meta iif loads it,
// in host order; in an interval set, in network order.
enum class Order { host, network };
Bytes index_key(int ifindex, Order order) {
    auto v = static_cast<std::uint32_t>(ifindex);
    if (order == Order::network) v = htonl(v);
    Bytes out(4);
    std::memcpy(out.data(), &v, 4);
    return out;
}

// `key` with `bytes` appended as its next component, zero-padded to a
// multiple of four bytes.
Bytes with(Bytes key, const std::uint8_t* bytes, std::size_t n) {
    key.insert(key.end(), bytes, bytes + n);
    key.resize((key.size() + 3) / 4 * 4, 0);
    return key;
}

// A listed address or prefix's element: a single address in ip4_single or
// ip6_single, and an IPv6 /64's first address in ip6_p64, keyed as a hash
// set is; another prefix, its range (key to key_end) in ip4_allowed or
// ip6_allowed.
SetElement ip_element(int ifindex, const policy::IpPrefix& p) {
    std::size_t n = p.v6 ? 16 : 4;
    if (p.len == p.bits())
        return {p.v6 ? "ip6_single" : "ip4_single", with(index_key(ifindex, Order::host), p.addr.data(), n), {}, ""};
    if (p.v6 && p.len == 64) return {"ip6_p64", with(index_key(ifindex, Order::host), p.addr.data(), n), {}, ""};
    Bytes index = index_key(ifindex, Order::network);
    std::array<std::uint8_t, 16> last = policy::last_address(p);
    return {p.v6 ? "ip6_allowed" : "ip4_allowed", with(index, p.addr.data(), n), with(index, last.data(), n), ""};
}

// The elements that give a tap the source addresses `ips`; an IPv6 one's
// in na_single, na_p64 or na_allowed too.
void add_ip_elements(std::vector<SetElement>& out, int ifindex, const std::vector<policy::IpPrefix>& ips) {
    for (const policy::IpPrefix& p : ips) {
        SetElement e = ip_element(ifindex, p);
        out.push_back(e);
        if (!p.v6) continue;
        e.set = e.set == "ip6_single" ? "na_single" : e.set == "ip6_p64" ? "na_p64" : "na_allowed";
        out.push_back(std::move(e));
    }
    Bytes plain = index_key(ifindex, Order::host);
    if (std::any_of(ips.begin(), ips.end(), policy::is_link_local)) out.push_back({"ll_guarded", plain, {}, ""});
    out.push_back({"ip_guarded", plain, {}, ""});
}

// allowed_lla's key: the tap, then the option's length byte (1: eight
// bytes) and the MAC, a 56-bit value.
Bytes lla_key(int ifindex, const Mac& mac) {
    std::uint8_t option[7] = {1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]};
    return with(index_key(ifindex, Order::host), option, sizeof option);
}

// Makes what `list` says is missing with `commands`; a helper racing us may
// make it first, and then our transaction fails whole.
Result<void> make_once(Nft& nft, const char* list, const char* commands) {
    Result<void> made = nft.run(commands);
    if (!made.ok() && !nft.list(list).ok()) return made.error();
    return Ok{};
}

// Deletes the elements of dead taps from `set`, whose listing is `text`.
void collect_stale(Deletions& out, const char* set, std::string_view text) {
    for (const std::string& e : set_elements(text))
        if (is_stale_element(e))
            out.push_back(std::string("delete element bridge userbridge ") + set + " { " +
                          deletable_element(set, e) + " }\n");
}

// Runs the deletions as one transaction: each nft command costs a round
// trip and a fetch of the ruleset. Another daemon may be collecting the
// same elements, which fails the transaction whole: then each deletion
// alone, so that one that cannot go keeps none of the rest. Failed
// deletions are never errors.
void run_deletions(Nft& nft, const Deletions& deletions) {
    if (deletions.empty()) return;
    std::string batch;
    for (const std::string& d : deletions) batch += d;
    if (nft.run(batch).ok()) return;
    for (const std::string& d : deletions) (void)nft.run(d);
}

// Our table's sets and maps alone: listing the whole table would also fetch
// and print every rule, which nft then parses for nothing.
Result<std::string> list_table(Nft& nft) {
    return our_table(UB_TRY(nft.list("list sets bridge\nlist maps bridge")));
}

// The deletions of dead taps' elements in `table`, our table's listing.
// A tap's address elements go in one transaction with its ip_guarded one,
// and its limits with its limited one: a stale element of those is the
// sign there is more to do.
Deletions stale_in(std::string_view table) {
    auto find = [&](const char* kind, const char* name) { return table_section(table, kind, name); };
    Deletions stale;
    for (const char* set : {"pinned", "allowed", "allowed_lla", "clients"})
        if (auto text = find("set", set)) collect_stale(stale, set, *text);
    if (auto guarded = find("set", "ip_guarded"); guarded && has_stale_element(*guarded)) {
        for (const char* set :
             {"ll_guarded", "ip4_single", "ip6_single", "na_single", "ip6_p64", "na_p64", "ip4_allowed", "ip6_allowed",
              "na_allowed"})
            if (auto text = find("set", set)) collect_stale(stale, set, *text);
        collect_stale(stale, "ip_guarded", *guarded);
    }
    if (auto limited = find("set", "limited"); limited && has_stale_element(*limited)) {
        for (const char* map : {"rate_out", "rate_in"})
            if (auto text = find("map", map)) collect_stale_limits(stale, map, *text);
        collect_stale(stale, "limited", *limited);
    }
    return stale;
}

// Adds what an older release's table (`table`, its listing) lacks, each
// part once.
Result<void> add_missing(Nft& nft, std::string_view table) {
    auto has = [&](const char* name) { return table_section(table, "set", name).has_value(); };
    if (!has("pinned")) return Error::msg("nftables: table bridge userbridge has no set pinned");
    if (!has("vlan_types")) UB_TRYV(make_once(nft, "list set bridge userbridge vlan_types", kVlanRules));
    if (!has("allowed_lla")) UB_TRYV(make_once(nft, "list set bridge userbridge allowed_lla", kNdRules));
    if (!has("clients")) UB_TRYV(make_once(nft, "list set bridge userbridge clients", kServerRules));
    if (!has("ip_guarded")) UB_TRYV(make_once(nft, "list set bridge userbridge ip_guarded", ip_rules().c_str()));
    else if (!has("ip4_single"))
        UB_TRYV(make_once(nft, "list set bridge userbridge ip4_single", single_upgrade().c_str()));
    else if (!has("ip6_p64"))
        UB_TRYV(make_once(nft, "list set bridge userbridge ip6_p64", p64_upgrade().c_str()));
    if (!has("limited")) UB_TRYV(make_once(nft, "list set bridge userbridge limited", kRateRules));
    // A listing of sets shows no rule: this one is looked for in the chain.
    std::string chain = UB_TRY(nft.list("list chain bridge userbridge prerouting"));
    if (chain.find(kClientPortSign) == std::string::npos) UB_TRYV(nft.run(kClientPortRule));
    if (chain.find(kRelaySign) == std::string::npos) UB_TRYV(nft.run(kRelayRules));
    if (chain.find(kFirstFragmentSign) == std::string::npos) UB_TRYV(nft.run(kFirstFragmentRules));
    if (chain.find(kPinnedFragmentSign) == std::string::npos) UB_TRYV(nft.run(kPinnedFragmentRules));
    if (chain.find(kClientHeaderSign) == std::string::npos) UB_TRYV(nft.run(kClientHeaderRules));
    if (chain.find(kClientIcmpSign) == std::string::npos) UB_TRYV(nft.run(kClientIcmpRule));
    if (chain.find(kClientPppoeSign) == std::string::npos) UB_TRYV(nft.run(kClientPppoeRule));
    return Ok{};
}

// Makes the table when it is not there (the first guarded tap on this host,
// in this namespace), and what an older release's table lacks, once; then
// says which dead taps' elements to delete.
Result<Deletions> check_table(Nft& nft) {
    Result<std::string> table = list_table(nft);
    if (!table.ok() || table->empty()) {
        UB_TRYV(make_once(nft, "list set bridge userbridge pinned",
                          (std::string(kTable) + kVlanRules + kNdRules + kServerRules + kClientPortRule +
                           kRelayRules + kFirstFragmentRules + kPinnedFragmentRules + kClientHeaderRules +
                           kClientIcmpRule +
                           kClientPppoeRule + ip_rules() + kRateRules)
                              .c_str()));
        return Deletions{};
    }
    UB_TRYV(add_missing(nft, *table));
    return stale_in(*table);
}

}  // namespace

std::optional<Guard> guard_for(const policy::Terms& terms) {
    if (!policy::needs_filter(terms.limits)) return std::nullopt;
    Guard g;
    if (terms.has_mac) {
        g.mac = terms.guest_mac;
        g.no_servers = terms.no_servers;
        g.ips = terms.limits.ips;
    }
    g.rate_bits = terms.limits.rate_bits;
    return g;
}

TapElements tap_elements(int ifindex, const Guard& guard) {
    TapElements t;
    Bytes index = index_key(ifindex, Order::host);
    if (guard.mac) {
        t.elements.push_back({"allowed", with(index, guard.mac->data(), guard.mac->size()), {}, ""});
        t.elements.push_back({"allowed_lla", lla_key(ifindex, *guard.mac), {}, ""});
        if (guard.no_servers) t.elements.push_back({"clients", index, {}, ""});
        if (!guard.ips.empty()) add_ip_elements(t.elements, ifindex, guard.ips);
        t.elements.push_back({"pinned", index, {}, ""});
    }
    if (guard.rate_bits) {
        for (const char* way : {"out", "in"}) {
            t.limits.push_back({limit_name(ifindex, way), guard.rate_bits / 8});
            t.elements.push_back({std::string("rate_") + way, index, {}, limit_name(ifindex, way)});
        }
        t.elements.push_back({"limited", index, {}, ""});
    }
    return t;
}

Result<void> guard_tap(Nft& nft, NftBatch& batch, const TapElements& tap) {
    if (tap.empty()) return Ok{};
    // The table is there but for the first guarded tap (in this network
    // namespace) and after an administrator flushed the ruleset: look at it
    // only when adding fails. A failed batch added nothing.
    if (batch.add(tap).ok()) return Ok{};
    run_deletions(nft, UB_TRY(check_table(nft)));
    return batch.add(tap);
}

Result<void> update_table(Nft& nft) {
    std::string table = UB_TRY(list_table(nft));
    if (table.empty()) return Ok{};
    return add_missing(nft, table);
}

Result<bool> collect_dead(Nft& nft) {
    std::string table = UB_TRY(list_table(nft));
    run_deletions(nft, stale_in(table));
    // Every guarded tap is in pinned or limited.
    for (const char* set : {"pinned", "limited"})
        if (auto text = table_section(table, "set", set))
            for (const std::string& e : set_elements(*text))
                if (!is_stale_element(e)) return true;
    return false;
}

}  // namespace ub::net
