// `userbridge netns`: a veth pair between a bridge and a network namespace
// the caller owns (an `unshare -rn` shell, a rootless podman container, an
// LXC container), through userbridged. The namespace is opened here, as the
// caller, with the caller's rights (the kernel's ptrace check on
// /proc/PID/ns/net), and only its fd goes to the daemon, which checks whose
// it is on that fd (daemon/netns.h).
#pragma once

#include <string>
#include <vector>

namespace ub::cli {

int cmd_netns(const std::vector<std::string>& argv, const std::string& socket);
std::string netns_usage();

}  // namespace ub::cli
