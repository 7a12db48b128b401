// fault_syscalls() (fault_syscalls.h); built into the seccomp generator,
// which bakes them into the faulty build's filter.
#include <sys/syscall.h>

#include "base/fault_syscalls.h"

namespace ub::fault {

std::vector<int> fault_syscalls() {
    return {SYS_getpid, SYS_gettid, SYS_tgkill, SYS_kill, SYS_clock_nanosleep, SYS_nanosleep};
}

}  // namespace ub::fault
