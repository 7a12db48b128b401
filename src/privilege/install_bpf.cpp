// install_bpf() alone: the helper installs a filter compiled at build time,
// and keeping this apart from seccomp.cpp keeps libseccomp out of its link.
#include "privilege/install_bpf.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "base/system.h"

namespace ub::privilege {

Result<void> install_bpf(const sock_filter* prog, std::size_t len) {
    sock_fprog fprog{static_cast<unsigned short>(len), const_cast<sock_filter*>(prog)};
    return system::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, reinterpret_cast<unsigned long>(&fprog),
                         "seccomp: cannot install the filter");
}

}  // namespace ub::privilege
