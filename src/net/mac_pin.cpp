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

// The table is made, and an older release's table brought up to date, by
// one transaction of the text below (layout()): the sets and maps, each
// `add`ed, so that an older table keeps its sets and their elements and
// gains those it lacks; then every chain emptied and filled again, so that
// it has today's rules whole and only them.
//
// How a frame goes through the chains. prerouting asks two questions of
// every frame on the host's bridges (is its port pinned? policed?), and
// sends a pinned port's frames to `pinned`, which checks the Ethernet
// header and then goes on, by EtherType, to the rules of that protocol
// alone (pinned_ip4, pinned_ip6, pinned_arp), which send the frame on to
// the rules of the port's terms (client_*, ip4_guard, ip6_guard). So an
// unpinned port's frame meets two hash lookups, and a pinned one's only
// the rules that can bear on it: a flat chain, each rule asking `iif @set`
// first, made every frame on the host meet every rule's lookup
// (docs/PERFORMANCE.md has what the layout saved). Every rule but the
// jumps drops, so their order decides nothing but which counter counts a
// frame; a `return` ends only its own chain.
constexpr const char* kSets =
    "add set bridge userbridge pinned { type iface_index; }\n"       // taps with a pinned MAC
    "add set bridge userbridge allowed { type iface_index . ether_addr; }\n"
    "add set bridge userbridge vlan_types { type ether_type; }\n"
    "add element bridge userbridge vlan_types { 8021q, 8021ad, 0x9100, 0x9200, 0x9300 }\n"
    "add set bridge userbridge allowed_lla { typeof iif . @th,200,56; }\n"
    "add set bridge userbridge clients { type iface_index; }\n"      // pinned, servers=no
    "add set bridge userbridge ip_guarded { type iface_index; }\n"   // pinned, ip=
    "add set bridge userbridge ll_guarded { type iface_index; }\n"
    "add set bridge userbridge ip4_single { typeof iif . ip saddr; }\n"
    "add set bridge userbridge ip6_single { typeof iif . ip6 saddr; }\n"
    "add set bridge userbridge na_single { typeof iif . @th,64,128; }\n"
    "add set bridge userbridge ip6_p64 { typeof iif . ip6 saddr; }\n"
    "add set bridge userbridge na_p64 { typeof iif . @th,64,128; }\n"
    "add set bridge userbridge ip4_allowed { typeof iif . ip saddr; flags interval; }\n"
    "add set bridge userbridge ip6_allowed { typeof iif . ip6 saddr; flags interval; }\n"
    "add set bridge userbridge na_allowed { typeof iif . @th,64,128; flags interval; }\n"
    "add set bridge userbridge limited { type iface_index; }\n"      // taps with rate=
    "add map bridge userbridge rate_out { type iface_index : limit; }\n"
    "add map bridge userbridge rate_in { type iface_index : limit; }\n";

// The chains. Each transaction empties and refills them all, so that two
// daemons bringing one table up to date at once leave it as either would.
// ip_guard, which prerouting jumped to before, goes.
constexpr const char* kChains =
    "add chain bridge userbridge prerouting { type filter hook prerouting priority -300; policy accept; }\n"
    "add chain bridge userbridge postrouting { type filter hook postrouting priority -300; policy accept; }\n";
constexpr const char* kRefilled[] = {"pinned",     "pinned_arp", "pinned_ip4", "pinned_ip6",           "client_ip4",
                                     "client_ip6", "client_first_fragment",   "ip4_guard",  "ip6_guard"};
constexpr const char* kGone = "ip_guard";

// One rule of our table's chain `chain`.
std::string rule(std::string_view chain, std::string_view text) {
    return "add rule bridge userbridge " + std::string(chain) + " " + std::string(text) + "\n";
}

