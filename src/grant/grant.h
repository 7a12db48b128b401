// The grant engine: one request decided by the policy and, when allowed,
// acted on. The helper (helper/main.cpp) and userbridged (daemon/grant.cpp)
// are front ends around grant(): each establishes who asks and what it may
// use, then calls it, so that the daemon decides exactly as the helper
// does by construction. What the front ends still do differently is what
// they are given, named in Resources: the helper reads the ACL as the caller;
// the daemon asks the kernel what the caller may read, asks polkit, and
// counts quotas and guest MACs (Resources::live_checks).
//
// A mode=macvtap rule makes a macvtap on the named NIC instead
// (Resources::make_macvtap), for the daemon only: it alone makes the device's
// node, and deletes the macvtap when its fds are gone (daemon/macvtaps.h).
//
// Should: decide (policy::decide, polkit's answer, the queue limit, the
// guest MAC), begin the front end's live-tap checks (the quota lock when
// the deciding rule sets max-taps), make, label, check and attach the tap
// (net/bridge_port.h), and say what happened in one audit record.
// Must not: open anything the front end did not give it beyond tun fds;
// print; exit; look up names (the record's user is the front end's to
// fill in).
#pragma once

#include <sys/types.h>

#include <cstdint>
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

// polkit's answer to a request an auth=polkit rule decides (the daemon's).
struct PolkitAnswer {
    std::uint64_t id = 0;  // the question's, in the daemon's bus connection
    bool yes = false;
    std::string what;  // for the record: "yes", "no", "no: ..."; the client's error
    bool prompt = false;  // no, because it would ask for a password and might not
};

// What the engine may use, established by the front end.
struct Resources {
    // Which of the policy's files the caller could read, as the kernel
    // answered with their filesystem identity (the daemon); null when the
    // front end loaded the policy as the caller (the helper), so that every
    // file it holds is one they could read.
    const std::vector<bool>* readable = nullptr;
    // Makes the guest MAC a mac-prefix= rule derives (the daemon's, from
    // its MAC key); null: none is derived, and such a rule fails.
    policy::MacDeriver derive_mac;
    const PolkitAnswer* polkit = nullptr;             // once it came (daemon)
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
    // Then the live-tap checks begin (userbridged's, net/live_taps.h: the
    // caller's quota lock under a max-taps= rule, never waiting, and
    // spec.check_live): false when another request holds the lock
    // (Verdict::LockBusy). Null: none, and a rule with max-taps= fails
    // (the helper, which refuses such a rule before: it is daemon-only).
    std::function<Result<bool>(const policy::Terms&, net::TapSpec&)> live_checks;
    // A lease's refusal by the deciding rule, if any (userbridged's: the
    // lease= check; it then makes the tap a lease in begin_act); null: no
    // leases, as from the helper, which never makes one.
    std::function<std::optional<Refusal>(const policy::Decision&, std::uint32_t asked)> lease;
    // The rtnetlink socket to act with, once the quota lock is held; it may
    // add tun fds it keeps ready to spec.tuns.
    std::function<Result<net::Rtnl>(net::TapSpec&)> rtnl;
    // Given the grant's record just before the tap comes up (the helper's:
    // its caller may kill it at any moment after, and may have joined a
    // queue of the tap, so the record must already be out by the time the
    // tap carries anything). Null: the front end records the outcome.
    std::function<void(const audit::AuditRecord&)> record_before_up;
    // Makes the port: null, a tap (net::make_bridged_tap); userbridged's
    // veth requests make a veth pair (net/veth.h), which the helper never links.
    std::function<Result<net::Made>(net::Rtnl, net::TapSpec, const net::LinkInfo&)> make;
    // Makes a macvtap on the NIC `nic` for a mode=macvtap rule (the
    // daemon's, net/macvtap.h; the engine refuses such a rule to the
    // helper, which links no macvtap code).
    std::function<Result<net::Made>(net::Rtnl, net::TapSpec, const std::string& nic, int queues)> make_macvtap;
};

enum class Verdict {
    Granted,
    Denied,     // by policy: the record's event is "deny"
    Failed,     // something failed: "error"
    LockBusy,   // the quota lock is held: nothing was made; try again later
    AskPolkit,  // an auth=polkit rule decides: ask, then call again with the answer
};

struct Outcome {
    Verdict verdict = Verdict::Failed;
    std::string message;                  // a refusal, for the caller; the grant's reason
    Refused refused = Refused::Acl;       // when denied: what refused
    // When granted: deleted when dropped, unless the front end commits it
    // (tap->undo.commit()) once its fds are handed over.
    std::optional<net::BridgedTap> tap;
    std::optional<Mac> pinned_mac;  // when granted and the rule sets the guest MAC
    audit::AuditRecord record;
};

// The record for this request before anything is decided: an "error".
audit::AuditRecord record_for(const Caller& who, const protocol::Request& req);

Outcome grant(const Caller& who, const protocol::Request& req, const policy::Policy& policy, Resources res);

}  // namespace ub::grant
