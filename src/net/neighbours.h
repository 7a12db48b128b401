// The kernel's bridge forwarding tables and neighbour tables, as any user
// may read them (a dump needs no privilege): for `userbridge status`, the
// guest MACs behind a bridge port and the addresses the host knows them
// by. Not linked into the helper (it lists nothing of this).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "base/mac.h"
#include "base/result.h"

namespace ub::net {

struct Neighbour {
    int ifindex = 0;  // the bridge port (AF_BRIDGE) or the device (AF_INET, AF_INET6)
    int family = 0;   // AF_BRIDGE, AF_INET or AF_INET6
    Mac mac{};
    std::array<std::uint8_t, 16> addr{};  // AF_INET, AF_INET6: the address (IPv4: 4 bytes)
    std::uint16_t state = 0;  // NUD_*
    std::uint8_t flags = 0;   // NTF_*
    int master = 0;           // NDA_MASTER: a bridge forwarding entry's bridge, or 0
};

// Every entry of one family's table (RTM_GETNEIGH dump): AF_BRIDGE for the
// bridges' forwarding entries, AF_INET or AF_INET6 for the neighbours.
// Entries without a 6-byte link-layer address are left out.
Result<std::vector<Neighbour>> list_neighbours(int family);

// A guest MAC on a bridge port: an AF_BRIDGE entry of the bridge's (it
// names its master; the port's own entries do not) that is not the port's
// own address (NUD_PERMANENT).
bool is_learned_guest_mac(const Neighbour& n);

}  // namespace ub::net
