// Veth pairs into network namespaces, for containers: one end on a bridge
// here, the other made directly in a namespace the caller owns. userbridged's
// alone (the helper never links this file): which namespace is the caller's
// is decided on the namespace's fd (daemon/netns.h), which only the daemon
// receives.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "net/bridge_port.h"
#include "policy/acl.h"

namespace ub::net {

struct VethEnds {
    int netns_fd = -1;     // the namespace, verified by the caller of make_bridged_veth
    std::string peer;      // the end's name in it ("eth0")
    unsigned* serial = nullptr;  // host end names: ubv<serial>, counted up
};

// Makes the pair (the host end named ubvN, the first N from `serial` no
// interface has), the namespace end under ends.peer with the bridge's MTU
// and the label's guest MAC when the rule pins one; then the host end joins
// the bridge exactly as a tap does (join_bridge: label, quota, filter,
// attach, up). The result's tap has no queues; its peer_ifindex is the
// namespace end's. On any error the pair is deleted (TapUndo on the host
// end takes its peer with it); once made, it goes when the namespace does
// (the kernel deletes a veth whose namespace dies, and its peer with it).
Result<Made> make_bridged_veth(Rtnl rtnl, TapSpec spec, const LinkInfo& bridge, const VethEnds& ends,
                               StepHook hook = nullptr);

// Why a veth pair is refused under the allowing decision `d`, if it is:
// its host end joins a bridge, and its peer is live in the caller's
// namespace from the start, so it is no routed tap (whose filters come
// after it is up) and no macvtap. Pure.
std::optional<Refusal> veth_refusal(const policy::Decision& d);

}  // namespace ub::net