// What every frame meets, and what a pinned port's meet first. rate=: what
// a tap sends (its guest's upload) and what leaves the bridge through it
// (its download) is policed to the rule's rate, each through a limit
// object of its own, named by the tap's ifindex (never reused, as the set
// elements) and found by a map; over the rate, frames are dropped, and TCP
// backs off to it, as from any full link.
//
// A VLAN tag hides what it carries from the rules after it: their matches
// on ARP and IPv6 imply the outer EtherType (`ether type arp`), a tagged
// frame's is the tag's, and the kernel finds no IP header behind a tag it
// leaves in the frame (0x9100, or a second one) for UDP's. Its receivers
// look inside all the same: Linux takes a frame with a VID 0 (priority)
// tag as untagged, even two such tags stacked, and a VLAN interface or a
// VLAN-aware guest reads any other. So a pinned tap (every tap whose
// content a rule checks; a tap with only rate= has nothing checked to
// hide) sends no tagged frame at all: 802.1Q, 802.1ad, or the TPIDs
// pre-standard QinQ used, whatever is stacked inside. The kernel takes the
// outer 802.1Q or 802.1ad tag out of a frame as the tap delivers it
// (skb_vlan_untag), but nft puts it back for expressions on the Ethernet
// header (nft_payload_copy_vlan), so `ether type` sees the tag's TPID;
// tests/integration/vlan_spoof.sh shows it for each kind of tag. After
// this rule, then, `ether type` is the protocol nftables parses the frame
// as, and the frame can go on by it.
//
// A guest given ip= sends nothing but IPv4, ARP and IPv6: frames of any
// other EtherType are dropped, VLAN-tagged ones and 802.3 (LLC) frames
// among them, since what they carry is not looked at (PPPoE and MPLS
// carry IP packets of their own), as libvirt's clean-traffic filter does.
//
// PPPoE's discovery stage has servers too: an access concentrator answers
// a client's PADI (0x09) with an offer (PADO, 0x07) and its PADR (0x19)
// with a session (PADS, 0x65), and a PPPoE client on the segment takes
// the first offer, making its sender the router of all its traffic. So a
// servers=no guest's discovery messages (0x8863) must be a client's: PADI,
// PADR, or PADT (0xa7, which either end sends). The code is the byte
// after the version and type (RFC 2516); an allow-list, as for DHCP relays
// below.
std::string port_rules() {
    return rule("prerouting", "iif @pinned jump pinned") +
           rule("prerouting", "iif @limited limit name iif map @rate_out counter drop") +
           rule("postrouting", "oif @limited limit name oif map @rate_in counter drop") +
           rule("pinned", "ether type @vlan_types counter drop") +
           rule("pinned", "iif . ether saddr != @allowed counter drop") +
           rule("pinned", "ether type vmap { ip : goto pinned_ip4, ip6 : goto pinned_ip6, arp : goto pinned_arp }") +
           rule("pinned", "iif @clients ether type 0x8863 @nh,8,8 != { 0x09, 0x19, 0xa7 } counter drop") +
           rule("pinned", "iif @ip_guarded counter drop");
}

// ARP: the sender's MAC must be the pinned one; under ip=, its address a
// listed one, or 0.0.0.0, an address probe (RFC 5227).
std::string arp_rules() {
    return rule("pinned_arp", "iif . arp saddr ether != @allowed counter drop") +
           rule("pinned_arp", "iif @ip_guarded arp saddr ip != 0.0.0.0 iif . arp saddr ip != @ip4_single"
                              " iif . arp saddr ip != @ip4_allowed counter drop");
}

// A guest that is only a client of its segment (servers=no) sends no DHCP
// or DHCPv6 server or relay messages (source ports 67 and 547), which would
// hand out its own addresses, gateway and DNS; a client's own come from 68
// and 546. A DHCP client takes an offer or ack sent to its port 68
// whatever port it came from (busybox udhcpc and ISC dhclient filter their
// raw sockets on the destination port alone), and a DHCPv6 client, bound
// to 546, a reply from any port: a server's message to a client's port is
// dropped too, whatever its source (review item 22-2).
//
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
// a fragmented one to these ports is dropped (ip4 and ip6 below). (Nor may
// the kernel split one, or write a checksum into its payload, after these
// rules: the checksum guard drops UDP to these ports that asks for either,
// net/csum_guard.cpp, kPayloadRead.) Each protocol's client chain has
// these rules.
std::string client_udp_rules(std::string_view chain) {
    return rule(chain, "udp sport { 67, 547 } counter drop") + rule(chain, "udp dport { 68, 546 } counter drop") +
           rule(chain, "udp dport 547 @th,64,8 != { 1, 3, 4, 5, 6, 8, 9, 11 } counter drop") +
           rule(chain, "udp dport 67 @th,64,8 != 1 counter drop");
}

