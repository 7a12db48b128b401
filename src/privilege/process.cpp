#include "privilege/process.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fds.h"
#include "base/system.h"
#include "privilege/cap_sets.h"
#include "privilege/drop.h"

namespace ub::privilege {

namespace {

// A setuid program started with fd 0, 1 or 2 closed would hand that number to
// the next file it opens, and a later write to "stderr" would land there.
Result<void> ensure_std_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int null = UB_TRY(system::open("/dev/null", O_RDWR, "cannot open /dev/null")).release();
        if (null != fd) return Error::msg("cannot reserve standard fd " + std::to_string(fd));
    }
    return Ok{};
}

}  // namespace

const char* mode_name(Mode mode) {
    switch (mode) {
        case Mode::SetuidRoot: return "setuid";
        case Mode::Root: return "root";
        case Mode::FileCaps: return "file-capabilities";
    }
    return "?";
}

Result<void> sanitize_process() {
    UB_TRYV(ensure_std_fds());
    // We read nothing from the environment; emptying it also keeps glibc's
    // own readers (locale, malloc tuning, TZ) from acting on caller input.
    if (clearenv() != 0) return Error::msg("cannot clear the environment");
    umask(077);
    if (chdir("/") != 0) return Error::sys("cannot change directory to /");
    // A caller that has gone away must cost us an EPIPE, never our life; a
    // caller's tiny RLIMIT_FSIZE on our stderr file, an EFBIG, not SIGXFSZ.
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, nullptr) != 0) return Error::sys("cannot ignore SIGPIPE");
    if (sigaction(SIGXFSZ, &sa, nullptr) != 0) return Error::sys("cannot ignore SIGXFSZ");
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return Error::sys("cannot reset signal mask");
    return Ok{};
}

Result<void> close_fds_except(int keep) { return close_all_fds_except({keep}); }

Result<Mode> privilege_mode() {
    system::Ids ids = UB_TRY(system::getresids());
    if (ids.uid.effective == 0) return ids.uid.real == 0 ? Mode::Root : Mode::SetuidRoot;
    if (ids.uid.effective != ids.uid.real)
        return Error::msg("installed setuid to a user other than root; that is not supported");
    if (Result<CapSets> sets = cap_sets(); !sets.ok() || !sets->permitted(CAP_NET_ADMIN))
        return Error::msg(
            "not privileged: install userbridge-helper with 'setcap cap_net_admin+ep' "
            "(or setuid root); see userbridge-helper(8)");
    return Mode::FileCaps;
}

Result<void> drop_privileges() {
    // CAP_NET_ADMIN: needed to create the tap and to change its MTU, MAC and
    // master; permitted only, until the act stage makes it effective
    // (raise_effective), so that reading the ACL, NSS modules and syslog
    // run with no capability. Nothing else is kept. The caller's
    // supplementary groups stay (they are the caller's own, and
    // group-readable includes depend on them). Non-dumpable: no core file
    // or ptrace by the caller while we hold CAP_NET_ADMIN, since we now run
    // with the caller's uid.
    // The ids are left unset: the real ones, the caller's (drop.h).
    DropTarget t;
    t.permitted = cap_bit(CAP_NET_ADMIN);
    t.bounding = Bounding::ClearWhenAble;
    t.dumpable = Dumpable::No;
    return drop_to(t);
}

}  // namespace ub::privilege
