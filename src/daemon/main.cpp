// userbridged: the socket-activated way to bridged taps, with no setuid or
// file-capability binary on the system.
//
// Stages: sanitize (as the helper), and raise the open-file limit (the fds
// in unread replies count against it); take the listening socket from
// systemd (sd_listen_fds) or make it; fork the user database process
// (userdb.h); drop every capability but CAP_NET_ADMIN, effective, and
// CAP_SETUID, CAP_SETGID and CAP_DAC_READ_SEARCH, permitted only (why:
// privilege/process.cpp); root's uid stays, so root-owned ACL files stay
// readable without CAP_DAC_OVERRIDE; no-new-privs; read the MAC key, making
// it if missing; open libnftables, adding what an older release's table
// lacks and removing dead taps' elements, and making the table that learns
// what guests use (filters.h); start the threads that close what clients
// hand us (closer.h); the seccomp filter, for every thread; load the ACL;
// serve. Callers are identified by
// SO_PEERCRED.
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <syslog.h>
#include <unistd.h>

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "base/fault.h"
#include "base/fault_syscalls.h"
#include "base/number.h"
#include "daemon/announce.h"
#include "daemon/closer.h"
#include "daemon/filters.h"
#include "base/system_sockets.h"
#include "daemon/journal.h"
#include "compat/qemu_helper.h"
#include "daemon/server.h"
#include "policy/mac_key.h"
#include "privilege/daemon_caps.h"
#include "privilege/process.h"
#include "privilege/seccomp.h"

#ifndef UB_ACL_PATH
#error "UB_ACL_PATH must be set at build time"
#endif
#ifndef UB_MAC_KEY_PATH
#error "UB_MAC_KEY_PATH must be set at build time"
#endif
#ifndef UB_SOCKET_PATH
#error "UB_SOCKET_PATH must be set at build time"
#endif

namespace {

using namespace ub;

struct Options {
    std::string socket = UB_SOCKET_PATH;
    std::string acl = UB_ACL_PATH;
    daemon::Limits limits;
};

int fail(const std::string& m) {
    std::fprintf(stderr, "userbridged: %s\n", m.c_str());
    return 1;
}

Result<unsigned> number(const std::string& flag, const std::string& v, unsigned lo, unsigned hi) {
    auto n = parse_decimal(v, hi);
    if (!n || *n < lo)
        return Error::msg(flag + " must be a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<unsigned>(*n);
}

Result<Options> parse(const std::vector<std::string>& args) {
    Options o;
    for (const std::string& a : args) {
        auto val = [&](const char* flag) -> const char* {
            std::size_t n = std::strlen(flag);
            return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
        };
        if (const char* v = val("--socket=")) {
            o.socket = v;
            if (o.socket.empty() || o.socket[0] != '/' || o.socket.size() >= sizeof(sockaddr_un::sun_path))
                return Error::msg("--socket needs an absolute path shorter than 108 bytes");
        } else if (const char* v2 = val("--config=")) {
            o.acl = v2;
            if (o.acl.empty() || o.acl[0] != '/') return Error::msg("--config needs an absolute path");
        } else if (const char* v3 = val("--max-per-uid=")) {
            o.limits.max_per_uid = UB_TRY(number("--max-per-uid", v3, 1, 1024));
        } else if (const char* v4 = val("--max-connections=")) {
            o.limits.max_connections = UB_TRY(number("--max-connections", v4, 1, 65536));
        } else if (const char* v5 = val("--deadline-ms=")) {
            o.limits.deadline = std::chrono::milliseconds(UB_TRY(number("--deadline-ms", v5, 10, 600000)));
        } else if (const char* v6 = val("--max-unread-fds=")) {
            // At least a request's most (64 queues), or such a request never passes.
            o.limits.max_unread_fds = UB_TRY(number("--max-unread-fds", v6, 64, 65536));
        } else {
            return Error::msg("unknown argument '" + a + "'");
        }
    }
    return o;
}

// The socket systemd passed us, or our own at `path` (a stale one replaced).
Result<UniqueFd> listener(int n, const std::string& path) {
    if (n < 0) return Error::sys("sd_listen_fds", -n);
    if (n > 1) return Error::msg("expected one socket from systemd, got " + std::to_string(n));
    if (n == 1) {
        if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) <= 0)
            return Error::msg("the socket from systemd is not a listening unix stream socket");
        return UniqueFd(SD_LISTEN_FDS_START);
    }
    UniqueFd fd = UB_TRY(system::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, "socket"));
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size());
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return Error::msg(path + " exists and is not a socket");
        unlink(path.c_str());
    }
    // Every local user may ask; the ACL decides. The mode is set on the
    // socket's inode before it has a name: bind() gives the file that mode
    // less the umask (unix_bind() in the kernel), so the umask is cleared
    // around it. A chmod() by path after bind() would follow a symlink
    // swapped in meanwhile by whoever can write to the directory.
    if (fchmod(fd.get(), 0666) != 0) return Error::sys("cannot fchmod the socket for " + path);
    mode_t old_umask = umask(0);
    int bound = bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    int bind_errno = errno;
    umask(old_umask);
    if (bound != 0) return Error::sys("cannot bind " + path, bind_errno);
    fault::at_void("after-bind");
    // As userbridged.socket's default Backlog= does: as long a queue as
    // net.core.somaxconn allows, so that a burst of connections (a flood
    // from one user, refused quickly) leaves room for others' connect().
    if (listen(fd.get(), SOMAXCONN) != 0) return Error::sys("cannot listen on " + path);
    return fd;
}

