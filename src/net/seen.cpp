#include "net/seen.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <memory>
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

// One set's elements, as the kernel holds them: one netlink dump.
Result<void> dump_set(mnl_socket* nl, const char* name, bool v6, std::vector<SeenAt>& out) {
    struct Free {
        void operator()(nftnl_set* s) const { nftnl_set_free(s); }
    };
    std::unique_ptr<nftnl_set, Free> set(nftnl_set_alloc());
    if (!set) return Error::sys("nftables: cannot allocate a set");
    nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, "userbridge_seen");
    nftnl_set_set_str(set.get(), NFTNL_SET_NAME, name);
    // The kernel fills a part of a dump up to the largest read it has seen
    // (32 KiB at most, netlink_dump), and walks the set from its start for
    // each part: the fewer the parts, the less it walks.
    std::vector<char> buf(64 * 1024);
    unsigned seq = static_cast<unsigned>(time(nullptr));
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM, NFPROTO_BRIDGE, NLM_F_DUMP, seq);
    nftnl_set_elems_nlmsg_build_payload(nlh, set.get());
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return Error::sys(std::string("nftables: dump set ") + name);
    auto parse = [](const nlmsghdr* m, void* data) {
        return nftnl_set_elems_nlmsg_parse(m, static_cast<nftnl_set*>(data)) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
    };
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n < 0) return Error::sys(std::string("nftables: dump set ") + name);
        int r = mnl_cb_run(buf.data(), static_cast<std::size_t>(n), seq, mnl_socket_get_portid(nl), parse, set.get());
        if (r == MNL_CB_STOP) break;
        if (r < 0) return Error::sys(std::string("nftables: dump set ") + name);
    }
    nftnl_set_elems_iter* it = nftnl_set_elems_iter_create(set.get());
    if (!it) return Error::sys("nftables: cannot walk a set");
    for (nftnl_set_elem* e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
        std::uint32_t len = 0;
        const void* key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
        std::uint64_t ms = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)
                               ? nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION)
                               : 0;
        if (!key) continue;
        if (std::optional<SeenAt> seen =
                parse_seen_key({static_cast<const std::uint8_t*>(key), len}, v6, ms))
            out.push_back(std::move(*seen));
    }
    nftnl_set_elems_iter_destroy(it);
    return Ok{};
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

// A key is the tap's ifindex (host order), the MAC and the address, each
// padded to four bytes as the kernel keeps a concatenation: 4 + 8 + 4 for
// seen4, 4 + 8 + 16 for seen6 and nd6 (whose address is a raw field).
std::optional<SeenAt> parse_seen_key(std::span<const std::uint8_t> key, bool v6, std::uint64_t expires_ms) {
    if (key.size() != (v6 ? 28u : 16u)) return std::nullopt;
    SeenAt out;
    std::memcpy(&out.ifindex, key.data(), 4);
    std::memcpy(out.seen.mac.data(), key.data() + 4, 6);
    std::memcpy(out.seen.addr.data(), key.data() + 12, v6 ? 16 : 4);
    out.seen.v6 = v6;
    out.seen.expires_s = static_cast<unsigned>(expires_ms / 1000);
    return out;
}

Result<std::vector<SeenAt>> dump_seen() {
    MnlSocket nl = UB_TRY(open_netlink(NETLINK_NETFILTER, 0, 0, "nf_tables socket"));
    std::vector<SeenAt> out;
    UB_TRYV(dump_set(nl.get(), "seen4", false, out));
    UB_TRYV(dump_set(nl.get(), "seen6", true, out));
    UB_TRYV(dump_set(nl.get(), "nd6", true, out));
    return out;
}

}  // namespace ub::net
