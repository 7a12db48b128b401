// The checksum guard of a filtered port (review items 24-5 and 27-1), for
// userbridged only.
//
// A guest with a virtio-net header asks the kernel to write a checksum at
// an offset of its choosing (NEEDS_CSUM's csum_start and csum_offset), and
// the kernel writes it where a port sends the frame on without checksum
// offload: after every filter, two bytes of the guest's choosing in a
// field a pin judged (item 24-5). A container's packet socket asks the
// same through its veth (PACKET_VNET_HDR). No nftables expression sees a
// frame's checksum state; a tc program can.
//
// Two programs, one loaded as userbridged starts:
// - exact: a frame waiting for its checksum (CHECKSUM_PARTIAL) passes only
//   when the kernel is to write it past the ports of its TCP, UDP or SCTP
//   header, over IPv4 (unfragmented) or IPv6 (no extension header), and a
//   frame the kernel is to segment (GSO) only as such, but not as UDP to a
//   port whose payload a rule reads; every other one is dropped. The
//   kernel then writes only bytes no rule judges, and splits only what the
//   rules judged by headers each piece repeats, so a filtered tap may keep
//   its header, with TSO and checksum offload.
//   It reads the frame's sk_buff (bpf_probe_read_kernel, at offsets the
//   kernel's BTF gives), which takes CAP_PERFMON (or CAP_SYS_ADMIN) to load.
// - blunt, where the exact one cannot load: every frame waiting for its
//   checksum is dropped. A filtered tap then gets no header at all.
//
// Should: load once, while the daemon still has CAP_BPF (and CAP_PERFMON);
// attach with CAP_NET_ADMIN alone, to a port's ingress (frames from its
// guest: a tap, a veth's host end) or a macvtap's egress. Must not: let
// the kernel write into, or split, what a rule judged, after the rules.
#pragma once

#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "net/rtnl.h"

namespace ub::net {

class CsumGuard {
public:
    enum class Kind { Exact, Blunt };
    // Where frames from the port's guest pass: a tap's or veth host end's
    // ingress, a macvtap's egress.
    enum class Side { Ingress, Egress };

    // The exact program, or else the blunt one, saying in why_blunt() why.
    static Result<CsumGuard> load();

    Kind kind() const { return kind_; }
    const std::string& why_blunt() const { return why_blunt_; }

    // Attaches it to `side` of the link `ifindex`: a clsact qdisc bound to
    // the tc block of that side that every guarded port shares, whose bpf
    // filter it is (made by the block's first port); on a clsact qdisc
    // already there with a block of its own, a bpf filter replacing any
    // of ours. Done again, it changes nothing.
    Result<void> attach(Rtnl& rtnl, int ifindex, Side side) const;
    // This program in place of a former daemon's on the shared blocks that
    // exist (the ingress block's only if this one is exact).
    Result<void> refresh(Rtnl& rtnl) const;

private:
    CsumGuard(UniqueFd prog, Kind kind, std::string why) : prog_(std::move(prog)), kind_(kind), why_blunt_(std::move(why)) {}
    UniqueFd prog_;
    Kind kind_;
    std::string why_blunt_;
};

}  // namespace ub::net
