// `userbridge lease` and `userbridge release`: a persistent tap on a bridge,
// owned by the caller, for a VMM that opens a tap by its name (Firecracker
// takes a name, never an fd). userbridged alone makes, watches and ends
// leases (daemon/server.cpp); nothing here is privileged.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "protocol/request.h"

namespace ub::cli {

struct LeaseArgs {
    protocol::Request req;             // kind Lease
    std::vector<std::string> command;  // after "--": the lease is tied to it
};

// Pure: the command line after "lease".
Result<LeaseArgs> parse_lease_args(const std::vector<std::string>& argv);
std::string lease_usage();

// Each returns the process exit status.
int cmd_lease(const std::vector<std::string>& argv);
int cmd_release(const std::vector<std::string>& argv);

}  // namespace ub::cli
