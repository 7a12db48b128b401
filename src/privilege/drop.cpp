#include "privilege/drop.h"

#include <linux/capability.h>

#include <string>

#include "base/system.h"
#include "privilege/cap_sets.h"

namespace ub::privilege {

namespace {

using Set = __u32 __user_cap_data_struct::*;
constexpr Set kEffective = &__user_cap_data_struct::effective;
constexpr Set kPermitted = &__user_cap_data_struct::permitted;
constexpr Set kInheritable = &__user_cap_data_struct::inheritable;

std::uint64_t get(const CapSets& s, Set set) { return s.data[0].*set | (std::uint64_t{s.data[1].*set} << 32); }

void put(CapSets& s, Set set, std::uint64_t m) {
    s.data[0].*set = static_cast<__u32>(m);
    s.data[1].*set = static_cast<__u32>(m >> 32);
}

// The capabilities the running kernel knows still in the bounding set
// (PR_CAPBSET_READ is EINVAL past the last one).
Result<std::uint64_t> bounding_set() {
    std::uint64_t held = 0;
    for (unsigned long cap = 0;; ++cap) {
        Result<int> in = system::prctl_read(PR_CAPBSET_READ, cap, 0, "cannot read the bounding set");
        if (!in.ok()) return in.error().code() == EINVAL ? Result<std::uint64_t>(held) : in.error();
        if (*in) held |= cap_bit(static_cast<int>(cap));
    }
}

// Every capability the running kernel knows dropped from the bounding
// set, without reading it first: PR_CAPBSET_DROP takes one already gone,
// and is EINVAL past the last one (verify() reads the set afterwards).
Result<void> clear_bounding_set() {
    for (unsigned long cap = 0;; ++cap) {
        Result<void> r = system::prctl(PR_CAPBSET_DROP, cap, 0, "cannot empty the bounding set");
        if (!r.ok()) return cap > 0 && r.error().code() == EINVAL ? Result<void>(Ok{}) : r;
    }
}

Result<void> change_ids(const DropTarget& t, uid_t uid, gid_t gid) {
    // Root's uid given up would take the permitted set with it
    // (capabilities(7), "Effect of user ID changes"): kept across the
    // change, then set exactly.
    UB_TRYV(system::prctl(PR_SET_KEEPCAPS, 1, 0, "cannot keep capabilities (PR_SET_KEEPCAPS)"));
    if (t.groups == Groups::Clear) UB_TRYV(system::setgroups({}));
    UB_TRYV(system::setresgid(gid));
    UB_TRYV(system::setresuid(uid));
    return system::prctl(PR_SET_KEEPCAPS, 0, 0, "cannot reset PR_SET_KEEPCAPS");
}

// The ambient set needs no check of its own: the kernel keeps it within
// permitted and inheritable (cap_capset() masks it), and inheritable is
// checked to be empty.
Result<void> verify(const DropTarget& t, uid_t uid, gid_t gid, bool bounding_cleared) {
    auto differs = [](const std::string& what) { return Error::msg("privilege drop did not take: " + what); };
    system::Ids ids = UB_TRY(system::getresids());
    if (!ids.uid.all(uid) || !ids.gid.all(gid))
        return differs("ids are not " + std::to_string(uid) + ":" + std::to_string(gid));
    if (t.groups == Groups::Clear && !UB_TRY(system::getgroups()).empty())
        return differs("supplementary groups are still held");
    CapSets s = UB_TRY(cap_sets());
    if (get(s, kEffective) != t.effective || get(s, kPermitted) != t.permitted || get(s, kInheritable) != 0)
        return differs("capabilities other than those kept are held");
    if (bounding_cleared && UB_TRY(bounding_set()) != 0) return differs("the bounding set is not empty");
    if (UB_TRY(system::prctl_read(PR_GET_NO_NEW_PRIVS, 0, 0, "PR_GET_NO_NEW_PRIVS")) != 1)
        return differs("no-new-privs is not set");
    if (t.dumpable == Dumpable::No && UB_TRY(system::prctl_read(PR_GET_DUMPABLE, 0, 0, "PR_GET_DUMPABLE")) != 0)
        return differs("the process is dumpable");
    return Ok{};
}

}  // namespace

Result<void> drop_to(const DropTarget& t) {
    system::Ids ids = UB_TRY(system::getresids());
    uid_t uid = t.uid.value_or(ids.uid.real);
    gid_t gid = t.gid.value_or(ids.gid.real);
    bool clear_bounding = t.bounding == Bounding::ClearWhenAble && UB_TRY(cap_sets()).effective(CAP_SETPCAP);
    if (clear_bounding) UB_TRYV(clear_bounding_set());
    UB_TRYV(change_ids(t, uid, gid));
    CapSets s = UB_TRY(cap_sets());
    put(s, kEffective, t.effective);
    put(s, kPermitted, t.permitted);
    put(s, kInheritable, 0);
    UB_TRYV(set_cap_sets(s));
    // Nothing we could exec (we exec nothing) gains privilege.
    UB_TRYV(system::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, "cannot set no-new-privs"));
    if (t.dumpable == Dumpable::No) UB_TRYV(system::prctl(PR_SET_DUMPABLE, 0, 0, "cannot set non-dumpable"));
    return verify(t, uid, gid, clear_bounding);
}

Result<void> raise_effective(int cap) {
    CapSets s = UB_TRY(cap_sets());
    std::uint64_t want = get(s, kEffective) | cap_bit(cap);
    s.set_effective(cap, true);
    UB_TRYV(set_cap_sets(s));
    if (get(UB_TRY(cap_sets()), kEffective) != want)
        return Error::msg("capability " + std::to_string(cap) + " did not become effective");
    return Ok{};
}

}  // namespace ub::privilege
