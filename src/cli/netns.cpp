#include "cli/netns.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>

#include "base/names.h"
#include "base/number.h"
#include "base/refusal.h"
#include "client/daemon_client.h"

namespace ub::cli {

namespace {

struct NetnsArgs {
    protocol::Request req;
    std::string path;  // --netns=PATH
    int fd = -1;       // --netns-fd=N
};

// Pure: the command line, checked.
Result<NetnsArgs> parse(const std::vector<std::string>& argv) {
    NetnsArgs a;
    a.req.netns_peer = "eth0";
    for (const std::string& arg : argv) {
        std::string::size_type eq = arg.find('=');
        std::string key = arg.substr(0, eq);
        std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
        if (arg == "--ask") a.req.interactive = true;
        else if (eq == std::string::npos) return Error::msg("unknown option " + arg);
        else if (key == "--br") a.req.bridge = value;
        else if (key == "--name") a.req.netns_peer = value;
        else if (key == "--vm") a.req.vm_name = value;
        else if (key == "--netns") a.path = value;
        else if (key == "--netns-fd") {
            auto n = parse_decimal(value, 1 << 20);
            if (!n) return Error::msg("--netns-fd=" + value + " is not an fd number");
            a.fd = static_cast<int>(*n);
        } else return Error::msg("unknown option " + arg);
    }
    if (a.req.bridge.empty()) return Error::msg("--br=BRIDGE is required");
    if ((a.path.empty()) == (a.fd < 0)) return Error::msg("give exactly one of --netns=PATH and --netns-fd=N");
    if (std::string why = ifname_problem(a.req.bridge); !why.empty())
        return Error::msg("bridge name '" + a.req.bridge + "' " + why);
    if (std::string why = ifname_problem(a.req.netns_peer); !why.empty())
        return Error::msg("--name='" + a.req.netns_peer + "' " + why);
    if (a.req.vm_name.size() > 47) return Error::msg("--vm= takes at most 47 characters with a veth pair");
    if (std::string why = vm_name_problem(a.req.vm_name); !why.empty())
        return Error::msg("--vm='" + a.req.vm_name + "' " + why);
    return a;
}

}  // namespace

std::string netns_usage() {
    return "Usage: userbridge netns --br=BRIDGE [--name=IFNAME] [--vm=NAME] [--ask]\n"
           "                        (--netns=PATH | --netns-fd=N)\n"
           "\n"
           "A veth pair between BRIDGE and a network namespace you own, through\n"
           "userbridged: its end there is IFNAME (default eth0), the other end joins\n"
           "BRIDGE under the ACL's rules for you, as a tap would. It goes when the\n"
           "namespace goes.\n"
           "  --netns=PATH   the namespace, e.g. /proc/PID/ns/net or a bind mount;\n"
           "                 opened by this command, as you\n"
           "  --netns-fd=N   the namespace as an fd this command inherits\n"
           "See userbridge(1).\n";
}

int cmd_netns(const std::vector<std::string>& argv, const std::string& socket) {
    Result<NetnsArgs> args = parse(argv);
    if (!args.ok()) {
        std::fprintf(stderr, "userbridge netns: %s\nTry 'userbridge netns --help'.\n", args.error().message().c_str());
        return 2;
    }
    // Only the daemon receives a namespace's fd: the helper makes taps alone.
    if (!client::daemon_socket_present(socket)) {
        std::fprintf(stderr, "userbridge netns: veth pairs need userbridged, and its socket %s is not there\n",
                     socket.c_str());
        return 1;
    }
    UniqueFd opened;
    int fd = args->fd;
    if (!args->path.empty()) {
        opened = UniqueFd(open(args->path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        if (!opened.valid()) {
            std::fprintf(stderr, "userbridge netns: cannot open %s: %m\n", args->path.c_str());
            return 1;
        }
        fd = opened.get();
    }
    Result<client::VethOpened> got = client::grant_veth_via_daemon(socket, args->req, fd, std::chrono::seconds(10));
    if (!got.ok()) {
        std::fprintf(stderr, "userbridge netns: %s\n", got.error().message().c_str());
        return 1;
    }
    if (const Refusal* no = std::get_if<Refusal>(&*got)) {
        std::fprintf(stderr, "userbridge netns: %s\n", no->reason.c_str());
        return exit_status(no->kind);
    }
    const client::Veth& v = std::get<client::Veth>(*got);
    std::printf("%s (ifindex %u in the namespace) <-> %s on %s, MTU %u\n", v.peer.c_str(), v.peer_ifindex,
                v.host.c_str(), args->req.bridge.c_str(), v.mtu);
    return 0;
}

}  // namespace ub::cli
