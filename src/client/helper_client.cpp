#include "client/helper_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "handover/receive.h"
#include "net/rtnl.h"
#include "base/names.h"
#include "protocol/tap_label.h"

namespace ub::client {

namespace {

constexpr int kChildSocketFd = 3;
constexpr std::size_t kMaxStderr = 4096;

using Clock = std::chrono::steady_clock;

struct Child {
    pid_t pid = -1;
    UniqueFd pidfd;
    UniqueFd sock;       // our end of the socketpair
    UniqueFd err;        // helper's stderr
    UniqueFd exec_status;  // CLOEXEC pipe: receives errno if exec failed
};

// Everything the child needs is prepared before fork: after it, only
// async-signal-safe calls.
[[noreturn]] void exec_child(int sock, int err_w, int status_w, const char* path,
                             char* const argv[]) {
    char* const envp[] = {nullptr};
    if (dup2(err_w, 2) < 0) _exit(127);
    if (sock == kChildSocketFd) {
        fcntl(sock, F_SETFD, 0);
    } else if (dup2(sock, kChildSocketFd) < 0) {
        _exit(127);
    }
    if (status_w != 4 && dup2(status_w, 4) < 0) _exit(127);
    fcntl(4, F_SETFD, FD_CLOEXEC);
    // Nothing of ours but the socket and stdio reaches the helper.
    syscall(SYS_close_range, 5, ~0u, 0);
    signal(SIGPIPE, SIG_DFL);
    execve(path, argv, envp);
    int e = errno;
    (void)!write(4, &e, sizeof e);
    _exit(127);
}

Result<Child> spawn(const OpenRequest& req) {
    int sv[2], errp[2], statp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return Error::sys("cannot create socketpair");
    Child c;
    c.sock.reset(sv[0]);
    UniqueFd child_sock(sv[1]);
    if (pipe2(errp, O_CLOEXEC) != 0) return Error::sys("cannot create pipe");
    c.err.reset(errp[0]);
    UniqueFd err_w(errp[1]);
    if (pipe2(statp, O_CLOEXEC) != 0) return Error::sys("cannot create pipe");
    c.exec_status.reset(statp[0]);
    UniqueFd status_w(statp[1]);

    std::vector<std::string> words{req.helper};
    if (req.tap.vnet_hdr) words.emplace_back("--use-vnet");
    // Only when asked for, so that any QEMU-compatible helper still works.
    if (req.tap.queues > 1) words.push_back("--queues=" + std::to_string(req.tap.queues));
    if (!req.tap.vm_name.empty()) words.push_back("--vm=" + req.tap.vm_name);
    words.push_back("--fd=" + std::to_string(kChildSocketFd));
    words.push_back("--br=" + req.tap.bridge);
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    // The child's fds 3 and 4 must not be clobbered by dup2 ordering.
    if (child_sock.get() == 4 || err_w.get() == 3 || err_w.get() == 4 ||
        status_w.get() == 3) {
        int hi = fcntl(child_sock.get(), F_DUPFD_CLOEXEC, 10);
        child_sock.reset(hi);
        err_w.reset(fcntl(err_w.get(), F_DUPFD_CLOEXEC, 10));
        status_w.reset(fcntl(status_w.get(), F_DUPFD_CLOEXEC, 10));
        if (!child_sock.valid() || !err_w.valid() || !status_w.valid())
            return Error::sys("cannot duplicate fds");
    }

    pid_t pid = fork();
    if (pid < 0) return Error::sys("cannot fork");
    if (pid == 0)
        exec_child(child_sock.get(), err_w.get(), status_w.get(), req.helper.c_str(),
                   argv.data());
    c.pid = pid;
    c.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!c.pidfd.valid()) {
        Error e = Error::sys("cannot open pidfd for the helper");
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return e;
    }
    return c;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Reads what is there; false once the writer is gone. Keeps kMaxStderr bytes.
bool drain(int fd, std::string& into) {
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    std::size_t keep = std::min(static_cast<std::size_t>(n), kMaxStderr - into.size());
    into.append(buf, keep);
    return true;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return printable(s, 1024);
}

// What the kernel says about the fds a helper sent: name, MAC, MTU,
// vnet_hdr, the guest MAC from its userbridge label, and that every fd is a
// queue of that one tap and the tap is attached to `bridge`. Any program
// may pose as a helper, so nothing is taken from it but the fds.
Result<TapHandle> describe_tap(std::vector<UniqueFd> fds, const std::string& bridge,
                               const std::string& sender) {
    TapHandle t = UB_TRY(hold_tap_fds(std::move(fds), sender));
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    net::LinkInfo tap = UB_TRY(rtnl.get_link(t.ifname));
    int br = UB_TRY(rtnl.ifindex(bridge));  // an ioctl: no second round trip
    if (tap.master != br)
        return Error::msg(sender + "'s tap " + t.ifname + " is not attached to " + bridge);
    t.mac = tap.mac;
    t.guest_mac = guest_mac(t.mac);
    // Only a CAP_NET_ADMIN holder can set the alias: the helper's own label.
    if (auto label = protocol::parse_label(tap.alias); label && label->mac) {
        t.guest_mac = *label->mac;
        t.mac_pinned = true;
    }
    t.mtu = tap.mtu;
    return t;
}

}  // namespace

Result<Opened> open_tap_via_helper(const OpenRequest& req) {
    if (std::string why = ifname_problem(req.tap.bridge); !why.empty())
        return Error::msg("bridge name '" + printable(req.tap.bridge) + "' " + why);
    Child c = UB_TRY(spawn(req));
    auto deadline = Clock::now() + req.timeout;

    std::string err_text;
    std::vector<UniqueFd> fds;
    std::string recv_error;
    bool sock_done = false, err_done = false, exited = false;
    int status = 0;
    while (!exited || !err_done) {
        pollfd p[3] = {{sock_done ? -1 : c.sock.get(), POLLIN, 0},
                       {err_done ? -1 : c.err.get(), POLLIN, 0},
                       {exited ? -1 : c.pidfd.get(), POLLIN, 0}};
        int n = poll(p, 3, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // timeout (or poll failure): kill below
        if (p[0].revents) {
            sock_done = true;
            auto got = handover::recv_fds(c.sock.get(), req.tap.queues);
            if (got.ok()) fds = std::move(*got);
            else recv_error = got.error().message();
        }
        if (p[1].revents) err_done = !drain(c.err.get(), err_text);
        if (p[2].revents) {
            siginfo_t si{};
            if (waitid(P_PIDFD, static_cast<id_t>(c.pidfd.get()), &si, WEXITED) == 0) {
                exited = true;
                status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
            }
        }
    }
    if (!exited) {
        syscall(SYS_pidfd_send_signal, c.pidfd.get(), SIGKILL, nullptr, 0);
        siginfo_t si{};
        waitid(P_PIDFD, static_cast<id_t>(c.pidfd.get()), &si, WEXITED);
        return Error::msg(req.helper + " did not finish within " +
                          std::to_string(req.timeout.count()) + " ms and was killed");
    }

    int exec_errno = 0;
    if (::read(c.exec_status.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno)
        return Error::sys("cannot execute " + req.helper, exec_errno);
    std::string said = trimmed(err_text);
    if (std::optional<Refused> kind = refused_by_exit_status(status)) return Opened{Refusal{*kind, said}};
    if (status != 0)
        return Error::msg(req.helper + " failed (exit status " + std::to_string(status) + ")" +
                          (said.empty() ? "" : ": " + said));
    if (fds.empty()) {
        // The socket may not have been polled yet if the helper exited first.
        if (!sock_done) {
            auto got = handover::recv_fds(c.sock.get(), req.tap.queues);
            if (got.ok()) fds = std::move(*got);
            else recv_error = got.error().message();
        }
        if (fds.empty())
            return Error::msg(req.helper + " exited 0 but " +
                              (recv_error.empty() ? "sent no tap fd" : recv_error));
    }
    return Opened{UB_TRY(describe_tap(std::move(fds), req.tap.bridge, req.helper))};
}

}  // namespace ub::client
