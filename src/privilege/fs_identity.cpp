#include "privilege/fs_identity.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "base/system.h"
#include "privilege/cap_sets.h"

namespace ub::privilege {

namespace {

// Those that would let us open what the caller may not.
constexpr int kFileOverrides[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};

// setfsuid/setfsgid report no error; called with an invalid id (-1) they
// change nothing and return the current one, which is how success is seen.
uid_t fsuid_now() { return static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))); }
gid_t fsgid_now() { return static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))); }

// The calling thread's groups alone, as the kernel keeps them: glibc's
// setgroups sets every thread's, by signalling each (userbridged's closing
// threads, daemon/closer.h), which its seccomp filter forbids, and which
// an identity worn around one open does not want.
Result<void> setgroups_this_thread(const std::vector<gid_t>& groups) {
    return system::checked(::syscall(SYS_setgroups, groups.size(), groups.data()),
                           "cannot set supplementary groups (setgroups)");
}

Result<void> set_fs_ids(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
    UB_TRYV(setgroups_this_thread(groups));
    setfsgid(gid);
    if (fsgid_now() != gid) return Error::msg("setfsgid(" + std::to_string(gid) + ") did not take");
    setfsuid(uid);
    if (fsuid_now() != uid) return Error::msg("setfsuid(" + std::to_string(uid) + ") did not take");
    return Ok{};
}

[[noreturn]] void cannot_restore(const Error& e) {
    std::string m = "userbridge: cannot take back our own identity (" + e.message() +
                    "); exiting rather than run on as the caller\n";
    (void)!::write(STDERR_FILENO, m.data(), m.size());
    _exit(71);  // EX_OSERR
}

Result<void> restore(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                     const unsigned (&effective)[2]) {
    CapSets c = UB_TRY(cap_sets());
    c.set_effective(CAP_SETUID, true);
    c.set_effective(CAP_SETGID, true);
    UB_TRYV(set_cap_sets(c));
    UB_TRYV(set_fs_ids(uid, gid, groups));
    // Back to fsuid 0, the kernel raised the file capabilities we hold in
    // the permitted set into the effective one (capabilities(7), "Effect of
    // user ID changes on capabilities"): set the old effective set exactly.
    CapSets now = UB_TRY(cap_sets());
    for (int i = 0; i < 2; ++i) now.data[i].effective = effective[i];
    UB_TRYV(set_cap_sets(now));
    CapSets check = UB_TRY(cap_sets());
    for (int i = 0; i < 2; ++i)
        if (check.data[i].effective != effective[i])
            return Error::msg("the effective capabilities did not come back");
    return Ok{};
}

bool may_set_ids(const CapSets& c) { return c.permitted(CAP_SETUID) && c.permitted(CAP_SETGID); }

}  // namespace

bool FsIdentity::may_assume_others() {
    Result<CapSets> c = cap_sets();
    return c.ok() && may_set_ids(*c);
}

Result<FsIdentity> FsIdentity::assume(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                                      FaultHook fault) {
    FsIdentity id;
    id.fault_ = fault;
    id.uid_ = fsuid_now();
    id.gid_ = fsgid_now();
    id.groups_ = UB_TRY(system::getgroups());
    CapSets c = UB_TRY(cap_sets());
    bool overrides = false;
    for (int cap : kFileOverrides) overrides = overrides || c.effective(cap);
    if (id.uid_ == uid && id.gid_ == gid && id.groups_ == groups && !overrides) return id;  // already so
    if (!may_set_ids(c))
        return Error::msg("cannot check file access as uid " + std::to_string(uid) +
                          ": needs CAP_SETUID and CAP_SETGID");
    id.effective_[0] = c.data[0].effective;
    id.effective_[1] = c.data[1].effective;
    c.set_effective(CAP_SETUID, true);
    c.set_effective(CAP_SETGID, true);
    UB_TRYV(set_cap_sets(c));
    // From here on, whatever fails, the destructor puts our identity back.
    id.on_ = true;
    if (Result<void> r = set_fs_ids(uid, gid, groups); !r.ok())
        return r.error().context("taking uid " + std::to_string(uid) + "'s filesystem identity");
    c.set_effective(CAP_SETUID, false);
    c.set_effective(CAP_SETGID, false);
    for (int cap : kFileOverrides) c.set_effective(cap, false);
    UB_TRYV(set_cap_sets(c));
    return id;
}

FsIdentity::FsIdentity(FsIdentity&& other) noexcept
    : on_(other.on_), fault_(other.fault_), uid_(other.uid_), gid_(other.gid_),
      groups_(std::move(other.groups_)) {
    effective_[0] = other.effective_[0];
    effective_[1] = other.effective_[1];
    other.on_ = false;
}

FsIdentity::~FsIdentity() {
    if (!on_) return;
    Result<void> r = fault_ ? fault_("fs-restore") : Result<void>(Ok{});
    if (r.ok()) r = restore(uid_, gid_, groups_, effective_);
    if (!r.ok()) cannot_restore(r.error());
}

Result<RaisedCapability> RaisedCapability::raise(int cap) {
    RaisedCapability r;
    CapSets c = UB_TRY(cap_sets());
    if (c.effective(cap)) return r;  // it was already; it stays
    if (!c.permitted(cap))
        return Error::msg("capability " + std::to_string(cap) + " is not in the permitted set");
    c.set_effective(cap, true);
    UB_TRYV(set_cap_sets(c));
    r.cap_ = cap;
    return r;
}

RaisedCapability::RaisedCapability(RaisedCapability&& other) noexcept : cap_(other.cap_) { other.cap_ = -1; }

RaisedCapability::~RaisedCapability() {
    if (cap_ < 0) return;
    Result<CapSets> c = cap_sets();
    if (c.ok()) {
        c->set_effective(cap_, false);
        if (Result<void> r = set_cap_sets(*c); !r.ok()) cannot_restore(r.error());
        return;
    }
    cannot_restore(c.error());
}

}  // namespace ub::privilege
