// What a caller asks for: one tap on a bridge, or (userbridged only) one
// veth pair between a bridge and a network namespace. The one request type: the
// helper's command line (protocol/helper_args.h) and userbridged's wire
// (protocol/wire.h) both decode into it, and the grant engine takes it. In
// a header of its own so that the helper, which never speaks the wire
// protocol, does not include its encoding.
#pragma once

#include <cstdint>
#include <string>

namespace ub::protocol {

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
};

}  // namespace ub::protocol
