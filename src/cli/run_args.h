// `userbridge run` arguments and placeholder substitution: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/request.h"
#include "protocol/wire.h"

namespace ub::cli {

// One --nic: the tap asked for (its vm_name empty: from --vm).
using NicSpec = protocol::Request;
using client::Via;

struct RunArgs {
    // --helper alone means that helper; --via decides when given.
    Via via = Via::Auto;
    std::string helper;
    std::chrono::milliseconds timeout{10000};
    bool ask = false;  // --ask: polkit may prompt
    std::string vm_name;  // --vm; NIC n > 0 gets NAME.n unless it names its own
    std::vector<NicSpec> nics;
    std::vector<std::string> command;
};

// `argv` is what follows "run". `default_helper` is the installed helper.
Result<RunArgs> parse_run_args(const std::vector<std::string>& argv,
                               const std::string& default_helper);

// Parses "br=br1,vnet_hdr=off,queues=4,vm=web" onto `nic`.
Result<void> parse_nic(const std::string& text, NicSpec& nic);

// What the command's arguments may refer to, per NIC.
struct NicValues {
    int fd;
    std::string ifname;
    std::string guest_mac;
    std::string tap_mac;
    unsigned mtu;
    std::string fds;  // every queue's fd, colon-separated, as QEMU's fds= wants
    int queues = 1;
};

// Replaces {fd} {fds} {queues} {ifname} {mac} {tapmac} {mtu} (first NIC) and
// {fdN} {fdsN} {queuesN} {ifnameN} {macN} {tapmacN} {mtuN}. Other text in braces is left alone, so shell and JSON arguments
// pass through; a known name with a NIC index that does not exist is an error.
Result<std::string> substitute(const std::string& arg, const std::vector<NicValues>& nics);

std::string run_usage();

}  // namespace ub::cli
