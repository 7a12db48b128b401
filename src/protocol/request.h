// What a caller asks for: one tap on a bridge, or (userbridged only) one
// veth pair between a bridge and a network namespace, a lease (a
// persistent tap left on the bridge for a VMM that opens it by name), or a
// lease's end. The one request type: the
// helper's command line (protocol/helper_args.h) and userbridged's wire
// (protocol/wire.h) both decode into it, and the grant engine takes it. In
// a header of its own so that the helper, which never speaks the wire
// protocol, does not include its encoding.
#pragma once

#include <cstdint>
#include <string>

namespace ub::protocol {

// Tap: a tap whose fds come back. Lease: a persistent tap owned by the
// caller, made and left on the bridge (only userbridged makes one, and only
// under a rule with lease=). Release: the end of the caller's lease.
enum class Kind { Tap, Lease, Release };

struct Request {
    bool vnet_hdr = true;
    std::uint16_t queues = 1;
    std::string bridge;
    std::string vm_name;
    // An auth=polkit rule may have polkit prompt the caller's desktop.
    bool interactive = false;
    // Not empty: a veth pair instead of a tap, whose other end is made under
    // this name in the network namespace whose fd comes with the request
    // (userbridged only: the helper's command line cannot ask for one).
    std::string netns_peer = {};
    Kind kind = Kind::Tap;
    // Lease: the tap's name, "" for one of ours (tapN); Release: the lease's.
    std::string tap_name{};
    // Lease: how long, in seconds; 0 for as long as the rule allows.
    std::uint32_t lease_seconds = 0;
    // Lease: it ends when the connection that asked for it closes.
    bool tied = false;
};

}  // namespace ub::protocol
