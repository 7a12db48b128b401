// QEMU's own bridge helper, where it is still privileged on this host, and
// what that means for our ACL file, which it reads too. userbridged (its
// helpers looked for at start, before its filter; warned of at start and on
// each reload) and `userbridge check` warn with it; the privileged helper
// links none of this.
//
// Why: qemu-bridge-helper takes everything after "deny " as one interface
// name, so a deny with an option denies nothing to it
// (policy/explain.h, denies_qemu_ignores). That only matters where a user
// can run it with privilege: setuid root, setgid, or file capabilities.
//
// Invariant: it only looks. The files are opened (O_PATH, then read-only
// through the same inode) and fstat'ed, their capability attribute read;
// nothing is executed.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/explain.h"

namespace ub::compat {

// Where QEMU's helper is found privileged.
inline constexpr std::string_view kQemuHelperPaths[] = {
    // Debian's, where an administrator made it setuid without our
    // userbridge-qemu-compat package
    "/usr/lib/qemu/qemu-bridge-helper",
    // Debian's, renamed aside by that package's diversion, mode, owner and
    // capabilities kept (packaging/debian/userbridge-qemu-compat.preinst)
    "/usr/lib/qemu/qemu-bridge-helper.debian",
    // Fedora's
    "/usr/libexec/qemu-bridge-helper",
};

struct PrivilegedHelper {
    std::string path;  // as listed, not resolved
    // "setuid root", "setgid", "file capabilities (security.capability)",
    // joined by ", " when more than one
    std::string why;
    // How to take it away: "chmod u-s PATH", "setcap -r PATH", ...
    std::string remedy;
};

// Each of `paths` that is a regular file (symlinks followed) with that
// privilege and is not one of our own programs: a path resolving to a
// file named userbridge-* (the compat package's link to userbridge-client,
// or an administrator's to userbridge-helper) is not QEMU's. A path that
// is absent or cannot be looked at is not listed.
std::vector<PrivilegedHelper> privileged_qemu_helpers(std::span<const std::string_view> paths = kQemuHelperPaths);

// The warning, one line a message: for each helper, what makes it
// privileged, that it denies nothing by the denies listed, and what to do;
// then each deny's file:line. Empty when either list is.
std::vector<std::string> qemu_deny_warnings(const std::vector<PrivilegedHelper>& helpers,
                                            const std::vector<policy::QemuBlindDeny>& denies);

// The same for a loaded ACL's rules and the helpers on this host, which
// are looked for only when some deny is one QEMU's helper ignores.
std::vector<std::string> qemu_deny_warnings(const std::vector<policy::Rule>& rules);

}  // namespace ub::compat
