// What the holder of a granted tap's fd changed on it, judged against its
// label (protocol/tap_label.h): userbridged's link monitor removes such a
// tap (net/live_taps.h). Pure.
#pragma once

#include <string>

#include "base/mac.h"
#include "protocol/tap_label.h"

namespace ub::protocol {

// A labelled tap as rtnetlink reports it now (RTM_NEWLINK, IFLA_TUN_*).
struct TapState {
    Mac mac{};
    bool persist = false;
    long long owner = -1;  // IFLA_TUN_OWNER, -1 if none
    long long group = -1;  // IFLA_TUN_GROUP, -1 if none
};

// What the fd holder changed on a tap we labelled, in words ("" when
// nothing). Anyone holding a tap's fd may, without privilege, set its MAC
// (SIOCSIFHWADDR: the bridge then makes that MAC a local FDB entry, taking
// another station's unicast, or adopts it as its own address), make it
// persistent (TUNSETPERSIST: it outlives the VM, still on the bridge), or
// give it another owner or a group (TUNSETOWNER, TUNSETGROUP: others may
// then attach to it). We set the owner to the label's uid, no group, the
// label's port MAC, and persistence only for a lease (made persistent
// before its label is set, so that no event shows a lease without it);
// anything else is tampering.
std::string tampered(const TapLabel& label, const TapState& now);

}  // namespace ub::protocol