// IPv4. nftables takes the transport header of an IP packet whose header
// it accepts, and no `udp` rule matches one whose header it does not: a
// version other than 4, a header shorter than 20 bytes, a total length
// past the frame's end. The receiving kernel drops such a packet, but a
// DHCP client reading a raw socket (ISC dhclient) may take one (a ninth
// cold review had a servers=no guest's offer cross so). So a client's
// IPv4 packet is dropped unless it says version 4 with a header of 20
// bytes or more, and either is a later fragment (no transport header in
// it, and one that a DHCP client's raw filter drops) or shows nftables its
// transport header. Raw loads, whose listing names no protocol: nftables
// prints a protocol field through the protocols database, which the
// daemon's seccomp filter does not allow.
//
// IPv4 has its router messages too: an ICMP redirect (type 5) from the
// gateway's address (a guest without ip= may send from any) has every
// host that takes redirects send that destination's traffic to the
// address the message names, and a router advertisement (type 9, RFC
// 1256) makes its sender a router of hosts that listen for them. A client
// sends neither, as it sends no IPv6 router advertisement or redirect; a
// first fragment shows its ICMP type, and a later one is not a message a
// host acts on alone.
//
// ip=: the source address must be listed; from 0.0.0.0 a guest may only
// ask DHCP for an address.
std::string ip4_rules() {
    return rule("pinned_ip4", "iif @clients jump client_ip4") + rule("pinned_ip4", "iif @ip_guarded jump ip4_guard") +
           rule("client_ip4", "@nh,0,4 != 4 counter drop") + rule("client_ip4", "@nh,4,4 < 5 counter drop") +
           client_udp_rules("client_ip4") +
           rule("client_ip4", "udp dport { 67, 547 } ip frag-off & 0x2000 != 0 counter drop") +
           rule("client_ip4", "icmp type { redirect, router-advertisement } counter drop") +
           rule("client_ip4", "@nh,51,13 != 0 return") + rule("client_ip4", "@th,0,8 >= 0 return") +
           rule("client_ip4", "counter drop") +
           rule("ip4_guard", "ip saddr 0.0.0.0 udp sport 68 udp dport 67 return") +
           rule("ip4_guard", "iif . ip saddr != @ip4_single iif . ip saddr != @ip4_allowed counter drop");
}

// ip= for IPv6: the source must be listed, the unspecified :: (duplicate-
// address detection) or link-local (neighbour discovery needs one, and it
// reaches no further than the segment); a neighbour advertisement's
// target, the address it claims (the IPv6 form of a spoofed ARP reply),
// must be listed or link-local, and so must a duplicate-address check's
// (an NS from ::), which would otherwise make the host configuring that
// address give it up. ip6_* and na_* hold the same IPv6 addresses; nft
// cannot compare the target, a raw field, with a set of addresses. A guest
// whose ip= lists a link-local address (ll_guarded) is held to its listed
// link-local addresses as to the others: as a source, as an NA's target
// and as a duplicate-address check's. Otherwise it could answer for the
// router's link-local address, which hosts use as their IPv6 gateway.
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
std::string ip6_guard_rules() {
    const std::string ip6_unlisted =
        " iif . ip6 saddr != @ip6_single iif . ip6 saddr & ffff:ffff:ffff:ffff:: != @ip6_p64"
        " iif . ip6 saddr != @ip6_allowed counter drop";
    const std::string target_unlisted =
        " iif . @th,64,128 != @na_single iif . @th,64,128 & 0xffffffffffffffff0000000000000000 != @na_p64"
        " iif . @th,64,128 != @na_allowed counter drop";
    const char* chain = "ip6_guard";
    return rule(chain, "ip6 saddr != { ::, fe80::/10 }" + ip6_unlisted) +
           rule(chain, "icmpv6 type nd-neighbor-advert @th,64,10 != 0x3fa" + target_unlisted) +
           rule(chain, "icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 != 0x3fa" + target_unlisted) +
           rule(chain, "iif @ll_guarded ip6 saddr fe80::/10" + ip6_unlisted) +
           rule(chain, "iif @ll_guarded icmpv6 type nd-neighbor-advert @th,64,10 0x3fa" + target_unlisted) +
           rule(chain, "iif @ll_guarded icmpv6 type nd-neighbor-solicit ip6 saddr :: @th,64,10 0x3fa" + target_unlisted);
}


