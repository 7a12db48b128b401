// Fault injection for the test-only builds (userbridge-helper-faulty and
// userbridged-faulty, never installed). In the real programs every call here
// compiles to nothing.
//
// The faulty build reads UB_FAULT=ACTION@POINT before the environment is
// emptied. At POINT, ACTION happens:
//   fail     the stage returns an error, as a real failure there would
//   fail-once  the same, the first time only (a retry then succeeds)
//   kill     the helper sends itself SIGKILL
//   pause    the helper sleeps 2 s (for races and signals from a test)
//   exec     execve("/bin/true"): under either seccomp profile that must
//            kill the process (the daemon's profile allows open, not exec)
//   syscall  the helper attempts open("/etc/hostname"): under seccomp that
//            must kill it
// Points: after-acl-open, after-seccomp, after-create, after-setup,
// after-no-ipv6, after-attach, after-owner (the tap given to its caller),
// after-up, before-send, after-send (a routed tap's after-routes; and the
// daemon's peer-groups, before-close, after-bind for its own socket, and
// fs-restore (taking its own identity back after opening the ACL as the
// caller); the daemon's, with a quota or pinned MAC,
// after-quota, after-pin; end-lease, deleting a lease's tap;
// for a multiqueue tap, before-owner). In the daemon, a kill takes the
// daemon down mid-request, as a crash would.
#pragma once

#include "base/result.h"

namespace ub::fault {

#ifdef UB_FAULT_INJECTION
void init();
Result<void> at(const char* point);
void at_void(const char* point);  // for points that cannot fail
#else
inline void init() {}
inline Result<void> at(const char*) { return Ok{}; }
inline void at_void(const char*) {}
#endif

}  // namespace ub::fault
