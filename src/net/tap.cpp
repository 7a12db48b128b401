#include "net/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/filter.h>
#include <linux/if_tun.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "base/system.h"

namespace ub::net {

namespace {

// Makes the device `name` with ifr's flags plus IFF_TUN_EXCL; false when
// an interface of that name exists (EBUSY, EEXIST). IFF_TUN_EXCL is what
// makes this safe: without it, TUNSETIFF on the name of an existing tun
// device would attach us to that device (we have CAP_NET_ADMIN, so the
// owner check would pass) instead of creating one. ifr keeps the name and
// its own flags.
Result<bool> make_excl(const UniqueFd& tun, ifreq& ifr, const std::string& name, const std::string& what) {
    short flags = ifr.ifr_flags;
    std::memset(ifr.ifr_name, 0, sizeof ifr.ifr_name);
    std::memcpy(ifr.ifr_name, name.data(), std::min<std::size_t>(name.size(), IFNAMSIZ - 1));
    ifr.ifr_flags = static_cast<short>(flags | IFF_TUN_EXCL);
    Result<void> r = system::ioctl(tun.get(), TUNSETIFF, &ifr, what);
    ifr.ifr_flags = flags;
    if (r.ok()) return true;
    if (r.error().code() == EBUSY || r.error().code() == EEXIST) return false;
    return r.error();
}

// Makes the device with a name from `names`, trying the next while one is
// in use (make_excl); false when all kMaxTries were.
Result<bool> set_iff_named(const UniqueFd& tun, ifreq& ifr, TapNames& names) {
    constexpr int kMaxTries = 64;
    for (int i = 0; i < kMaxTries; ++i)
        if (UB_TRY(make_excl(tun, ifr, names.next(), "cannot create tap (TUNSETIFF)"))) return true;
    return false;
}

// Gives the tap just made to root, then attaches our other fds to it as
// its other queues.
Result<void> own_and_attach(Tap& tap, std::vector<UniqueFd>& tuns, ifreq& ifr) {
    // Owner first: from here on only CAP_NET_ADMIN may join the device, so
    // a queue fd attached below can only ever join this very device, which
    // our first fd keeps alive (its name cannot go to another tap meanwhile).
    UB_TRYV(give_tap(tap, 0));
    for (std::size_t i = 1; i < tuns.size(); ++i) {
        // ifr holds the device's name and its flags (never IFF_TUN_EXCL:
        // these fds must join this very device).
        UB_TRYV(system::ioctl(tuns[i].get(), TUNSETIFF, &ifr,
                              "cannot attach queue " + std::to_string(i) + " to " + tap.name + " (TUNSETIFF)"));
        tap.queues.push_back(std::move(tuns[i]));
    }
    return Ok{};
}

// A multiqueue tap is ours alone, or deleted. Until TUNSETOWNER it had no
// owner, and anyone could attach a queue to it (tun_not_capable passes with
// neither owner nor group); from then on only the owner's uid or
// CAP_NET_ADMIN can, so what the kernel reports after it holds for good: a
// queue that is not ours, an owner or a group we did not set, each means
// another process held a queue. Then, or when `built` failed (which an
// intruder can cause: its queues count against the kernel's 256), the tap
// is deleted: closing our fds would leave it alive in the other process's
// hands, while RTM_DELLINK unregisters it and detaches every queue.
Result<void> ours_alone_or_deleted(Rtnl& rtnl, const Tap& tap, uid_t owner, Result<void> built) {
    Result<LinkInfo> link = rtnl.get_link(tap.name);
    std::string why = link.ok() ? intrusion(*link, tap.queues.size(), owner)
                                : "cannot count the queues of " + tap.name + ": " + link.error().message();
    if (!built.ok())
        why = link.ok() && !why.empty() ? why + " (" + built.error().message() + ")"
                                        : built.error().message();
    if (why.empty()) return Ok{};
    // Our first fd keeps the tap, and so its name, until we return.
    Result<int> ifindex = rtnl.ifindex(tap.name);
    Result<void> gone = ifindex.ok() ? rtnl.delete_link(*ifindex) : Result<void>(ifindex.error());
    if (!gone.ok()) return Error::msg(why + "; and " + tap.name + " could not be deleted: " +
                                      gone.error().message());
    return Error::msg(why + "; " + tap.name + " was deleted");
}

// What a process that held a queue before TUNSETOWNER, and closed it
// before we counted, may have left: every setting of the whole device that
// any queue's holder may change (drivers/net/tun.c, __tun_chr_ioctl) and
// rtnetlink does not report, put back as a new tap has it. (Its MAC, which
// rtnetlink reports, make_bridged_tap replaces; its owner and group, which
// it reports too, intrusion() judges. A BPF filter of the device's own,
// TUNSETFILTEREBPF, needs CAP_NET_ADMIN.) From TUNSETOWNER on only the
// owner's uid can join the tap (tun_not_capable()): root's, then, from
// give_tap, the grantee's, who may change its own tap anyway; no third
// party can, so what is put back here stays so against anyone else.
Result<void> undo_departed(const Tap& tap) {
    auto reset = [&](unsigned long request, auto arg, const char* what) {
        return system::ioctl(tap.fd(), request, arg, "cannot reset " + tap.name + "'s " + what);
    };
    sock_fprog none{};
    tun_filter no_addresses{0, 0};
    // sndbuf: INT_MAX; vnet header: sizeof(struct virtio_net_hdr); as a
    // new tap starts.
    int no_program = -1, sndbuf = INT_MAX, hdr = 10, off = 0;
    UB_TRYV(reset(TUNDETACHFILTER, &none, "socket filter (TUNDETACHFILTER)"));
    UB_TRYV(reset(TUNSETTXFILTER, &no_addresses, "receive filter (TUNSETTXFILTER)"));
    UB_TRYV(reset(TUNSETSTEERINGEBPF, &no_program, "steering program (TUNSETSTEERINGEBPF)"));
    UB_TRYV(reset(TUNSETSNDBUF, &sndbuf, "send buffer (TUNSETSNDBUF)"));
    UB_TRYV(reset(TUNSETVNETHDRSZ, &hdr, "vnet header size (TUNSETVNETHDRSZ)"));
    UB_TRYV(reset(TUNSETVNETLE, &off, "vnet byte order (TUNSETVNETLE)"));
    // EINVAL: a kernel without CONFIG_TUN_VNET_CROSS_LE, where it cannot be set.
    if (Result<void> r = reset(TUNSETVNETBE, &off, "vnet byte order (TUNSETVNETBE)");
        !r.ok() && r.error().code() != EINVAL)
        return r;
    UB_TRYV(reset(TUNSETPERSIST, 0UL, "persistence (TUNSETPERSIST)"));
    // None, as a new tap starts (its VM's QEMU sets its own).
    return reset(TUNSETOFFLOAD, 0UL, "offloads (TUNSETOFFLOAD)");
}

}  // namespace

Result<UniqueFd> open_tun() {
    return system::open("/dev/net/tun", O_RDWR | O_CLOEXEC, "cannot open /dev/net/tun");
}

std::string TapNames::next() {
    std::string name = "tap" + std::to_string(next_);
    next_ = (next_ + 1) % kWrap;
    return name;
}

std::string intrusion(const LinkInfo& link, std::size_t ours, uid_t owner) {
    if (link.tun_num_queues < 0 || link.tun_num_disabled < 0)
        return "the kernel does not report the queues of " + link.name;
    // Disabled queues (TUNSETQUEUE IFF_DETACH_QUEUE) are still held.
    long long queues = static_cast<long long>(link.tun_num_queues) + link.tun_num_disabled;
    long long foreign = queues - static_cast<long long>(ours);
    if (foreign > 0)
        return "another process holds " + std::to_string(foreign) + " queue(s) of " + link.name +
               ", joined before its owner was set";
    if (foreign < 0)
        return link.name + " has " + std::to_string(queues) + " queue(s), not our " +
               std::to_string(ours);
    // We set neither to anything but `owner` and none: only a holder of a
    // queue can (TUNSETOWNER and TUNSETGROUP need no privilege), so another
    // process held one and left these behind.
    if (link.tun_owner != static_cast<long long>(owner))
        return "another process held a queue of " + link.name + " and made uid " +
               std::to_string(link.tun_owner) + " its owner";
    if (link.tun_group >= 0)
        return "another process held a queue of " + link.name + " and gave it group " +
               std::to_string(link.tun_group);
    return {};
}

Result<void> give_tap(const Tap& tap, uid_t owner) {
    if (tap.queues.empty()) return Ok{};  // a veth pair's host end (net/veth.h): no tun device
    return system::ioctl(tap.fd(), TUNSETOWNER, 0UL + owner, "cannot give " + tap.name + " its owner (TUNSETOWNER)");
}

Result<Tap> create_tap(Rtnl& rtnl, std::vector<UniqueFd> tuns, VnetHdr vnet, TapNames* names, StepHook hook,
                       const std::string& fixed) {
    if (tuns.empty()) return Error::msg("cannot create tap: no tun fd");
    unsigned features = 0;
    UB_TRYV(system::ioctl(tuns.front().get(), TUNGETFEATURES, &features, "cannot query tun features (TUNGETFEATURES)"));
    bool multi = tuns.size() > 1;
    if (multi && !(features & IFF_MULTI_QUEUE))
        return Error::msg("cannot create a multiqueue tap: the kernel has no IFF_MULTI_QUEUE");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    bool vnet_hdr = vnet == VnetHdr::IfSupported && (features & IFF_VNET_HDR);
    if (vnet_hdr) ifr.ifr_flags |= IFF_VNET_HDR;
    if (multi) ifr.ifr_flags |= IFF_MULTI_QUEUE;
    // Without names, or with all of kMaxTries in use, the kernel picks, as
    // for QEMU's helper: the lowest free tap%d.
    if (!fixed.empty()) {
        if (!UB_TRY(make_excl(tuns.front(), ifr, fixed, "cannot create tap " + fixed + " (TUNSETIFF)")))
            return Error::msg("an interface named " + fixed + " exists already");
    } else if (!names || !UB_TRY(set_iff_named(tuns.front(), ifr, *names))) {
        std::strncpy(ifr.ifr_name, "tap%d", IFNAMSIZ - 1);
        UB_TRYV(system::ioctl(tuns.front().get(), TUNSETIFF, &ifr, "cannot create tap (TUNSETIFF)"));
    }

    Tap tap{{}, std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)), vnet_hdr};
    tap.queues.push_back(std::move(tuns.front()));
    Result<void> built = multi && hook ? hook("before-owner") : Result<void>(Ok{});
    if (built.ok()) built = own_and_attach(tap, tuns, ifr);
    // A single-queue tap cannot be joined at all while our fd is open: the
    // TUNSETIFF that made it attached that fd, and tun_attach refuses a
    // second queue to a single-queue tap (EBUSY). It needs no check, nor
    // its round trip; root's, it stays closed to others once persistent (a
    // lease whose making stopped half-way) too.
    if (!multi) return built.ok() ? Result<Tap>(std::move(tap)) : Result<Tap>(built.error());
    UB_TRYV(ours_alone_or_deleted(rtnl, tap, 0, std::move(built)));
    UB_TRYV(undo_departed(tap));
    return tap;
}

}  // namespace ub::net
