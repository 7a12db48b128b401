// Whose network namespace a caller's fd is: the check behind a veth grant
// (net/veth.h). Decided on the fd the caller sent (SCM_RIGHTS), never on a
// path: setuid lxc-user-nic's CVEs came from trusting what a caller names
// (CVE-2017-5985: a veth moved into the namespace of any PID, whether the
// caller owned it or not; CVE-2018-6556: a path the caller named opened as
// root). A path names whatever is there when it is opened, and a PID may be
// another process by then; an fd is one namespace for its lifetime, opened
// by the caller with their own rights, and the kernel answers for it:
//  - NS_GET_NSTYPE: it is a network namespace (not a file, not another kind);
//  - NS_GET_USERNS, then NS_GET_OWNER_UID on that: the uid that made the
//    user namespace owning it, as our user namespace sees it;
//  - NS_GET_PARENT up to the user namespace right under ours: the uid that
//    made that one is the caller's too (or its account's), as the kernel
//    asks of a process in our user namespace before it has rights in it
//    (a caller in a namespace below ours, which a socket does not show,
//    is taken for its account: docs/SECURITY.md, item 35-2);
//  - it is not our own (the host's) network namespace, which init's user
//    namespace, owned by uid 0, owns: root's callers would pass otherwise.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "daemon/subids.h"

namespace ub::daemon {

// A namespace's identity: the nsfs inode (and its device).
struct NsId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool operator==(const NsId&) const = default;
};

// The daemon's own network namespace, from /proc/self/ns/net.
Result<NsId> own_netns();

// Whether a namespace whose user namespace `owner` made may take a veth of
// `caller`'s: their own, or one a subordinate uid of theirs made (subuid(5):
// the uids newuidmap maps for them, root of their LXC containers; an
// account already holds these, and its quota counts them). Not the other
// way: a subordinate uid cannot reach its owner's namespaces. Pure.
bool may_use_netns(uid_t owner, uid_t caller, const SubUids& subuids);

// Why `fd` is not a network namespace `caller` may use (may_use_netns), or
// is the daemon's own (`host`); empty when it may be used.
std::string netns_refusal(int fd, uid_t caller, const SubUids& subuids, const NsId& host);

}  // namespace ub::daemon
