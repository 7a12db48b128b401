// The process's effective, permitted and inheritable capability sets, read
// and written by one capget or capset each. libcap-ng also reads
// /proc/self/status twice, for the bounding and ambient sets that these
// checks do not use: file reads on the helper's path, and an open that
// the daemon's seccomp filter need not allow for this. For this module's
// own use (drop.cpp, process.cpp, fs_identity.cpp) and the daemon's user
// database process.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/result.h"

namespace ub::privilege {

struct CapSets {
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    bool has(const __u32 __user_cap_data_struct::*set, int cap) const {
        return (data[CAP_TO_INDEX(cap)].*set & CAP_TO_MASK(cap)) != 0;
    }
    bool effective(int cap) const { return has(&__user_cap_data_struct::effective, cap); }
    bool permitted(int cap) const { return has(&__user_cap_data_struct::permitted, cap); }
    void set_effective(int cap, bool on) {
        if (on) data[CAP_TO_INDEX(cap)].effective |= CAP_TO_MASK(cap);
        else data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
    }
};

inline Result<CapSets> cap_sets() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    CapSets sets;
    if (syscall(SYS_capget, &header, sets.data) != 0) return Error::sys("cannot read capabilities (capget)");
    return sets;
}

inline Result<void> set_cap_sets(const CapSets& sets) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    if (syscall(SYS_capset, &header, sets.data) != 0) return Error::sys("cannot set capabilities (capset)");
    return Ok{};
}

}  // namespace ub::privilege
