// The userbridged wire protocol, version 2: one fixed-size request, one
// fixed-size reply, over a unix stream socket. Encoding and decoding are pure
// and total, so they are what the unit tests and the fuzzer call.
//
// Request (96 bytes, all integers little-endian):
//   0   char[4]  magic "UBRQ"
//   4   u16      version (2)
//   6   u16      flags: bit 0 = IFF_VNET_HDR wanted; bit 1 = polkit may
//                prompt the caller (AllowUserInteraction); bit 2 = a veth
//                pair into the network namespace whose fd comes with the
//                request (SCM_RIGHTS, exactly one); bit 3 = a lease; bit 4 =
//                a lease's release; bit 5 = the lease ends when this
//                connection closes; other bits 0
//   8   u16      queues: 1 for a plain tap, 2 to 64 for a multiqueue one
//   10  u16      reserved, 0
//   12  char[16] bridge name, NUL-padded; a valid interface name
//   28  char[64] VM name, NUL-padded (may be empty): letters, digits, . _ - + @ :
//                With flag bit 2, two fields: 28 char[48] the name, 76
//                char[16] the interface name the pair's end gets in the
//                namespace (a valid interface name); queues is then 1.
//                For a lease or a release: the tap's name instead (for a
//                lease, may be empty: the daemon picks one)
//   92  u32      a lease: its length in seconds (0: the rule's longest);
//                else 0. A release has no bridge (all NULs).
// Reply (352 bytes), with the tap fd(s) as SCM_RIGHTS on its first byte when
// status is 0:
//   0   char[4]  magic "UBRP"
//   4   u16      version (2)
//   6   u16      status: 0 granted, else a Status below
//   8   u16      flags: bit 0 = vnet_hdr is on; bit 1 = the policy set the
//                guest's MAC (frames from any other are dropped); bit 2 =
//                a veth pair was granted (no fds; the name at 12 is its
//                host end's); bit 3 = a lease made or released: no fds
//                come; others 0
//   10  u16      number of fds attached
//   12  char[16] tap interface name, NUL-padded
//   28  u8[6]    tap MAC
//   34  u16      when status is 2 (denied): what refused (base/refusal.h,
//                1 to 5); else 0
//   36  u32      MTU
//   40  u8[6]    the guest's MAC when flag bit 1 is set, else 0
//   46  u16      reserved, 0
//   48  char[304] message, NUL-padded: why, on failure; the rule, on success.
//                With flag bit 2, two fields: 48 char[300] the message,
//                348 u32 the ifindex of the pair's end in its namespace.
// Version 2 added the guest MAC, so that a client learns everything about
// its tap from the reply and the fds, with no netlink request of its own.
// A lease tied to its connection: after the reply the daemon keeps the
// connection, and ends the lease when the client closes it.
// After a granted reply the daemon closes its copies of the fds, then shuts
// the connection (EOF). A client reads until that EOF before it uses or
// closes the fds: its close is then the tap's last, and the tap's teardown
// runs in the client, never in the daemon's serving thread.
// Nothing the client says about itself is trusted: the daemon takes the
// caller's identity from SO_PEERCRED and SO_PEERGROUPS alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/mac.h"
#include "base/refusal.h"
#include "base/result.h"
#include "protocol/request.h"

namespace ub::protocol {

inline constexpr std::size_t kRequestSize = 96;
inline constexpr std::size_t kReplySize = 352;
inline constexpr std::uint16_t kVersion = 2;

enum class Status : std::uint16_t {
    Granted = 0,
    BadRequest = 1,
    Denied = 2,
    Failed = 3,
    Busy = 4,
};

struct Reply {
    Status status = Status::Failed;
    bool vnet_hdr = false;
    std::uint16_t nfds = 0;
    std::string ifname;
    Mac mac{};
    std::uint32_t mtu = 0;
    std::optional<Mac> pinned_mac;  // the guest MAC the policy set, if it did
    bool lease = false;  // a lease made or released: no fds
    Refused refused = Refused::Acl;  // when Denied
    std::string message;
    // A veth grant: its end's ifindex in the namespace; 0 for a tap. LXC
    // finds the container's end by it (lxc-user-nic's output).
    std::uint32_t peer_ifindex = 0;
};

std::array<char, kRequestSize> encode(const Request& req);
Result<Request> decode_request(std::string_view bytes);

std::array<char, kReplySize> encode(const Reply& reply);
Result<Reply> decode_reply(std::string_view bytes);

const char* status_name(Status s);

// Empty string when `name` may be a leased tap's name: an interface name
// (ifname_problem) of letters, digits and . _ - only, so that no '%' makes
// the kernel pick the name (dev_alloc_name), and not starting with "ubq",
// the names of older releases' quota locks (docs/SECURITY.md, review item
// 26-2): during an upgrade a persistent device of that name would hold a
// user's lock for good.
std::string lease_name_problem(std::string_view name);

}  // namespace ub::protocol
