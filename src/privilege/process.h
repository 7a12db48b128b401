// Process hygiene and privilege for a program that may run setuid root or
// with file capabilities on behalf of an untrusted caller.
//
// Stages, in the order main() runs them:
//   sanitize_process()  should: make fds 0-2 valid, empty the environment,
//                       set umask 077, ignore SIGPIPE and SIGXFSZ, unblock
//                       signals, cd /.
//                       must not: read anything the caller controls.
//   close_fds_except()  should: close every inherited fd but stdio and the
//                       one the caller named. must not: keep a directory fd,
//                       a socket or a tty the caller slipped us.
//   privilege_mode()    should: say how we were given privilege (setuid,
//                       root, file capabilities), before the drop.
//                       must not: accept a setuid to another user, or
//                       running with no privilege at all.
//   drop_privileges()   should: become the caller (the real uid/gid, which
//                       exec left the caller's, keeping the caller's
//                       supplementary groups, which they already own), keep only CAP_NET_ADMIN and that in the
//                       permitted set alone (the act stage makes it
//                       effective: drop.h), clear the bounding and ambient
//                       sets, set no-new-privs and non-dumpable; verified.
//                       must not: keep any other capability, or root's uid,
//                       which would let DAC let us read files the caller
//                       could not (the ACL's include rule depends on that).
#pragma once

#include "base/result.h"

namespace ub::privilege {

enum class Mode {
    SetuidRoot,  // euid 0, caller's real uid is not
    Root,        // run by root itself
    FileCaps,    // cap_net_admin in the permitted set, euid == ruid
};

Result<void> sanitize_process();
Result<void> close_fds_except(int keep);

// How we were given privilege; who called us is our real uid and gid (the
// one caller type is grant::Caller). Errors say how to install the helper
// when there is no privilege to use at all.
Result<Mode> privilege_mode();

Result<void> drop_privileges();

const char* mode_name(Mode mode);

}  // namespace ub::privilege
