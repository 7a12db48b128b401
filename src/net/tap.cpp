#include "net/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cstring>

namespace ub::net {

namespace {

Result<unsigned> tun_features(const UniqueFd& fd) {
    unsigned features = 0;
    if (ioctl(fd.get(), TUNGETFEATURES, &features) != 0)
        return Error::sys("cannot query tun features (TUNGETFEATURES)");
    return features;
}

}  // namespace

Result<UniqueFd> open_tun() {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return Error::sys("cannot open /dev/net/tun");
    return fd;
}

Result<Tap> create_tap(UniqueFd fd, VnetHdr vnet, uid_t owner) {
    unsigned features = UB_TRY(tun_features(fd));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    bool vnet_hdr = vnet == VnetHdr::IfSupported && (features & IFF_VNET_HDR);
    if (vnet_hdr) ifr.ifr_flags |= IFF_VNET_HDR;
    // QEMU's helper names its taps tap%d; tools and admins expect that.
    std::strncpy(ifr.ifr_name, "tap%d", IFNAMSIZ - 1);
    if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return Error::sys("cannot create tap (TUNSETIFF)");

    Tap tap{std::move(fd), std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)), vnet_hdr};
    if (ioctl(tap.fd.get(), TUNSETOWNER, static_cast<unsigned long>(owner)) != 0)
        return Error::sys("cannot set owner of " + tap.name + " (TUNSETOWNER)");
    return tap;
}

}  // namespace ub::net
