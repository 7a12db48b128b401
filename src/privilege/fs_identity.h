// Asking the kernel, as a caller, whether they may read a file: userbridged
// takes the caller's filesystem identity for a moment, so that opening the
// ACL's files is decided by the same checks (mode bits, POSIX ACLs, search
// permission on every directory of the path, LSMs) as when the helper, which
// runs as the caller, opens them itself. Emulating those checks from mode
// bits got POSIX ACLs and files root cannot read wrong.
//
// Invariants:
// - Only the filesystem ids (setfsuid, setfsgid) and the supplementary
//   groups (setgroups) change. The real, effective and saved uids stay the
//   process's own, so the caller can neither signal nor ptrace us while we
//   wear their identity (kill(2) and ptrace check those, never the fs ids).
// - setgroups is process-wide (glibc broadcasts it to every thread): this is
//   only correct in a single-threaded process, which userbridged is.
// - CAP_SETUID and CAP_SETGID must be in the permitted set; they are made
//   effective only while switching and dropped from it again. While the
//   caller's identity is on, no capability that overrides file permissions
//   (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) is effective.
// - Restoring cannot fail silently: if the process cannot get its own
//   identity back, it exits at once (status 71, EX_OSERR) rather than run on as the
//   caller. That is the one place library code here ends the process.
#pragma once

#include <sys/types.h>

#include <vector>

#include "base/result.h"

namespace ub::privilege {

// For fault-injection tests: called as fault("fs-restore") before the
// identity is taken back; an error there is taken for a failed restore.
using FaultHook = Result<void> (*)(const char* point);

// The caller's filesystem identity, put on by assume() and taken off when
// the object goes.
class FsIdentity {
public:
    // An error when it cannot be put on (nothing changed then). A no-op
    // when the process's fs identity is already exactly this one and no
    // capability overrides file permissions.
    static Result<FsIdentity> assume(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                                     FaultHook fault = nullptr);
    // Whether this process may put on another identity than its own
    // (CAP_SETUID and CAP_SETGID permitted), as assume() needs.
    static bool may_assume_others();

    FsIdentity(FsIdentity&& other) noexcept;
    FsIdentity& operator=(FsIdentity&&) = delete;
    FsIdentity(const FsIdentity&) = delete;
    FsIdentity& operator=(const FsIdentity&) = delete;
    ~FsIdentity();  // restores, or exits the process if it cannot

private:
    FsIdentity() = default;
    bool on_ = false;
    FaultHook fault_ = nullptr;
    uid_t uid_ = 0;  // the process's own, to restore
    gid_t gid_ = 0;
    std::vector<gid_t> groups_;
    unsigned effective_[2] = {0, 0};  // the effective capability set, to restore
};

// f() run with the filesystem identity of uid, gid and groups on, and ours
// back before this returns; or why that identity could not be put on.
template <typename F>
auto with_fs_identity(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, F&& f,
                      FaultHook fault = nullptr) -> decltype(f()) {
    Result<FsIdentity> as_them = FsIdentity::assume(uid, gid, groups, fault);
    if (!as_them.ok()) return as_them.error();
    return f();
}

// One capability of the permitted set made effective for a scope, then
// dropped again; exits the process if it cannot drop it (as above).
class RaisedCapability {
public:
    static Result<RaisedCapability> raise(int cap);
    RaisedCapability(RaisedCapability&& other) noexcept;
    RaisedCapability& operator=(RaisedCapability&&) = delete;
    RaisedCapability(const RaisedCapability&) = delete;
    RaisedCapability& operator=(const RaisedCapability&) = delete;
    ~RaisedCapability();

private:
    RaisedCapability() = default;
    int cap_ = -1;  // -1: nothing to drop (moved from, or was effective before)
};

}  // namespace ub::privilege
