#include "cli/lease.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/names.h"
#include "base/number.h"
#include "client/daemon_client.h"
#include "policy/daemon_options.h"
#include "protocol/wire.h"

namespace ub::cli {

namespace {

int fail(const std::string& msg, int status = 1) {
    std::fprintf(stderr, "userbridge: %s\n", msg.c_str());
    return status;
}

bool take_value(const std::string& arg, const char* name, std::string& value) {
    std::string prefix = std::string(name) + "=";
    if (arg.compare(0, prefix.size(), prefix) != 0) return false;
    value = arg.substr(prefix.size());
    return true;
}

}  // namespace

std::string lease_usage() {
    return "Usage: userbridge lease --br=BRIDGE [--name=NAME] [--queues=N] [--for=DURATION]\n"
           "                        [-- COMMAND [ARGS...]]\n"
           "Asks userbridged for a persistent tap on BRIDGE that you own, for a VMM\n"
           "that opens a tap by its name (Firecracker), and prints its name.\n"
           "  --name=NAME      the tap's name (letters, digits, . _ -); default: one\n"
           "                   userbridged picks\n"
           "  --queues=N       a multiqueue tap of N queues (open it with IFF_MULTI_QUEUE)\n"
           "  --for=DURATION   how long (N and s, m, h or d); default: the longest\n"
           "                   the ACL's lease= allows\n"
           "  -- COMMAND...    run COMMAND (with USERBRIDGE_TAP set to the name), and\n"
           "                   end the lease when it exits or this process dies\n"
           "End a lease sooner with 'userbridge release NAME'.\n";
}

Result<LeaseArgs> parse_lease_args(const std::vector<std::string>& argv) {
    LeaseArgs a;
    a.req.kind = protocol::Kind::Lease;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        std::string v;
        if (arg == "--") {
            a.command.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());
            if (a.command.empty()) return Error::msg("nothing after '--'");
            break;
        }
        if (take_value(arg, "--br", v)) {
            if (std::string why = ifname_problem(v); !why.empty())
                return Error::msg("bridge name '" + printable(v) + "' " + why);
            a.req.bridge = v;
        } else if (take_value(arg, "--name", v)) {
            if (std::string why = protocol::lease_name_problem(v); !why.empty())
                return Error::msg("tap name '" + printable(v) + "' " + why);
            a.req.tap_name = v;
        } else if (take_value(arg, "--queues", v)) {
            auto n = parse_decimal(v, kMaxQueues);
            if (!n || *n < 1) return Error::msg("--queues: expected 1 to " + std::to_string(kMaxQueues));
            a.req.queues = static_cast<std::uint16_t>(*n);
        } else if (take_value(arg, "--for", v)) {
            Result<std::uint32_t> seconds = policy::parse_duration(v);
            if (!seconds.ok()) return Error::msg("--for=" + printable(v) + ": " + seconds.error().message());
            a.req.lease_seconds = *seconds;
        } else {
            return Error::msg("unknown argument '" + printable(arg) + "'");
        }
    }
    if (a.req.bridge.empty()) return Error::msg("--br=BRIDGE is required");
    a.req.tied = !a.command.empty();
    return a;
}

namespace {

// Runs the command and waits for it; its exit status, as a shell gives it.
// The lease's connection is close-on-exec: the command never holds it, so
// that only this process's end (its exit, or SIGKILL) ends the lease.
int run_and_wait(const std::vector<std::string>& command, const std::string& tap) {
    pid_t pid = fork();
    if (pid < 0) return fail(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        setenv("USERBRIDGE_TAP", tap.c_str(), 1);
        std::vector<char*> args;
        for (const std::string& w : command) args.push_back(const_cast<char*>(w.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::fprintf(stderr, "userbridge: cannot run %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    // The command gets the terminal's signals; we outlive it to end the lease.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fail(std::string("waitpid: ") + std::strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ask(const protocol::Request& req, const std::vector<std::string>& command) {
    client::OpenRequest open;
    open.via = client::Via::Daemon;
    open.socket = UB_SOCKET_PATH;
    open.tap = req;
    Result<std::variant<client::Leased, Refusal>> got = client::lease_via_daemon(open);
    if (!got.ok()) return fail(got.error().message());
    if (const Refusal* no = std::get_if<Refusal>(&*got)) return fail(no->reason);
    client::Leased& leased = std::get<client::Leased>(*got);
    if (req.kind == protocol::Kind::Release) return 0;
    std::printf("%s\n", leased.ifname.c_str());
    std::fflush(stdout);
    if (command.empty()) return 0;
    return run_and_wait(command, leased.ifname);  // leased.conn closes after: the lease ends
}

}  // namespace

int cmd_lease(const std::vector<std::string>& argv) {
    if (!argv.empty() && (argv[0] == "--help" || argv[0] == "-h")) {
        std::fputs(lease_usage().c_str(), stdout);
        return 0;
    }
    Result<LeaseArgs> args = parse_lease_args(argv);
    if (!args.ok()) return fail("lease: " + args.error().message() + "\nTry 'userbridge lease --help'.", 2);
    return ask(args->req, args->command);
}

int cmd_release(const std::vector<std::string>& argv) {
    if (argv.size() == 1 && (argv[0] == "--help" || argv[0] == "-h")) {
        std::puts("Usage: userbridge release NAME\nEnds your lease NAME (see userbridge lease): its tap is deleted.");
        return 0;
    }
    if (argv.size() != 1) return fail("release: expected one tap name\nTry 'userbridge release --help'.", 2);
    if (std::string why = protocol::lease_name_problem(argv[0]); !why.empty())
        return fail("release: tap name '" + printable(argv[0]) + "' " + why, 2);
    protocol::Request req;
    req.kind = protocol::Kind::Release;
    req.tap_name = argv[0];
    return ask(req, {});
}

}  // namespace ub::cli
