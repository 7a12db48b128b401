#include "privilege/process.h"

#include <cap-ng.h>
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

bool has_permitted_net_admin() {
    Result<CapSets> sets = cap_sets();
    return sets.ok() && sets->permitted(CAP_NET_ADMIN);
}

Result<void> harden() {
    // no-new-privs: nothing we could exec (we exec nothing) gains privilege.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::sys("cannot set no-new-privs");
    // Non-dumpable: no core file or ptrace by the caller while we hold
    // CAP_NET_ADMIN, since we now run with the caller's uid.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Error::sys("cannot set non-dumpable");
    return Ok{};
}

// After the drop, prove it: the uid is the caller's everywhere and the only
// capability left anywhere is CAP_NET_ADMIN.
Result<void> verify_dropped(const Caller& caller) {
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0)
        return Error::sys("cannot read process ids");
    if (r != caller.uid || e != caller.uid || s != caller.uid || rg != caller.gid ||
        eg != caller.gid || sg != caller.gid)
        return Error::msg("privilege drop did not take: ids still differ from the caller's");
    CapSets sets = UB_TRY(cap_sets());
    for (int cap = 0; cap < 32 * _LINUX_CAPABILITY_U32S_3; ++cap) {
        if (cap == CAP_NET_ADMIN) continue;
        if (sets.effective(cap) || sets.permitted(cap) ||
            sets.has(&__user_cap_data_struct::inheritable, cap))
            return Error::msg("privilege drop did not take: capability " +
                              std::to_string(cap) + " is still held");
    }
    if (!sets.effective(CAP_NET_ADMIN))
        return Error::msg("privilege drop lost CAP_NET_ADMIN");
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

Result<Caller> identify_caller() {
    system::ResIds uids = UB_TRY(system::getresuid());
    uid_t ruid = uids.real, euid = uids.effective;
    gid_t rgid = UB_TRY(system::getresgid()).real;
    if (euid == 0) return Caller{ruid, rgid, ruid == 0 ? Mode::Root : Mode::SetuidRoot};
    if (euid != ruid)
        return Error::msg("installed setuid to a user other than root; that is not supported");
    if (!has_permitted_net_admin())
        return Error::msg(
            "not privileged: install userbridge-helper with 'setcap cap_net_admin+ep' "
            "(or setuid root); see userbridge-helper(8)");
    return Caller{ruid, rgid, Mode::FileCaps};
}

Result<void> drop_privileges(const Caller& caller) {
    capng_clear(CAPNG_SELECT_BOTH);
    // CAP_NET_ADMIN: needed to create the tap and to change its MTU, MAC and
    // master. Nothing else is kept.
    if (capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                     CAP_NET_ADMIN) != 0)
        return Error::msg("cannot prepare capability set");

    if (caller.mode == Mode::FileCaps) {
        // Without CAP_SETPCAP we cannot shrink the bounding set; with
        // no-new-privs and no exec it does not matter.
        if (setresgid(caller.gid, caller.gid, caller.gid) != 0)
            return Error::sys("cannot set group ids");
        if (capng_apply(CAPNG_SELECT_CAPS) != 0) return Error::msg("cannot drop capabilities");
    } else {
        // Keeps the caller's supplementary groups (they are the caller's own,
        // and group-readable includes depend on them), clears the bounding set.
        if (int rc = capng_change_id(static_cast<int>(caller.uid), static_cast<int>(caller.gid),
                                     CAPNG_CLEAR_BOUNDING);
            rc != 0)
            return Error::msg("cannot change to the caller's uid (capng_change_id: " +
                              std::to_string(rc) + ")");
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return Error::sys("cannot clear ambient capabilities");
    UB_TRYV(harden());
    return verify_dropped(caller);
}

Result<void> drop_to_daemon_capabilities() {
    // Kept, and why (each in the permitted set; effective only as said):
    //   CAP_NET_ADMIN        effective: making taps for other uids, attaching
    //                        them to bridges, nftables rules; every grant.
    //   CAP_SETUID,          permitted only: made effective around the switch
    //   CAP_SETGID           of the filesystem identity to a caller's and
    //                        back (setfsuid, setfsgid, setgroups), so that the
    //                        kernel says which ACL files they may read
    //                        (fs_identity.h). Never setuid/setresuid.
    //   CAP_DAC_READ_SEARCH  permitted only: effective while the ACL is
    //                        loaded, so that an include root itself may not
    //                        read (`root:lab 0040`) is read as for its group.
    // Root's uid stays: its files stay ours without CAP_DAC_OVERRIDE.
    constexpr int kPermittedOnly[] = {CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH};
    Result<CapSets> sets = cap_sets();
    if (!sets.ok()) return sets.error();
    bool all = sets->permitted(CAP_NET_ADMIN);
    for (int cap : kPermittedOnly) all = all && sets->permitted(cap);
    if (!all)
        return Error::msg("needs CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID and CAP_DAC_READ_SEARCH "
                          "(root has them); see userbridged(8)");
    capng_clear(CAPNG_SELECT_BOTH);
    capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED), CAP_NET_ADMIN);
    for (int cap : kPermittedOnly) capng_update(CAPNG_ADD, CAPNG_PERMITTED, static_cast<unsigned>(cap));
    // Without CAP_SETPCAP (not root) the bounding set cannot be changed.
    // An empty one takes nothing from the permitted set; it only keeps an
    // exec (we exec nothing) from gaining.
    if (capng_apply(geteuid() == 0 ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) != 0)
        return Error::msg("cannot drop capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return Error::sys("cannot clear ambient capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::sys("cannot set no-new-privs");
    return Ok{};
}

}  // namespace ub::privilege
