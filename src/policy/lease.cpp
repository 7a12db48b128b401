#include "policy/lease.h"
#include "policy/daemon_options.h"

namespace ub::policy {

std::string format_duration(std::uint32_t seconds) {
    for (const DurationUnit& u : kDurationUnits)
        if (seconds % u.seconds == 0) return std::to_string(seconds / u.seconds) + u.name;
    return std::to_string(seconds) + "s";
}

std::variant<std::uint32_t, Refusal> lease_length(const Decision& d, std::uint32_t asked, ChecksumGuard guard) {
    std::uint32_t most = d.limits().lease_max;
    std::string rule = d.deciding ? where(*d.deciding) : std::string("the ACL");
    if (most == 0) return Refusal{Refused::Acl, rule + " gives no leases (it has no lease=)"};
    // A lease is opened by name, and the kernel takes a persistent tap's
    // flags from its opener (tun_set_iff): its VMM may ask for a virtio-net
    // header, with which the guest has the kernel write a checksum into
    // what the pin judged (docs/SECURITY.md, review items 24-5, 24-6). The
    // exact checksum guard on the port holds whatever its opener asks.
    if (d.limits().mac.mode != MacPolicy::None && guard != ChecksumGuard::Exact)
        return Refusal{Refused::Acl, rule + " pins a MAC, and userbridged could not load the checksum guard " +
                                         "that holds a pin whatever a lease's opener asks (its log says " +
                                         "why): it gives taps, not leases"};
    if (asked > most)
        return Refusal{Refused::Acl, "asked for a lease of " + format_duration(asked) + "; " + rule +
                                         " gives at most " + format_duration(most)};
    return asked == 0 ? most : asked;
}

}  // namespace ub::policy
