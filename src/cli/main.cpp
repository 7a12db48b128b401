// userbridge: the unprivileged command-line front end.
//
// `userbridge run` obtains taps through the bridge helper and execs the VMM
// with exactly those fds (and stdio) open. Nothing here is privileged.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/fds.h"
#include "cli/admin.h"
#include "cli/netns.h"
#include "cli/lease.h"
#include "cli/run_args.h"
#include "client/helper_client.h"
#include "client/open.h"
#include "client/unprivileged.h"

#ifndef UB_DEFAULT_HELPER
#error "UB_DEFAULT_HELPER must be set at build time"
#endif
#ifndef UB_ACL_PATH
#error "UB_ACL_PATH must be set at build time"
#endif

namespace {

using namespace ub;

int fail(const std::string& msg) {
    std::fprintf(stderr, "userbridge: %s\n", msg.c_str());
    return 1;
}

// What the user can do about a refusal, by its kind.
std::string hint(const std::string& bridge, Refused kind) {
    switch (kind) {
    case Refused::NeedsDaemon:
        // The refusal says which: polkit decides, or the tap's traffic is filtered.
        return "only userbridged grants " + bridge + " under this rule: run with --via=daemon (userbridged must run)";
    case Refused::PolkitPrompt: return "add --ask to type your password when polkit asks";
    case Refused::Polkit:
        return "polkit said no; its rules are in /etc/polkit-1/rules.d (see userbridge-acl(5), auth=polkit)";
    case Refused::Quota:
        return "close a VM you run on " + bridge + " first ('userbridge status' lists your taps)";
    case Refused::Acl: break;
    }
    return "bridge " + bridge + " is not allowed for you by " UB_ACL_PATH " (ask an administrator to add 'allow " +
           bridge + "')";
}

// Turn a failure into advice a user can act on. The helper says why it
// failed only in words (a QEMU helper's protocol is its exit status and
// stderr); these hints are for failures, never for what policy decided.
std::string with_hint(const std::string& helper, const std::string& bridge, const Error& e) {
    const std::string& m = e.message();
    auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
    std::string hint;
    if (has("not privileged") || has("Operation not permitted"))
        hint = "the helper is not installed setuid or with cap_net_admin: see userbridge-helper(8)";
    else if (has("/dev/net/tun"))
        hint = "you may not open /dev/net/tun; it is normally mode 0666 (see userbridge-helper(8))";
    else if (has("cannot execute") && e.code() == ENOENT)
        hint = helper + " is not installed; pass --helper=PATH";
    else if (has("does not exist") || has("is not a bridge"))
        hint = "create the bridge first, e.g. 'ip link add " + bridge + " type bridge'";
    return hint.empty() ? m : m + "\n  hint: " + hint;
}

// Keep exactly stdio and the tap fds; make the taps survive exec.
Result<void> keep_only(const std::vector<int>& fds) {
    UB_TRYV(close_all_fds_except(fds));
    for (int fd : fds)
        if (fcntl(fd, F_SETFD, 0) != 0) return Error::sys("cannot clear close-on-exec");
    return Ok{};
}

int cmd_run(const std::vector<std::string>& argv) {
    Result<cli::RunArgs> args = cli::parse_run_args(argv, UB_DEFAULT_HELPER);
    if (!args.ok()) {
        fail(args.error().message() + "\nTry 'userbridge run --help'.");
        return 2;
    }

    std::vector<client::TapHandle> taps;
    std::vector<cli::NicValues> values;
    for (const cli::NicSpec& nic : args->nics) {
        client::OpenRequest req;
        req.via = args->via;
        req.helper = args->helper;
        req.socket = UB_SOCKET_PATH;
        req.tap = nic;
        req.tap.interactive = args->ask;
        req.timeout = args->timeout;
        Result<client::Opened> opened = client::open_tap(req);
        if (!opened.ok()) return fail(with_hint(args->helper, nic.bridge, opened.error()));
        if (const Refusal* no = std::get_if<Refusal>(&*opened))
            return fail(no->reason + "\n  hint: " + hint(nic.bridge, no->kind));
        client::TapHandle* tap = &std::get<client::TapHandle>(*opened);
        std::string fds = std::to_string(tap->fd.get());
        for (const UniqueFd& q : tap->extra) fds += ":" + std::to_string(q.get());
        values.push_back({tap->fd.get(), tap->ifname, format_mac(tap->guest_mac), format_mac(tap->mac), tap->mtu,
                          fds, tap->queues()});
        taps.push_back(std::move(*tap));
    }

    std::vector<std::string> words;
    for (const std::string& a : args->command) {
        Result<std::string> s = cli::substitute(a, values);
        if (!s.ok()) return fail(s.error().message());
        words.push_back(std::move(*s));
    }
    std::vector<int> fds;
    for (auto& t : taps) {
        fds.push_back(t.fd.get());
        for (const UniqueFd& q : t.extra) fds.push_back(q.get());
    }
    if (auto r = keep_only(fds); !r.ok()) return fail(r.error().message());

    std::vector<char*> cargv;
    for (std::string& w : words) cargv.push_back(w.data());
    cargv.push_back(nullptr);
    execvp(cargv[0], cargv.data());
    return fail("cannot run " + words[0] + ": " + std::strerror(errno));
}

void usage(FILE* to) {
    std::fputs("Usage: userbridge COMMAND [ARGS...]\n"
               "\n"
               "Commands:\n"
               "  run [OPTIONS] -- COMMAND...   run a VMM with bridged tap fds\n"
               "  netns --br=BRIDGE --netns=PATH  a veth pair into a network namespace\n"
               "                                you own (containers)\n"
               "  lease --br=BRIDGE [--name=NAME] [--queues=N] [--for=DURATION] [-- COMMAND...]\n"
               "                                a persistent tap of yours, for a VMM that\n"
               "                                opens it by name (Firecracker)\n"
               "  release NAME                  end your lease NAME\n"
               "  status                        your bridges, taps, leases and quotas\n"
               "  explain --br=BRIDGE [--user=USER] [--vm=NAME]\n"
               "                                which ACL rules decide, and why\n"
               "  check [FILE]                  validate an ACL before installing it\n"
               "  --help                        show this help\n"
               "  --version                     show the version\n"
               "\n"
               "See userbridge(1).\n",
               to);
}

}  // namespace

int main(int argc, char** argv) {
    if (ub::client::refuse_privilege("userbridge")) return 1;
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (args.empty()) {
        usage(stderr);
        return 2;
    }
    std::string cmd = args.front();
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        usage(stdout);
        return 0;
    }
    if (cmd == "--version") {
        std::puts("userbridge " UB_VERSION);
        return 0;
    }
    if (cmd == "run") {
        if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
            std::fputs(cli::run_usage().c_str(), stdout);
            return 0;
        }
        return cmd_run(rest);
    }
    if (cmd == "netns") {
        if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
            std::fputs(cli::netns_usage().c_str(), stdout);
            return 0;
        }
        return cli::cmd_netns(rest, UB_SOCKET_PATH);
    }
    if (cmd == "check") return cli::cmd_check(rest, UB_ACL_PATH);
    if (cmd == "explain") return cli::cmd_explain(rest, UB_ACL_PATH);
    if (cmd == "lease") return cli::cmd_lease(rest);
    if (cmd == "release") return cli::cmd_release(rest);
    if (cmd == "status") return cli::cmd_status(rest, UB_ACL_PATH);
    std::fprintf(stderr, "userbridge: unknown command '%s'\n", cmd.c_str());
    usage(stderr);
    return 2;
}
