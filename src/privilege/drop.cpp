#include "privilege/drop.h"

#include <linux/capability.h>
#include <sys/prctl.h>

#include <string>

#include "base/system.h"
#include "privilege/cap_sets.h"

namespace ub::privilege {

namespace {

std::uint64_t mask(const CapSets& s, const __u32 __user_cap_data_struct::*set) {
    return s.data[0].*set | (std::uint64_t{s.data[1].*set} << 32);
}

void set_mask(CapSets& s, __u32 __user_cap_data_struct::*set, std::uint64_t m) {
    s.data[0].*set = static_cast<__u32>(m);
    s.data[1].*set = static_cast<__u32>(m >> 32);
}

// f(cap, in_bounding_set) for each capability the running kernel knows:
// PR_CAPBSET_READ is EINVAL past the last one.
template <typename F>
Result<void> each_known_cap(F f) {
    for (unsigned long cap = 0;; ++cap) {
        Result<int> bounding = system::prctl_read(PR_CAPBSET_READ, cap, 0, "cannot read the bounding set");
        if (!bounding.ok()) return bounding.error().code() == EINVAL ? Result<void>(Ok{}) : bounding.error();
        UB_TRYV(f(cap, *bounding != 0));
    }
}

Result<void> change_ids(const DropTarget& t, uid_t uid, gid_t gid) {
    // Root's uid given up would take the permitted set with it
    // (capabilities(7), "Effect of user ID changes"): kept across the
    // change, then set exactly below.
    UB_TRYV(system::prctl(PR_SET_KEEPCAPS, 1, 0, "cannot keep capabilities (PR_SET_KEEPCAPS)"));
    if (t.groups == Groups::Clear) UB_TRYV(system::setgroups({}));
    UB_TRYV(system::setresgid(gid));
    UB_TRYV(system::setresuid(uid));
    UB_TRYV(system::prctl(PR_SET_KEEPCAPS, 0, 0, "cannot reset PR_SET_KEEPCAPS"));
    return Ok{};
}

Result<void> verify(const DropTarget& t, uid_t uid, gid_t gid, bool bounding_cleared) {
    auto not_taken = [](const std::string& what) {
        return Error::msg("privilege drop did not take: " + what);
    };
    if (!UB_TRY(system::getresuid()).all(uid) || !UB_TRY(system::getresgid()).all(gid))
        return not_taken("ids differ from " + std::to_string(uid) + ":" + std::to_string(gid));
    if (t.groups == Groups::Clear && !UB_TRY(system::getgroups()).empty())
        return not_taken("supplementary groups are still held");
    CapSets s = UB_TRY(cap_sets());
    if (mask(s, &__user_cap_data_struct::effective) != t.effective ||
        mask(s, &__user_cap_data_struct::permitted) != t.permitted ||
        mask(s, &__user_cap_data_struct::inheritable) != 0)
        return not_taken("capabilities differ from those kept");
    UB_TRYV(each_known_cap([&](unsigned long cap, bool bounding) -> Result<void> {
        if (bounding_cleared && bounding)
            return not_taken("capability " + std::to_string(cap) + " is in the bounding set");
        Result<int> ambient = system::prctl_read(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, "cannot read the ambient set");
        // EINVAL: a kernel before ambient capabilities (4.3), which has none.
        if (!ambient.ok() && ambient.error().code() != EINVAL) return ambient.error();
        if (ambient.ok() && *ambient != 0)
            return not_taken("capability " + std::to_string(cap) + " is ambient");
        return Ok{};
    }));
    if (UB_TRY(system::prctl_read(PR_GET_NO_NEW_PRIVS, 0, 0, "PR_GET_NO_NEW_PRIVS")) != 1)
        return not_taken("no-new-privs is not set");
    if (t.dumpable == Dumpable::No && UB_TRY(system::prctl_read(PR_GET_DUMPABLE, 0, 0, "PR_GET_DUMPABLE")) != 0)
        return not_taken("the process is dumpable");
    return Ok{};
}

}  // namespace

Result<void> drop_to(const DropTarget& t) {
    system::ResIds real_uid = UB_TRY(system::getresuid());
    system::ResIds real_gid = UB_TRY(system::getresgid());
    uid_t uid = t.uid.value_or(real_uid.real);
    gid_t gid = t.gid.value_or(real_gid.real);
    CapSets s = UB_TRY(cap_sets());
    bool clear_bounding = t.bounding == Bounding::ClearWhenAble && s.effective(CAP_SETPCAP);
    auto drop_bound = [](unsigned long cap, bool) {
        return system::prctl(PR_CAPBSET_DROP, cap, 0, "cannot empty the bounding set (PR_CAPBSET_DROP)");
    };
    if (clear_bounding) UB_TRYV(each_known_cap(drop_bound));
    UB_TRYV(change_ids(t, uid, gid));
    s = UB_TRY(cap_sets());
    set_mask(s, &__user_cap_data_struct::effective, t.effective);
    set_mask(s, &__user_cap_data_struct::permitted, t.permitted);
    set_mask(s, &__user_cap_data_struct::inheritable, 0);
    UB_TRYV(set_cap_sets(s));
    if (Result<void> r = system::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0,
                                      "cannot clear ambient capabilities");
        !r.ok() && r.error().code() != EINVAL)
        return r.error();
    // Nothing we could exec (we exec nothing) gains privilege.
    UB_TRYV(system::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, "cannot set no-new-privs"));
    if (t.dumpable == Dumpable::No)
        UB_TRYV(system::prctl(PR_SET_DUMPABLE, 0, 0, "cannot set non-dumpable"));
    return verify(t, uid, gid, clear_bounding);
}

Result<void> raise_effective(int cap) {
    CapSets s = UB_TRY(cap_sets());
    std::uint64_t want = mask(s, &__user_cap_data_struct::effective) | cap_bit(cap);
    s.set_effective(cap, true);
    UB_TRYV(set_cap_sets(s));
    if (mask(UB_TRY(cap_sets()), &__user_cap_data_struct::effective) != want)
        return Error::msg("capability " + std::to_string(cap) + " did not become effective");
    return Ok{};
}

}  // namespace ub::privilege