// IPv6.
//
// Neighbour discovery names MACs too: a solicitation or advertisement whose
// link-layer address option names another MAC poisons neighbour caches as
// a spoofed ARP sender does. Such an option must be the pinned MAC (`lla`:
// the option's length byte, 1, then the MAC, so a malformed length fails
// too). Options are not parsed, so a message is allowed at most one: an
// NS or NA is 24 bytes plus one 8-byte option (the link-layer address, or
// the nonce of enhanced DAD), an RS 8 plus one.
//
// A first IPv6 fragment may end before its UDP header does, or hold none
// (a destination options header alone), or end inside its chain of
// extension headers (one naming another that starts the next fragment):
// no port rule can read a port, and the later fragments have none to
// read. RFC 7112 has a receiver drop such a first fragment; Linux does
// when the chain reaches UDP, but not when the chain cannot be walked,
// and takes the datagram whole (a seventh cold review had a DHCPv6 Reply
// so reach a client). Nor may the chain be walked as nftables walks it:
// past the payload length, in bytes a receiver cuts off, a fake end of it
// showed a harmless UDP header (an eighth review). So a pinned guest's
// first fragment (wherever its fragment header) goes to
// client_first_fragment, which lets through only the shape every sender
// uses: the fragment header right after the IPv6 header (its next header
// 44), naming TCP, UDP, ESP or ICMPv6 (6, 17, 50, 58) directly, and a
// payload length of 16 or more, so that the frame holds 8 bytes of that
// transport header within its payload, where the rules read them. Any
// other first fragment is dropped. Neighbour discovery is never
// fragmented (RFC 6980 has a receiver drop a fragmented message; not
// every receiver does): split after its first 8 or 24 bytes, an
// advertisement carried in a later fragment a target, or a link-layer
// address, that no rule reads (review item 32-7), so a first fragment of
// one is dropped; a later fragment alone is no message.
//
// servers=no: no router advertisements or redirects, which would make the
// guest the router of every host that listens; a client's packet must say
// version 6 (as IPv4's above).
std::string ip6_rules() {
    const char* nd = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert }";
    return rule("pinned_ip6", std::string(nd) + " ip6 length > 32 counter drop") +
           rule("pinned_ip6", std::string(nd) + " @th,192,8 { 1, 2 } iif . @th,200,56 != @allowed_lla counter drop") +
           rule("pinned_ip6", "icmpv6 type nd-router-solicit ip6 length > 16 counter drop") +
           rule("pinned_ip6", "icmpv6 type nd-router-solicit @th,64,8 1 iif . @th,72,56 != @allowed_lla counter drop") +
           rule("pinned_ip6", "frag frag-off 0 jump client_first_fragment") +
           rule("pinned_ip6", "exthdr frag exists icmpv6 type { nd-router-solicit, nd-router-advert,"
                              " nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } counter drop") +
           rule("pinned_ip6", "iif @clients jump client_ip6") + rule("pinned_ip6", "iif @ip_guarded jump ip6_guard") +
           rule("client_first_fragment", "@nh,48,8 44 @nh,320,8 { 6, 17, 50, 58 } @nh,32,16 >= 16 return") +
           rule("client_first_fragment", "counter drop") + rule("client_ip6", "@nh,0,4 != 6 counter drop") +
           rule("client_ip6", "icmpv6 type { nd-router-advert, nd-redirect } counter drop") +
           client_udp_rules("client_ip6") +
           rule("client_ip6", "udp dport { 67, 547 } exthdr frag exists counter drop") + ip6_guard_rules();
}

// The table's sets, chains and rules, for a table that may hold an older
// release's (see above).
std::string layout() {
    std::string t = std::string(kSets) + kChains;
    t += "flush chain bridge userbridge prerouting\nflush chain bridge userbridge postrouting\n";
    for (const char* c : kRefilled)
        t += std::string("add chain bridge userbridge ") + c + "\nflush chain bridge userbridge " + c + "\n";
    t += std::string("add chain bridge userbridge ") + kGone + "\nflush chain bridge userbridge " + kGone +
         "\ndelete chain bridge userbridge " + kGone + "\n";
    return t + port_rules() + arp_rules() + ip4_rules() + ip6_rules();
}

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

// This layout's sign: prerouting sends pinned ports' frames to `pinned`.
// An older release's table has no such rule, and a prerouting chain an
// administrator emptied has none either: then every pinned port's frames
// would pass unchecked. A later change of any rule needs a sign of its own.
constexpr const char* kLayoutSign = "iif @pinned jump pinned";

// Brings an older release's table (`table`, its listing of sets), or one
// whose rules were taken out, up to date: its sets kept, with their
// elements, the rest today's.
Result<void> add_missing(Nft& nft, std::string_view table) {
    if (!table_section(table, "set", "pinned")) return Error::msg("nftables: table bridge userbridge has no set pinned");
    Result<std::string> prerouting = nft.list("list chain bridge userbridge prerouting");
    if (prerouting.ok() && prerouting->find(kLayoutSign) != std::string::npos) return Ok{};
    return nft.run(layout());
}

// Makes the table when it is not there (the first guarded tap on this host,
// in this namespace), and brings an older release's up to date, once; then
// says which dead taps' elements to delete.
Result<Deletions> check_table(Nft& nft) {
    Result<std::string> table = list_table(nft);
    if (!table.ok() || table->empty()) {
        // `create table`: the transaction fails whole when another daemon
        // made the table first.
        UB_TRYV(make_once(nft, "list set bridge userbridge pinned", ("create table bridge userbridge\n" + layout()).c_str()));
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
