// install_bpf() alone: the helper installs a filter compiled at build time,
// and keeping this apart from seccomp.cpp keeps libseccomp out of its link.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "privilege/seccomp.h"

namespace ub::privilege {

Result<void> install_bpf(const sock_filter* prog, std::size_t len) {
    sock_fprog fprog{static_cast<unsigned short>(len), const_cast<sock_filter*>(prog)};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0)
        return Error::sys("seccomp: cannot install the filter");
    return Ok{};
}

}  // namespace ub::privilege
