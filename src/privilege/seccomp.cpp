#include "privilege/seccomp.h"

#include <fcntl.h>
#include <linux/netlink.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <span>

namespace ub::privilege {

namespace {

struct CtxDeleter {
    void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// Syscalls allowed with any arguments. Each line says who needs it.
constexpr int kAllowed[] = {
    // netlink round trips, hand-over, syslog
    SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
    SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
    SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
    // tap creation and set-up on fds we already hold
    SCMP_SYS(ioctl),
    // stderr messages, closing fds, fstat by glibc's stdio
    SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(read), SCMP_SYS(close), SCMP_SYS(fstat),
    SCMP_SYS(newfstatat), SCMP_SYS(fcntl),
    // memory: malloc, libstdc++
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
    SCMP_SYS(mprotect),
    // time stamps (syslog), pid (syslog, LOG_PID), futexes (stdio locks)
    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid),
    SCMP_SYS(futex),
    // a tap's port MAC (net/bridge_port.cpp)
    SCMP_SYS(getrandom),
    // signals and exit
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit), SCMP_SYS(exit_group),
    // the kernel resumes a sleep or a poll with a timeout that SIGSTOP and
    // SIGCONT, a cgroup freeze or a debugger interrupted through this call
    SCMP_SYS(restart_syscall),
};

#if defined(__SANITIZE_ADDRESS__)
#define UB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UB_ASAN 1
#endif
#endif

// The sanitizer build's runtime at exit (thread bookkeeping, its own
// sleep-and-retry) needs these; the real helper never gets them.
#ifdef UB_ASAN
constexpr int kSanitizerRuntime[] = {SCMP_SYS(gettid), SCMP_SYS(sched_yield), SCMP_SYS(sigaltstack),
                                     SCMP_SYS(prctl), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64),
                                     SCMP_SYS(rt_sigaction),
                                     SCMP_SYS(pipe), SCMP_SYS(pipe2),
                                     SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep)};
#endif

Result<void> check(int rc, const char* what) {
    if (rc < 0) return Error::sys(std::string("seccomp: ") + what, -rc);
    return Ok{};
}

// What userbridged adds to the helper's list: what its request loop was
// seen to call under a filter that logged instead of killing, through the
// daemon, policy and install tests. (Stat, readlink, uname, id and random
// calls were allowed while NSS ran in the daemon; it runs in the user
// database process now, which has no filter of ours.)
constexpr int kDaemonAllowed[] = {
    // clients, the link monitor, the user database process, signals
    SCMP_SYS(accept4), SCMP_SYS(poll), SCMP_SYS(signalfd4),
    // the ACL and its includes: read on SIGHUP, and opened as each caller
    // per request (grant.cpp); /dev/net/tun for the next grant (fstat is in
    // the list above)
    SCMP_SYS(openat),
    // EOF to a client right after its fds are closed, and the CPU to it
    // (server.cpp); a connection shut down and its close bounded by a
    // timer signal (daemon/closer.h)
    SCMP_SYS(shutdown), SCMP_SYS(sched_yield), SCMP_SYS(setitimer),
    // journald records too large for a datagram: libsystemd writes them to
    // a memfd (writev), seals it (fcntl) and passes it with SCM_RIGHTS
    // (sendmsg); prctl(PR_GET_NAME), for the memfd's name, is below.
    SCMP_SYS(memfd_create),
    // a caller's filesystem identity on and off around opening the ACL's
    // files as them, CAP_DAC_READ_SEARCH on and off around loading it
    // (fs_identity.h); the real and effective uids cannot change (no setuid,
    // setresuid), so the caller can never signal or trace us
    SCMP_SYS(capget), SCMP_SYS(capset), SCMP_SYS(setfsuid), SCMP_SYS(setfsgid), SCMP_SYS(setgroups),
    SCMP_SYS(getgroups),
    // polkit's authority over the system bus (auth=polkit rules): sd-bus
    // authenticates as our uid (AUTH EXTERNAL), seeds its hash tables
    // (getrandom), flushes before it closes (ppoll); the pid's start time
    // is read from /proc (openat, above) while the caller's pidfd
    // (SO_PEERPIDFD, a getsockopt) is polled (poll, above)
    SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getrandom),
    SCMP_SYS(ppoll), SCMP_SYS(gettid),
    // libnftables (traffic filters, daemon/filters.h): libmnl's batch code
    // polls its socket
    SCMP_SYS(pselect6),
    // a macvtap's fds (mode=macvtap, daemon/macvtaps.h): its device nodes
    // made in the state directory (CAP_MKNOD raised for it), watched for the
    // closes of its files, opened (openat, above), removed with it, and
    // looked at (newfstatat, above) when a new daemon adopts it
    SCMP_SYS(mknodat), SCMP_SYS(inotify_add_watch), SCMP_SYS(inotify_rm_watch), SCMP_SYS(unlinkat),
    // a veth request's fd looked at without asking its file system's
    // server (AT_STATX_DONT_SYNC: a FUSE file's may never answer), before
    // any ioctl on it (daemon/netns.cpp)
    SCMP_SYS(statx),
    // whether an ACL file has POSIX ACL entries, read as it is loaded on
    // SIGHUP and opened for each request (policy/readable.h)
    SCMP_SYS(fgetxattr),
    // a sleep (glibc's nanosleep), allowed as it was when both programs
    // shared it; the helper, which slept only while waiting for its quota
    // lock, takes none now that quotas are userbridged's
    SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
};

