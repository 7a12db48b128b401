#include "protocol/helper_args.h"

#include <algorithm>
#include <climits>

#include "base/number.h"
#include "base/names.h"

namespace ub::protocol {


Result<int> parse_fd(const std::string& text) {
    if (text.empty()) return Error::msg("--fd needs a number");
    if (text.find_first_not_of("0123456789") != std::string::npos)
        return Error::msg("--fd=" + printable(text) + " is not a decimal number");
    auto v = parse_decimal(text, INT_MAX);
    if (!v) return Error::msg("--fd=" + printable(text) + " is too large");
    if (*v < 3)
        return Error::msg("--fd=" + text + " names a standard stream; pass a socket fd of 3 or more");
    return static_cast<int>(*v);
}

Result<HelperArgs> parse_helper_args(const std::vector<std::string>& argv) {
    if (argv.size() > kMaxHelperArgs) return Error::msg("too many arguments");
    HelperArgs a;
    a.tap.vnet_hdr = false;  // QEMU passes --use-vnet when it wants it
    std::vector<std::string> given;  // the --KEY=VALUE options seen
    for (const std::string& arg : argv) {
        std::size_t eq = arg.find('=');
        std::string key = arg.substr(0, eq);
        std::string rest = eq == std::string::npos ? "" : arg.substr(eq + 1);
        bool valued = eq != std::string::npos && (key == "--br" || key == "--fd" || key == "--queues" || key == "--vm");
        if (valued && std::find(given.begin(), given.end(), key) != given.end())
            return Error::msg(key + " given more than once");
        if (valued) given.push_back(key);
        if (arg == "--help" || arg == "-h") {
            a.action = HelperAction::Help;
            return a;
        } else if (arg == "--version") {
            a.action = HelperAction::Version;
            return a;
        } else if (arg == "--use-vnet") {
            a.tap.vnet_hdr = true;
        } else if (valued && key == "--br") {
            if (std::string why = ifname_problem(rest); !why.empty())
                return Error::msg("bridge name '" + printable(rest) + "' " + why);
            a.tap.bridge = rest;
        } else if (valued && key == "--fd") {
            a.fd = UB_TRY(parse_fd(rest));
        } else if (valued && key == "--queues") {
            auto n = parse_decimal(rest, kMaxQueues);
            if (!n || *n < 1)
                return Error::msg("--queues=" + printable(rest) + ": expected 1 to " +
                                  std::to_string(kMaxQueues));
            a.tap.queues = static_cast<std::uint16_t>(*n);
        } else if (valued && key == "--vm") {
            if (std::string why = vm_name_problem(rest); !why.empty())
                return Error::msg("VM name '" + printable(rest) + "' " + why);
            a.tap.vm_name = rest;
        } else {
            return Error::msg("unknown argument '" + printable(arg) + "'");
        }
    }
    if (a.tap.bridge.empty()) return Error::msg("missing --br=BRIDGE");
    if (a.fd < 0) return Error::msg("missing --fd=N");
    return a;
}

Result<HelperArgs> parse_helper_argv(int argc, char** argv) {
    std::vector<std::string> words;
    for (int i = 1; i < argc && argv[i] && words.size() <= kMaxHelperArgs; ++i) words.emplace_back(argv[i]);
    return parse_helper_args(words);
}

std::string helper_usage() {
    return "Usage: userbridge-helper [--use-vnet] [--queues=N] [--vm=NAME] --br=BRIDGE --fd=N\n"
           "\n"
           "Creates a tap device, attaches it to BRIDGE if the ACL file allows the\n"
           "caller to, and sends its fd over the unix socket N. Run by QEMU\n"
           "(-netdev bridge,helper=...) and libvirt, not usually by hand.\n"
           "\n"
           "  --use-vnet   enable IFF_VNET_HDR on the tap if the kernel supports it\n"
           "  --br=BRIDGE  the bridge to attach to\n"
           "  --fd=N       a connected unix stream socket to send the tap fd over\n"
           "  --queues=N   a multiqueue tap: N fds, one per queue (not QEMU's -netdev\n"
           "               bridge, which takes one; see userbridge(1))\n"
           "  --vm=NAME    the VM's name, for audit records and a MAC derived by the ACL\n"
           "  --help       show this help\n"
           "  --version    show the version\n"
           "\n"
           "See userbridge-helper(8) and userbridge-acl(5).\n";
}

}  // namespace ub::protocol