// Every fd we send that its receiver has not read yet counts against our
// RLIMIT_NOFILE soft limit, for all our clients together (the kernel's
// too_many_unix_fds; we hold neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN):
// the largest allowance we may take. The server bounds each uid's share.
Result<void> raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return Error::sys("getrlimit(RLIMIT_NOFILE)");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return Error::sys("setrlimit(RLIMIT_NOFILE)");
    return Ok{};
}

}  // namespace

int main(int argc, char** argv) {
    // Before the environment is emptied: LISTEN_FDS and LISTEN_PID live
    // there, and NOTIFY_SOCKET, where systemd waits for READY=1 (the unit is
    // Type=notify: without it, systemd kills the daemon when its start
    // times out).
    int activated = sd_listen_fds(1);
    const char* notify = std::getenv("NOTIFY_SOCKET");
    std::string notify_socket = notify ? notify : "";
    fault::init();  // test-only build; nothing in the real daemon
    if (auto r = privilege::sanitize_process(); !r.ok()) return fail(r.error().message());
    if (auto r = raise_fd_limit(); !r.ok()) return fail(r.error().message());
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::puts("Usage: userbridged [--socket=PATH] [--config=ACL] [--max-per-uid=N]\n"
                  "                  [--max-connections=N] [--deadline-ms=MS] [--max-unread-fds=N]\n"
                  "Grants bridged taps to local users who connect to PATH. See userbridged(8).");
        return 0;
    }
    if (!args.empty() && args[0] == "--version") {
        std::puts("userbridged " UB_VERSION);
        return 0;
    }
    Result<Options> opt = parse(args);
    if (!opt.ok()) return fail(opt.error().message());
    audit::open("userbridged");
    daemon::use_journal_if_present();
    Result<UniqueFd> fd = listener(activated, opt->socket);
    if (!fd.ok()) return fail(fd.error().message());
    // Before the drop, so that it can become _userbridge (CAP_SETUID and
    // CAP_SETGID still effective); it keeps no fd of ours.
    Result<daemon::UserDb> userdb = daemon::UserDb::start();
    if (!userdb.ok()) return fail(userdb.error().message());
    // Loading a tc program takes CAP_BPF (and, for the exact checksum
    // guard, CAP_PERFMON), which the drop gives up; attaching it,
    // CAP_NET_ADMIN only (net/csum_guard.h).
    Result<net::CsumGuard> csum_guard = net::CsumGuard::load();
    if (auto r = privilege::drop_to_daemon_capabilities(); !r.ok()) return fail(r.error().message());
    daemon::ServerConfig cfg{opt->acl, opt->limits};
    cfg.userdb = &*userdb;
    cfg.qemu_helpers = compat::privileged_qemu_helpers();
    // Made at the first start, from getrandom, before the filter; root's
    // uid, which we keep, is the file's owner (policy/mac_key.h).
    cfg.mac_key = policy::create_mac_key(UB_MAC_KEY_PATH);
    if (!cfg.mac_key.ok())
        syslog(LOG_DAEMON | LOG_WARNING, "%s; rules with mac-prefix= will be refused",
               cfg.mac_key.error().message().c_str());
    // Ready once the socket is ours and the privilege dropped; before the
    // filter, though the filter would allow the datagram.
    if (!notify_socket.empty() && setenv("NOTIFY_SOCKET", notify_socket.c_str(), 1) == 0)
        (void)sd_notify(1, "READY=1");  // 1: NOTIFY_SOCKET is unset again
    tzset();
    // libnftables reads its own files when it starts: before the filter.
    daemon::Filters filters = daemon::Filters::open();
    cfg.filters = &filters;
    if (!csum_guard.ok())
        syslog(LOG_DAEMON | LOG_WARNING, "%s; rules with mode=macvtap and mac= or mac-prefix= will fail",
               csum_guard.error().message().c_str());
    else if (csum_guard->kind() == net::CsumGuard::Kind::Blunt)
        syslog(LOG_DAEMON | LOG_WARNING,
               "%s; taps whose MAC a rule pins, and routed taps, get no virtio-net header (no offloads), "
               "and veth pairs and leases whose MAC a rule pins are refused",
               csum_guard->why_blunt().c_str());
    filters.set_csum_guard(std::move(csum_guard));
    if (Result<void> r = filters.refresh_guard(); !r.ok())
        syslog(LOG_DAEMON | LOG_WARNING, "ports a former userbridged guarded keep its checksum guard: %s",
               r.error().message().c_str());
    daemon::Announcer announcer;
    cfg.announcer = &announcer;
    if (Result<void> r = announcer.reconcile(); !r.ok())
        syslog(LOG_DAEMON | LOG_WARNING, "cannot clear the neighbour entries of dead taps: %s",
               r.error().message().c_str());
    if (!filters.available())
        syslog(LOG_DAEMON | LOG_WARNING, "%s; rules with mac=, mac-prefix=, servers=no, ip= or rate= will fail",
               filters.why().c_str());
    else if (Result<void> r = filters.reconcile(); !r.ok())
        syslog(LOG_DAEMON | LOG_WARNING, "cannot bring table bridge userbridge up to date: %s",
               r.error().message().c_str());
    if (filters.available())
        if (Result<void> r = filters.guard_ports(); !r.ok())
            syslog(LOG_DAEMON | LOG_WARNING, "cannot make the tables that keep the host's stack off bridge ports: %s",
                   r.error().message().c_str());
    if (filters.available())
        if (Result<void> r = filters.start_learning(); !r.ok())
            syslog(LOG_DAEMON | LOG_WARNING, "cannot learn what guests use (userbridge status): %s",
                   r.error().message().c_str());
    // The MAC key's directory: where macvtaps' device nodes are made.
    std::string state_dir = UB_MAC_KEY_PATH;
    Result<daemon::Macvtaps> macvtaps = daemon::Macvtaps::open(state_dir.substr(0, state_dir.rfind('/')));
    if (macvtaps.ok()) cfg.macvtaps = &*macvtaps;
    else syslog(LOG_DAEMON | LOG_WARNING, "%s; rules with mode=macvtap will fail", macvtaps.error().message().c_str());
    // Its threads, after the drop (capabilities are each thread's) and
    // before the filter, which is installed for them too.
    cfg.closer = &daemon::Closer::start();
#ifdef UB_FAULT_INJECTION
    std::vector<int> extra = fault::fault_syscalls();
#else
    std::vector<int> extra;
#endif
    if (auto r = privilege::install_seccomp(extra, privilege::Profile::Daemon); !r.ok())
        return fail(r.error().message());
    if (auto r = daemon::serve(std::move(*fd), cfg); !r.ok()) return fail(r.error().message());
    return 0;
}