Result<void> allow_each(scmp_filter_ctx ctx, std::span<const int> calls) {
    for (int sc : calls) UB_TRYV(check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc, 0), "rule"));
    return Ok{};
}

Result<Ctx> build(const std::vector<int>& extra, Profile profile) {
    Ctx ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
    if (!ctx) return Error::msg("seccomp: cannot initialise filter");
    // A binary tree of syscall numbers instead of a list: installing a
    // filter runs it once for every syscall number to fill the kernel's
    // allow cache, so its length is paid about 450 times at every exec.
    UB_TRYV(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
    UB_TRYV(allow_each(ctx.get(), kAllowed));
#ifdef UB_ASAN
    UB_TRYV(allow_each(ctx.get(), kSanitizerRuntime));
#endif
    UB_TRYV(allow_each(ctx.get(), extra));
    // New sockets: unix ones, for syslog's reconnect.
    scmp_arg_cmp unix_only{0, SCMP_CMP_EQ, AF_UNIX, 0};
    UB_TRYV(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, unix_only),
                  "socket rule"));
    // Netlink: the daemon opens an rtnetlink socket per request, and
    // libnftables (the daemon's alone: daemon/filters.h) a netfilter socket
    // on first use and an rtnetlink one to name interfaces (the grants'
    // own netfilter socket, net/nft_batch.h, is opened before the filter). A process that
    // already holds an rtnetlink socket and CAP_NET_ADMIN gains nothing
    // from another, so only the protocols are checked, not who opens them.
    scmp_arg_cmp netlink{0, SCMP_CMP_EQ, AF_NETLINK, 0};
    auto allow_netlink = [&](int proto) {
        scmp_arg_cmp which{2, SCMP_CMP_EQ, static_cast<scmp_datum_t>(proto), 0};
        return check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, netlink, which),
                     "socket rule");
    };
    UB_TRYV(allow_netlink(NETLINK_ROUTE));
    // The helper opens one file once its sandbox begins: a port's IPv6
    // switch (Rtnl::no_host_stack), for writing; userbridged opens more.
    scmp_arg_cmp write_only{2, SCMP_CMP_EQ, O_WRONLY | O_CLOEXEC, 0};
    if (profile != Profile::Daemon)
        UB_TRYV(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, write_only), "openat rule"));
    if (profile == Profile::Daemon) {
        // userbridged's closing threads (daemon/closer.h) get the filter too.
        UB_TRYV(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1), "tsync"));
        UB_TRYV(allow_netlink(NETLINK_NETFILTER));
        UB_TRYV(allow_each(ctx.get(), kDaemonAllowed));
#ifndef UB_ASAN  // which allows every prctl
        scmp_arg_cmp get_name{0, SCMP_CMP_EQ, PR_GET_NAME, 0};
        UB_TRYV(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, get_name), "prctl rule"));
#endif
    }
    return ctx;
}

}  // namespace

Result<void> install_seccomp(const std::vector<int>& extra, Profile profile) {
    Ctx ctx = UB_TRY(build(extra, profile));
    return check(seccomp_load(ctx.get()), "load");
}

Result<std::vector<sock_filter>> export_seccomp(const std::vector<int>& extra, Profile profile) {
    Ctx ctx = UB_TRY(build(extra, profile));
    // libseccomp writes the program to an fd; a pipe is too small for a
    // large one, so use a memfd.
    int fd = memfd_create("ub-seccomp", MFD_CLOEXEC);
    if (fd < 0) return Error::sys("memfd_create");
    std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
    UB_TRYV(check(seccomp_export_bpf(ctx.get(), fd), "export"));
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        return Error::msg("seccomp: exported program has a bad size");
    std::vector<sock_filter> prog(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (pread(fd, prog.data(), static_cast<std::size_t>(size), 0) != size)
        return Error::sys("seccomp: reading the exported program");
    return prog;
}

}  // namespace ub::privilege
