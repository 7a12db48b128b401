// The checksum guard of a pinned macvtap (review item 27-1), for
// userbridged only.
//
// A guest with a virtio-net header asks the kernel to write a checksum at
// an offset of its choosing (NEEDS_CSUM), and the kernel writes it after
// every filter (item 24-5). A pinned macvtap is made without the header,
// but its fd's holder can turn it on again at any time (tap_ioctl takes
// TUNSETIFF with IFF_VNET_HDR). No nftables expression sees whether a
// frame still waits for its checksum (CHECKSUM_PARTIAL); a tc program can
// tell, so one on the macvtap's egress drops every such frame. A guest
// whose VMM did not turn the header on sends none (without the header the
// kernel makes each frame CHECKSUM_NONE), so it loses nothing.
//
// Should: load the program once, while the daemon still has CAP_BPF;
// attach it to a macvtap's egress with CAP_NET_ADMIN alone. Must not: let
// a frame that waits for its checksum leave a guarded macvtap.
#pragma once

#include "base/fd.h"
#include "base/result.h"
#include "net/rtnl.h"

namespace ub::net {

class CsumGuard {
public:
    // Loads the program (bpf(2), BPF_PROG_LOAD: CAP_BPF and CAP_NET_ADMIN).
    static Result<CsumGuard> load();

    // Attaches it to the egress of the link `ifindex` (a clsact qdisc, made
    // if there is none, and a bpf filter replacing any of ours): done again
    // on a macvtap that has it, it changes nothing.
    Result<void> attach(Rtnl& rtnl, int ifindex) const;

private:
    explicit CsumGuard(UniqueFd prog) : prog_(std::move(prog)) {}
    UniqueFd prog_;
};

}  // namespace ub::net
