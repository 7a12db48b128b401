// The helper's command line, exactly QEMU's: [--use-vnet] --br=BRIDGE --fd=N
// in any order, plus --help and --version, and two extensions QEMU never
// passes: --queues=N (a multiqueue tap, N fds sent) and --vm=NAME (names the
// VM in logs and in the derived MAC). Parsing is pure and total: any argv
// yields either Args or an Error naming the offending argument.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace ub::helper {

enum class Action { Run, Help, Version };

struct Args {
    Action action = Action::Run;
    bool use_vnet = false;
    std::string bridge;
    int fd = -1;
    int queues = 1;
    std::string vm_name;
};

inline constexpr std::size_t kMaxArgs = 8;

// `argv` without argv[0], which a caller controls and we never trust.
Result<Args> parse_args(const std::vector<std::string>& argv);

// Strict decimal fd: digits only, no sign or spaces, 3 to INT_MAX.
Result<int> parse_fd(const std::string& text);

std::string usage();

}  // namespace ub::helper
