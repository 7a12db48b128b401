// One request, decided and acted on: the daemon's front end of the grant
// engine (grant/grant.h), which the helper calls too. This adapter gives it
// what only the daemon has: the kernel's answer to which ACL files the
// caller may read, polkit's answer, the fds it keeps between grants; and
// turns the engine's outcome into a reply. The caller is who SO_PEERCRED
// says, never what the request says.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "daemon/subids.h"
#include "base/fd.h"
#include "daemon/announce.h"
#include "daemon/filters.h"
#include "daemon/macvtaps.h"
#include "daemon/polkit.h"
#include "grant/grant.h"
#include "net/bridge_port.h"
#include "net/live_taps.h"
#include "net/rtnl.h"
#include "net/tap.h"
#include "policy/daemon_options.h"
#include "policy/loader.h"
#include "policy/mac_key.h"
#include "protocol/wire.h"

namespace ub::daemon {

struct Outcome {
    protocol::Reply reply;
    std::vector<UniqueFd> queues;  // the tap's fds, when granted
    int ifindex = 0;               // the tap's, when granted
    // The tap's deletion unless it is delivered (net::TapUndo); committed,
    // its rtnetlink socket is SpareFds::rtnl.
    net::TapUndo undo;
    audit::AuditRecord record;
    // The engine's verdict. AskPolkit: an auth=polkit rule decides and
    // polkit has not answered yet: nothing was made; the same request is
    // handled again with polkit's answer.
    grant::Verdict verdict = grant::Verdict::Failed;
    // A lease (granted or not): no fds go out, the tap stays (persistent);
    // tied: the daemon keeps the connection and ends the lease with it.
    bool lease = false;
    bool tied = false;
};

// What the daemon keeps open from one grant to the next, so that a grant
// does not make it (docs/PERFORMANCE.md): an rtnetlink socket, kept
// only after a grant that succeeded (a failed one may leave a reply unread
// that the next grant would take for its own), and one /dev/net/tun fd,
// opened again once the client has its reply (refill_tun).
struct SpareFds {
    std::optional<net::Rtnl> rtnl;
    UniqueFd tun;
};
void refill_tun(SpareFds& spare);

// What the daemon holds ready for every grant; the server owns each.
struct Means {
    const policy::Policy* policy = nullptr;
    const Result<policy::MacKey>* mac_key = nullptr;  // for mac-prefix= rules, or why there is none
    const SubUids* subuids = nullptr;  // quotas count a subordinate uid's taps as its owner's
    SpareFds* spare = nullptr;
    // For rules that filter the tap's traffic (policy::needs_filter);
    // without libnftables such a grant fails with a clear error.
    Filters* filters = nullptr;
    // Where a granted tap's pinned guest MAC, and its rule's ip= addresses,
    // are made known to the bridge (announce.h); null: nowhere.
    Announcer* announcer = nullptr;
    net::TapNames* names = nullptr;  // the daemon's tap names (net::TapNames); null: the kernel picks
    Macvtaps* macvtaps = nullptr;    // opens and watches mode=macvtap grants' fds; null: they fail
    // The host's live taps for the quota and guest-MAC checks
    // (net::LiveRules::live): the server's index, brought up to date.
    std::function<Result<const net::LiveLinks*>(net::Rtnl&)> live_links;
    // The bridges, by ifindex, told to learn from no link-local frame
    // (a pinned tap's, docs/SECURITY.md review item 22-1).
    std::set<int>* linklocal_off = nullptr;
};

// What one request brings beyond the wire request: polkit's answer, once
// it came (see Outcome), and for a veth request (req.netns_peer) its
// namespace fd, checked already (daemon/netns.h), and the host end names'
// counter.
struct VethTarget {
    int netns_fd = -1;
    unsigned* serial = nullptr;
};
struct Asked {
    const grant::Caller& who;
    const protocol::Request& req;
    const PolkitAnswer* polkit = nullptr;
    VethTarget veth{};
};

// The record's user is "?": the server fills it in (UserDb::ask_name).
// Never waits for anything a user can hold.
Outcome handle(const Means& means, const Asked& asked);

// Which of the policy's files `who` would have read, asked of the kernel
// with their filesystem identity on (fs_identity.h), as a request's grant
// asks it.
Result<policy::Readable> readable_by(const policy::Policy& policy, const policy::Credentials& who);

}  // namespace ub::daemon
