// The helper's last isolation stage: a syscall allow-list (libseccomp).
//
// Installed after the ACL is decided and the caller's name is looked up, just
// before the network work. From then on the process may only do what that
// work needs: rtnetlink and tun ioctls, hand-over over the caller's socket,
// syslog, memory management and exit. It may not open files, execute, fork,
// ptrace, change ids or capabilities, or create sockets other than unix ones
// (syslog's reconnect). Anything else kills the process,
// which the caller sees as a failed helper; the tap, if any, dies with it.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "base/result.h"

namespace ub::privilege {

enum class Profile {
    Helper,  // as above
    // userbridged's request loop: the helper's list plus what serving many
    // clients and re-reading the ACL need (accept, poll, open for the ACL
    // and /dev/net/tun), opening the ACL's files as the caller (setfsuid,
    // setfsgid, setgroups, capset to raise a permitted capability for it),
    // polkit's bus and journald's large records. No stat, readlink or
    // uname: user and group lookups run in the user database process
    // (daemon/userdb.h), which has no filter of ours. Still no exec, fork,
    // ptrace, mount, or change of the real and effective ids.
    // And libnftables' netfilter socket and its poll (traffic filters).
    Daemon,
};

// `extra`: syscall numbers to allow beyond the list; only the test build's
// fault injection (kill itself, sleep) passes any.
Result<void> install_seccomp(const std::vector<int>& extra = {}, Profile profile = Profile::Helper);

// The same filter as a BPF program, for seccomp-gen to compile into the
// helper at build time: libseccomp's rule-to-BPF translation would be a
// large part of the short-lived helper's run (docs/PERFORMANCE.md); the
// helper installs it with install_bpf() (install_bpf.h).
Result<std::vector<sock_filter>> export_seccomp(const std::vector<int>& extra, Profile profile);

}  // namespace ub::privilege
