// The label a granted tap carries as its interface alias (IFLA_IFALIAS):
//   userbridge uid=4711 vm=web mac=52:54:00:12:34:56 queues=2
// Only a holder of CAP_NET_ADMIN can set an alias, so a client may read the
// guest MAC the policy chose from it, and `userbridge status` can say which
// VM holds which tap; when the tap dies, so does the label. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "policy/acl.h"

namespace ub::protocol {

struct TapLabel {
    uid_t uid = 0;
    std::string vm;                           // may be empty
    std::optional<policy::MacBytes> mac;      // the guest MAC, when policy sets one
    int queues = 1;
};

std::string format_label(const TapLabel& label);
// nullopt for any alias that is not exactly one of ours.
std::optional<TapLabel> parse_label(std::string_view alias);

// A link as a dump of the host's taps shows it.
struct LinkLabel {
    int ifindex;
    std::string_view name;
    std::string_view alias;
};

// No two granted taps are pinned to one guest MAC: Ok unless a link other
// than `mine` carries `mac` in its label, else a denial naming that link.
// Only a holder of CAP_NET_ADMIN sets labels, so no caller can fake one.
Result<void> check_mac_unused(const std::vector<LinkLabel>& links, const policy::MacBytes& mac, int mine);

}  // namespace ub::protocol
