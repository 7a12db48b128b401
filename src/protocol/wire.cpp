#include "protocol/wire.h"

#include <cctype>
#include <cstring>

#include "base/names.h"
#include "protocol/le_bytes.h"

namespace ub::protocol {

namespace {

using le::get16;
using le::get32;
using le::put16;
using le::put32;

constexpr char kRequestMagic[4] = {'U', 'B', 'R', 'Q'};
constexpr char kReplyMagic[4] = {'U', 'B', 'R', 'P'};
constexpr std::uint16_t kReplyVnetHdr = 1;
constexpr std::uint16_t kReplyGuestMac = 2;
constexpr std::uint16_t kReplyVeth = 4, kReplyLease = 8;
constexpr std::uint16_t kRequestVeth = 4, kLease = 8, kRelease = 16, kTied = 32;
// A veth request's name field is the name, then the namespace end's name.
constexpr std::size_t kVethNameSize = 48;
constexpr std::size_t kReplyMessageSize = 304;

// Copies `s` into a NUL-padded field, truncating; the field always ends in NUL.
void put_str(char* p, std::size_t field, const std::string& s) {
    std::memcpy(p, s.data(), std::min(s.size(), field - 1));
}

// A NUL-padded field: the text up to the first NUL, and nothing but NULs after.
Result<std::string> get_str(const char* p, std::size_t field, const char* what) {
    std::size_t len = strnlen(p, field);
    if (len == field) return Error::msg(std::string(what) + " is not NUL-terminated");
    for (std::size_t i = len; i < field; ++i)
        if (p[i] != 0) return Error::msg(std::string(what) + " has bytes after its NUL");
    return std::string(p, len);
}

// A lease's or release's tap name, in the VM name's field; a release
// names no bridge.
Result<Request> decode_lease(const char* p, Request r) {
    r.bridge = UB_TRY(get_str(p + 12, 16, "bridge name"));
    if (r.kind == Kind::Release && !r.bridge.empty()) return Error::msg("a release names no bridge");
    if (r.kind == Kind::Lease)
        if (std::string why = ifname_problem(r.bridge); !why.empty())
            return Error::msg("bridge name '" + printable(r.bridge) + "' " + why);
    r.tap_name = UB_TRY(get_str(p + 28, 64, "tap name"));
    if (r.kind == Kind::Lease && r.tap_name.empty()) return r;
    if (std::string why = lease_name_problem(r.tap_name); !why.empty())
        return Error::msg("tap name '" + printable(r.tap_name) + "' " + why);
    return r;
}

}  // namespace

std::string lease_name_problem(std::string_view name) {
    if (std::string why = ifname_problem(name); !why.empty()) return why;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            return "has a character other than letters, digits, '.', '_' and '-'";
    if (name.substr(0, 3) == "ubq") return "starts with 'ubq', the quota locks' prefix";
    if (name.substr(0, 3) == "ubv") return "starts with 'ubv', the prefix of the host ends of veth pairs";
    return {};
}

const char* status_name(Status s) {
    switch (s) {
        case Status::Granted: return "granted";
        case Status::BadRequest: return "bad request";
        case Status::Denied: return "denied";
        case Status::Failed: return "failed";
        case Status::Busy: return "busy";
    }
    return "unknown";
}

std::array<char, kRequestSize> encode(const Request& req) {
    std::array<char, kRequestSize> b{};
    std::memcpy(b.data(), kRequestMagic, 4);
    put16(&b[4], kVersion);
    bool veth = !req.netns_peer.empty();
    bool lease = req.kind == Kind::Lease;
    put16(&b[6], static_cast<std::uint16_t>((req.vnet_hdr ? 1 : 0) | (req.interactive ? 2 : 0) |
                                             (veth ? kRequestVeth : 0) | (lease ? kLease : 0) |
                                             (req.kind == Kind::Release ? kRelease : 0) |
                                             (lease && req.tied ? kTied : 0)));
    put16(&b[8], req.queues);
    put_str(&b[12], 16, req.bridge);
    put_str(&b[28], veth ? kVethNameSize : 64, req.kind == Kind::Tap ? req.vm_name : req.tap_name);
    if (veth) put_str(&b[28 + kVethNameSize], 64 - kVethNameSize, req.netns_peer);
    if (lease) put32(&b[92], req.lease_seconds);
    return b;
}

Result<Request> decode_request(std::string_view bytes) {
    if (bytes.size() != kRequestSize)
        return Error::msg("request is " + std::to_string(bytes.size()) + " bytes, expected " +
                          std::to_string(kRequestSize));
    const char* p = bytes.data();
    if (std::memcmp(p, kRequestMagic, 4) != 0) return Error::msg("request has a bad magic");
    if (get16(p + 4) != kVersion)
        return Error::msg("protocol version " + std::to_string(get16(p + 4)) +
                          " is not supported (this daemon speaks " + std::to_string(kVersion) + ")");
    std::uint16_t flags = get16(p + 6);
    if (flags & ~63u) return Error::msg("request has unknown flags");
    bool veth = (flags & kRequestVeth) != 0;
    if (veth && (flags & (kLease | kRelease))) return Error::msg("a veth pair is not leased");
    Request r;
    r.vnet_hdr = flags & 1;
    r.interactive = (flags & 2) != 0;
    if ((flags & kLease) && (flags & kRelease)) return Error::msg("a request is a lease or a release, not both");
    if ((flags & kTied) && !(flags & kLease)) return Error::msg("only a lease can be tied to its connection");
    r.kind = flags & kLease ? Kind::Lease : flags & kRelease ? Kind::Release : Kind::Tap;
    r.tied = (flags & kTied) != 0;
    r.queues = get16(p + 8);
    if (r.queues < 1 || r.queues > kMaxQueues)
        return Error::msg("queues must be 1 to " + std::to_string(kMaxQueues));
    if (get16(p + 10) != 0 || (r.kind != Kind::Lease && get32(p + 92) != 0))
        return Error::msg("reserved fields must be 0");
    if (r.kind == Kind::Lease) r.lease_seconds = get32(p + 92);
    if (r.kind != Kind::Tap) return decode_lease(p, std::move(r));
    r.bridge = UB_TRY(get_str(p + 12, 16, "bridge name"));
    if (std::string why = ifname_problem(r.bridge); !why.empty())
        return Error::msg("bridge name '" + printable(r.bridge) + "' " + why);
    r.vm_name = UB_TRY(get_str(p + 28, veth ? kVethNameSize : 64, "VM name"));
    if (std::string why = vm_name_problem(r.vm_name); !why.empty())
        return Error::msg("VM name '" + printable(r.vm_name) + "' " + why);
    if (!veth) return r;
    if (r.queues != 1) return Error::msg("a veth pair has one queue");
    r.netns_peer = UB_TRY(get_str(p + 28 + kVethNameSize, 64 - kVethNameSize, "namespace interface name"));
    if (std::string why = ifname_problem(r.netns_peer); !why.empty())
        return Error::msg("namespace interface name '" + printable(r.netns_peer) + "' " + why);
    // A template: the kernel would choose the name (dev_alloc_name), and
    // the reply and the record would name another.
    if (r.netns_peer.find('%') != std::string::npos)
        return Error::msg("namespace interface name '" + printable(r.netns_peer) + "' contains '%'");
    return r;
}

std::array<char, kReplySize> encode(const Reply& r) {
    std::array<char, kReplySize> b{};
    std::memcpy(b.data(), kReplyMagic, 4);
    put16(&b[4], kVersion);
    put16(&b[6], static_cast<std::uint16_t>(r.status));
    put16(&b[8], static_cast<std::uint16_t>((r.vnet_hdr ? kReplyVnetHdr : 0) |
                                             (r.pinned_mac ? kReplyGuestMac : 0) |
                                             (r.peer_ifindex ? kReplyVeth : 0) | (r.lease ? kReplyLease : 0)));
    put16(&b[10], r.nfds);
    put_str(&b[12], 16, r.ifname);
    std::memcpy(&b[28], r.mac.data(), 6);
    if (r.status == Status::Denied) put16(&b[34], static_cast<std::uint16_t>(r.refused));
    put32(&b[36], r.mtu);
    if (r.pinned_mac) std::memcpy(&b[40], r.pinned_mac->data(), 6);
    put_str(&b[48], kReplyMessageSize - (r.peer_ifindex ? 4 : 0), r.message);
    if (r.peer_ifindex) put32(&b[48 + kReplyMessageSize - 4], r.peer_ifindex);
    return b;
}

Result<Reply> decode_reply(std::string_view bytes) {
    if (bytes.size() != kReplySize) return Error::msg("reply has the wrong size");
    const char* p = bytes.data();
    if (std::memcmp(p, kReplyMagic, 4) != 0) return Error::msg("reply has a bad magic");
    if (get16(p + 4) != kVersion)
        return Error::msg("reply is in protocol version " + std::to_string(get16(p + 4)) +
                          "; this client speaks " + std::to_string(kVersion) +
                          " (userbridged and its clients must be of one release)");
    Reply r;
    std::uint16_t status = get16(p + 6);
    if (status > static_cast<std::uint16_t>(Status::Busy)) return Error::msg("reply has an unknown status");
    r.status = static_cast<Status>(status);
    std::uint16_t flags = get16(p + 8);
    if (flags & ~(kReplyVnetHdr | kReplyGuestMac | kReplyVeth | kReplyLease))
        return Error::msg("reply has unknown flags");
    bool veth = (flags & kReplyVeth) != 0;
    r.vnet_hdr = flags & kReplyVnetHdr;
    r.lease = (flags & kReplyLease) != 0;
    r.nfds = get16(p + 10);
    r.ifname = UB_TRY(get_str(p + 12, 16, "interface name"));
    std::memcpy(r.mac.data(), p + 28, 6);
    r.mtu = get32(p + 36);
    Mac guest{};
    std::memcpy(guest.data(), p + 40, 6);
    if (flags & kReplyGuestMac) r.pinned_mac = guest;
    else if (guest != Mac{}) return Error::msg("reply has a guest MAC without its flag");
    std::uint16_t refused = get16(p + 34);
    if (r.status == Status::Denied && (refused < 1 || refused > kMaxRefused))
        return Error::msg("denied reply says nothing known of what refused");
    if (r.status == Status::Denied) r.refused = static_cast<Refused>(refused);
    if ((r.status != Status::Denied && refused != 0) || get16(p + 46) != 0)
        return Error::msg("reply's reserved fields must be 0");
    r.message = UB_TRY(get_str(p + 48, kReplyMessageSize - (veth ? 4 : 0), "message"));
    if (veth) r.peer_ifindex = get32(p + 48 + kReplyMessageSize - 4);
    if (veth && (r.status != Status::Granted || r.peer_ifindex == 0 || r.nfds != 0 || r.ifname.empty()))
        return Error::msg("a veth reply must be a grant naming both ends, with no fds");
    if (r.status == Status::Granted && !veth && (r.ifname.empty() || (!r.lease && r.nfds < 1)))
        return Error::msg("granted reply without a tap");
    if (r.lease && r.nfds != 0) return Error::msg("a lease's reply with fds");
    return r;
}

}  // namespace ub::protocol
