// A QEMU bridge helper's command line (ours, and userbridge-client's),
// exactly QEMU's: [--use-vnet] --br=BRIDGE --fd=N
// in any order, plus --help and --version, and two extensions QEMU never
// passes: --queues=N (a multiqueue tap, N fds sent) and --vm=NAME (names the
// VM in logs and in the derived MAC). Parsing is pure and total: any argv
// yields either Args or an Error naming the offending argument.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "protocol/request.h"

namespace ub::protocol {

enum class HelperAction { Run, Help, Version };

struct HelperArgs {
    HelperAction action = HelperAction::Run;
    int fd = -1;
    // --use-vnet, --br=, --queues=, --vm=: the one request type, as
    // userbridged's wire carries it too.
    Request tap;  // vnet_hdr off unless --use-vnet (parse_helper_args)
};

inline constexpr std::size_t kMaxHelperArgs = 8;

// `argv` without argv[0], which a caller controls and we never trust.
Result<HelperArgs> parse_helper_args(const std::vector<std::string>& argv);

// main()'s argc/argv, argv[0] left out. Copies at most one word more than
// the limit, which is enough for parse_helper_args to refuse a huge argv.
Result<HelperArgs> parse_helper_argv(int argc, char** argv);

// Strict decimal fd: digits only, no sign or spaces, 3 to INT_MAX.
Result<int> parse_fd(const std::string& text);

std::string helper_usage();

}  // namespace ub::protocol
