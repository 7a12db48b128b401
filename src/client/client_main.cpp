// userbridge-client: a QEMU bridge helper with no privilege at all. QEMU (or
// libvirt) runs it exactly like qemu-bridge-helper:
//   userbridge-client [--use-vnet] --br=BRIDGE --fd=N
// It asks userbridged for the tap and passes the fd on over socket N, so
// `-netdev bridge,br=br0,helper=/usr/libexec/userbridge-client` needs no
// setuid or file-capability binary on the system.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "client/daemon_client.h"
#include "client/unprivileged.h"
#include "handover/handover.h"
#include "protocol/helper_args.h"

#ifndef UB_SOCKET_PATH
#error "UB_SOCKET_PATH must be set at build time"
#endif

int main(int argc, char** argv) {
    if (ub::client::refuse_privilege("userbridge-client")) return 1;
    auto args = ub::protocol::parse_helper_argv(argc, argv);
    if (!args.ok()) {
        std::fprintf(stderr, "userbridge-client: %s\n", args.error().message().c_str());
        return 2;
    }
    if (args->action == ub::protocol::HelperAction::Help) {
        std::puts("Usage: userbridge-client [--use-vnet] [--queues=N] [--vm=NAME] --br=BRIDGE --fd=N\n"
                  "A QEMU bridge helper that asks userbridged (" UB_SOCKET_PATH ") for the tap.\n"
                  "With USERBRIDGE_ASK=1 in its environment, polkit may prompt for a password.");
        return 0;
    }
    if (args->action == ub::protocol::HelperAction::Version) {
        std::puts("userbridge-client " UB_VERSION);
        return 0;
    }
    if (auto r = ub::handover::check_socket(args->fd); !r.ok()) {
        std::fprintf(stderr, "userbridge-client: %s\n", r.error().message().c_str());
        return 1;
    }
    ub::client::OpenRequest req;
    req.socket = UB_SOCKET_PATH;
    req.tap = args->tap;
    // QEMU passes only its own arguments; helper= can carry
    // `env USERBRIDGE_ASK=1 userbridge-client`, and polkit may then prompt.
    const char* ask = std::getenv("USERBRIDGE_ASK");
    req.tap.interactive = ask && std::string(ask) == "1";
    auto opened = ub::client::open_tap_via_daemon(req);
    if (!opened.ok()) {
        std::fprintf(stderr, "userbridge-client: %s\n", opened.error().message().c_str());
        return 1;
    }
    // The helper's exit status for a refusal: its caller learns the kind.
    if (auto* no = std::get_if<ub::Refusal>(&*opened)) {
        std::fprintf(stderr, "userbridge-client: %s\n", no->reason.c_str());
        return ub::exit_status(no->kind);
    }
    auto* tap = &std::get<ub::client::TapHandle>(*opened);
    std::vector<int> fds{tap->fd.get()};
    for (const ub::UniqueFd& q : tap->extra) fds.push_back(q.get());
    if (auto r = ub::handover::send_fds(args->fd, fds); !r.ok()) {
        std::fprintf(stderr, "userbridge-client: %s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}
