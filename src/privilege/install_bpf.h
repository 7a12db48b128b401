// The helper's sandbox stage, installed: the syscall allow-list whose
// contract is seccomp.h's (what the helper may and must not do once it is
// in), compiled to BPF at build time by seccomp-gen (export_seccomp()) and
// installed here without libseccomp. Apart from seccomp.h so that the
// helper includes none of the daemon's filter building.
#pragma once

#include <linux/filter.h>

#include <cstddef>

#include "base/result.h"

namespace ub::privilege {

// Installs a BPF program made by export_seccomp(). Needs no-new-privs.
Result<void> install_bpf(const sock_filter* prog, std::size_t len);

}  // namespace ub::privilege
