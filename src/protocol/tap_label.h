// The label a granted tap carries as its interface alias (IFLA_IFALIAS):
//   userbridge uid=4711 vm=web mac=52:54:00:12:34:56 queues=2 port=fe:12:34:56:78:9a
// and a lease's (a persistent tap, made for a VMM that opens it by name):
//   userbridge uid=4711 queues=1 port=fe:12:34:56:78:9a lease=1767225600 [held=conn]
// lease= is when it expires (seconds since the epoch: it outlives the
// daemon); held=conn: it ends sooner, when the connection that asked for it
// closes, and so at the daemon's restart.
// Only a holder of CAP_NET_ADMIN can set an alias, so a client may read the
// guest MAC the policy chose from it, `userbridge status` can say which VM
// holds which tap, and quotas are counted by its uid: the fd holder can
// change the tap's owner (TUNSETOWNER), never its label. `port` is the MAC
// the tap itself was given, set in the same RTM_NEWLINK as the label, so a
// label never names a port MAC the tap did not have. When the tap dies, so
// does the label. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "base/mac.h"

namespace ub::protocol {

struct TapLabel {
    uid_t uid = 0;
    std::string vm;                           // may be empty
    std::optional<Mac> mac;      // the guest MAC, when policy sets one
    int queues = 1;
    std::optional<Mac> port;     // the tap's own MAC; absent in older labels
    std::optional<long long> lease{};  // a lease: when it expires (epoch seconds)
    bool held = false;               // a lease tied to a connection
    bool operator==(const TapLabel&) const = default;
};

std::string format_label(const TapLabel& label);
// nullopt for any alias that is not exactly one of ours. In
// tap_label_parse.cpp: the helper, which reads no label, links none of it.
std::optional<TapLabel> parse_label(std::string_view alias);

}  // namespace ub::protocol
