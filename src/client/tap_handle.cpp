#include "client/tap_handle.h"

#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cstring>

namespace ub::client {

Result<TapHandle> hold_tap_fds(std::vector<UniqueFd> fds, const std::string& sender) {
    if (fds.empty()) return Error::msg("no tap fd received");
    TapHandle t;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        ifreq ifr{};
        if (ioctl(fds[i].get(), TUNGETIFF, &ifr) != 0)
            return Error::msg(sender + " sent an fd that is not a tap device");
        if (!(ifr.ifr_flags & IFF_TAP)) return Error::msg(sender + " sent a tun device, not a tap");
        std::string name(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
        if (i == 0) {
            t.ifname = name;
            t.vnet_hdr = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
        } else if (name != t.ifname || !(ifr.ifr_flags & IFF_MULTI_QUEUE)) {
            return Error::msg("the fds sent are not queues of one multiqueue tap");
        }
    }
    t.fd = std::move(fds[0]);
    for (std::size_t i = 1; i < fds.size(); ++i) t.extra.push_back(std::move(fds[i]));
    return t;
}

Mac guest_mac(const Mac& tap_mac) {
    Mac mac = tap_mac;
    mac[0] = 0x52;
    return mac;
}

}  // namespace ub::client
