// The grant engine: one request decided by the policy and, when allowed,
// acted on. The helper (helper/main.cpp) and userbridged (daemon/grant.cpp)
// are front ends around grant(): each establishes who asks and what it may
// use, then calls it, so that the daemon decides exactly as the helper
// does by construction. What the front ends still do differently is what
// they are given, named in Resources: the helper reads the ACL as the caller;
// the daemon asks the kernel what the caller may read (and what their
// account's groups in the group database let them read), asks polkit, counts
// quotas and guest MACs (Resources::live_checks), and makes what only it
// makes (routed taps, macvtaps, veth pairs, leases: Resources::make) under
// the rules the engine refuses the helper.
//
// Should: decide (policy::decide, polkit's answer, the queue limit, the
// guest MAC), begin the front end's live-tap checks (when the deciding
// rule sets max-taps= or pins a MAC), make, label, check and attach the tap
// (net/bridge_port.h), and say what happened in one audit record.
// Must not: open anything the front end did not give it beyond tun fds;
// print; exit; look up names (the record's user is the front end's to
// fill in).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "base/fd.h"
#include "base/result.h"
#include "net/bridge_port.h"
#include "net/rtnl.h"
#include "net/tap.h"
#include "policy/acl.h"
#include "policy/loader.h"
#include "protocol/request.h"

namespace ub::grant {

// Which program asks the engine: the record's via=, and what it can do
// (only the daemon asks polkit and sets traffic filters). Not the public
// userbridge::Via (client/request.h), a client's choice of who grants,
// which may be "whichever is there" (Auto): this is the one program that
// runs the engine, always one of two, and the helper includes no client API.
enum class Front { Helper, Daemon };

// Who asks, as the kernel reports them: never what a request says.
struct Caller {
    policy::Credentials ids;  // uid, gid, supplementary groups
    audit::RecordedPid pid;   // the helper's parent, or the daemon's peer
    uid_t account;            // whose quota they count against (daemon/subids.h)
    Front front;
    std::string user = "?";   // their name for the record, when known
};


// What the engine may use, established by the front end.
struct Resources {
    // Which of the policy's files count for the caller, as the kernel
    // answered with their filesystem identity (the daemon); null when the
    // front end loaded the policy as the caller (the helper), so that every
    // file it holds is one they could read.
    const policy::Readable* readable = nullptr;
    // The terms of the allowing decision `d` (userbridged's: policy::terms_of,
    // the guest MAC a mac= or mac-prefix= rule sets, derived with its MAC
    // key); null: the rule's limits alone, and a rule that sets a guest MAC
    // fails.
    std::function<Result<policy::Terms>(const policy::Decision& d)> terms;
    // The decision of an auth=polkit rule (`d`, not allowed yet) with
    // polkit's answer, what refused if it said no, and the answer in the
    // record (userbridged's, daemon/grant.cpp); false while polkit is still
    // to be asked. The engine asks it only for the daemon's requests.
    std::function<bool(policy::Decision& d, Refused& refused, audit::AuditRecord& rec)> polkit;
    // /dev/net/tun fds opened already, for the queues; the engine opens
    // what is missing.
    std::vector<UniqueFd> tuns;
    net::TapNames* names = nullptr;             // null: the kernel's tap%d
    net::StepHook hook = nullptr;               // fault injection (base/fault.h)
    // The act stage begins, once the request is allowed and before
    // anything is made: the front end sets the tap's filters (spec.guard,
    // spec.nft); the helper opens its rtnetlink socket and installs its
    // sandbox here.
    std::function<Result<void>(const policy::Terms&, net::TapSpec&)> begin_act;
    // userbridged's own refusals of a request the ACL allows, once its
    // queues are checked: a lease beyond the rule's lease=, a veth pair
    // under a rule of another mode. Null: every lease or veth request is
    // refused (NeedsDaemon); the helper's command line asks for neither.
    std::function<std::optional<Refusal>(const policy::Decision&)> daemon_check;
    // Then the live-tap checks begin (userbridged's, net/live_taps.h:
    // spec.check_live). Null: none, and a rule with max-taps= fails (the
    // helper, which refuses such a rule before: it is daemon-only).
    std::function<void(const policy::Terms&, net::TapSpec&)> live_checks;
    // The rtnetlink socket to act with; it may add tun fds it keeps ready
    // to spec.tuns.
    std::function<Result<net::Rtnl>(net::TapSpec&)> rtnl;
    // Given the grant's record just before the tap comes up (the helper's:
    // its caller may kill it at any moment after, and may have joined a
    // queue of the tap, so the record must already be out by the time the
    // tap carries anything). Null: the front end records the outcome.
    std::function<void(const audit::AuditRecord&)> record_before_up;
    // Makes the port: null, a tap on the bridge the request names
    // (net::make_bridged_tap); userbridged's makes a veth pair, a routed
    // tap, a macvtap or a lease where the request or the terms ask for one
    // (net/veth.h, net/routed.h, net/macvtap.h), which the helper never links.
    std::function<Result<net::Made>(net::Rtnl, net::TapSpec, const policy::Terms&)> make;
};

enum class Verdict {
    Granted,
    Denied,     // by policy: the record's event is "deny"
    Failed,     // something failed: "error"
    AskPolkit,  // an auth=polkit rule decides: ask, then call again with the answer
};

struct Outcome {
    Verdict verdict = Verdict::Failed;
    std::string message;                  // a refusal, for the caller; the grant's reason
    Refused refused = Refused::Acl;       // when denied: what refused
    // When granted: deleted when dropped, unless the front end commits it
    // (tap->undo.commit()) once its fds are handed over.
    std::optional<net::BridgedTap> tap;
    audit::AuditRecord record;
};

// The record for this request before anything is decided: an "error".
audit::AuditRecord record_for(const Caller& who, const protocol::Request& req);

Outcome grant(const Caller& who, const protocol::Request& req, const policy::Policy& policy, Resources res);

}  // namespace ub::grant
