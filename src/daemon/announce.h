// userbridged tells the bridge where a pinned guest is before it speaks:
// the guest MAC the policy gave a tap (mac= or mac-prefix=) becomes a
// static FDB entry on the tap's bridge port, and each single address of
// the rule's ip= a permanent neighbour entry on the bridge, with that MAC.
// A bridge learns a MAC only from a frame; until the guest sends one,
// frames to it are flooded to every port, and an EVPN control plane (FRR's
// zebra, docs/MULTI-HOST.md) has nothing to advertise, so every other host
// floods too. zebra advertises static FDB entries of a bridge port and
// neighbour entries of the bridge (its SVI) as EVPN type-2 routes; it
// ignores only NUD_PERMANENT FDB entries, which is why the FDB entry is
// NUD_NOARP ("static"), as `bridge fdb add ... master static` makes it.
//
// Should: install exactly the pinned MAC and the rule's own addresses,
// nothing a request says; take no entry that exists already (NLM_F_EXCL):
// a MAC or address the bridge knows on another port, an administrator's
// static entry included, stays where it is; remove its neighbour entries
// when the tap goes. The kernel removes a deleted port's FDB entries
// itself (br_fdb_delete_by_port), but the neighbour entries belong to the
// bridge device and outlive the tap.
// Its neighbour entries carry a protocol of their own (NDA_PROTOCOL,
// kProtocol: `ip neigh show proto 186` lists them), so that a daemon that
// starts finds those an earlier one left: it keeps the entries of taps
// still alive (removed when they go) and deletes the others, whose taps
// died while no daemon watched.
// Must not: fail a grant (the guest works without them: learning finds it
// at its first frame); what could not be installed is said in the grant's
// record.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/mac.h"
#include "base/result.h"
#include "net/rtnl.h"
#include "policy/ip_prefix.h"

namespace ub::daemon {

// The neighbour entries' protocol: "userbridge" has no number of its own
// in rt_protos; 186 is unassigned there.
inline constexpr std::uint8_t kProtocol = 186;

class Announcer {
public:
    // One neighbour entry of ours: on the bridge `bridge`, `addr` is at `mac`.
    struct Neighbour {
        int bridge = 0;
        policy::IpPrefix addr;
        Mac mac{};
    };

    // As the daemon starts: adopts the neighbour entries an earlier daemon
    // made for taps still alive (by the guest MAC in their label) and
    // deletes the rest.
    Result<void> reconcile();

    // Installs the tap's entries: `mac` on port `tap`, each single address
    // of `ips` on `bridge`. Returns what was not installed and why, in
    // words for the grant's record; empty when all was.
    std::string add(int tap, int bridge, const Mac& mac, const std::vector<policy::IpPrefix>& ips);

    // The link monitor saw the tap go: its neighbour entries go too.
    // Returns the first error, once every entry was tried.
    Result<void> tap_gone(int tap);

    // Link events were lost: the taps we announced that are not in `live`
    // are gone.
    Result<void> events_lost(const std::set<int>& live);

private:
    Result<void> request(std::uint16_t type, std::uint16_t flags, int family, int ifindex, const void* dst,
                         std::size_t dst_len, const Mac* mac, const std::string& what);
    // Sends the request in `buf` (MNL_SOCKET_BUFFER_SIZE bytes, reused for
    // the replies) and reads to its ACK, or to the end of its dump: the
    // entries of ours it lists go to `found`.
    Result<void> transact(char* buf, std::vector<Neighbour>* found, const std::string& what);
    Result<void> remove(const Neighbour& n);

    std::optional<net::MnlSocket> nl_;
    unsigned seq_ = 0;
    std::map<int, std::vector<Neighbour>> installed_;  // by the tap's ifindex
};

}  // namespace ub::daemon
