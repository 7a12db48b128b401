// The unprivileged clients (userbridge-client, userbridge-lxc-user-nic,
// userbridge) need no privilege, and must not run with any their caller
// lacks.
#pragma once

namespace ub::client {

// Made setuid or given file capabilities (a `chmod u+s` or statoverride on
// QEMU's or LXC's default path follows a link to us, or a copy over a
// setuid original keeps its mode), a client would connect as the file's
// owner, and userbridged, which takes the caller from SO_PEERCRED, would
// decide for that owner, not for whoever ran it; and it could open what its
// caller cannot, such as another process's network namespace. True, having
// said so on stderr as `program`, when the kernel says so (AT_SECURE).
bool refuse_privilege(const char* program);

}  // namespace ub::client
