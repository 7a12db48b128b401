// QEMU's own bridge helper, where it is still privileged on this host, and
// what it makes of our ACL files, which it reads too. userbridged (its
// helpers looked for at start, before its filter; warned of at start and on
// each reload) and `userbridge check` warn with it; the privileged helper
// links none of this.
//
// Why: qemu-bridge-helper reads the file by its own rules
// (parse_acl_file): everything after "allow " or "deny " is one interface
// name, so a deny with an option denies nothing to it; an include is
// opened from its caller's working directory; a line it cannot parse in
// an included file ends its reading of that file. With it privileged, any
// user may run it past the rules userbridge reads.
//
// Invariant: it only looks. The helpers are opened (O_PATH) and fstat'ed,
// their capability attribute read; the ACL files read; nothing is run.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/loader.h"

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

// A line of an ACL file that qemu-bridge-helper reads otherwise than
// userbridge does.
struct QemuReadsOtherwise {
    int line;          // 1-based
    std::string text;  // the line, trimmed
    std::string what;  // what QEMU's helper makes of it
};

// Pure: the lines of `text`, an ACL file (`included`: reached through an
// include), that QEMU's helper reads otherwise, by its parse_acl_file: in
// pieces of 4,095 bytes, each the command up to its first space (else
// tab), then the rest trimmed as its one argument. Listed, where QEMU may
// grant what userbridge would not: a line longer than that piece whose
// tail QEMU parses as a line of its own; a deny with an option (it denies
// nothing: QEMU takes "br0 user=bob" for a name); an include by a relative
// path (opened from its caller's directory, which the caller chooses); and
// in an included file, a line it cannot parse (QEMU 7.2 also takes a name
// of 16 bytes or more for one), after which it reads nothing more of the
// file, where a deny or include comes later. Not listed: a short allow
// with an option (it matches nothing for QEMU), and in the main file a
// line QEMU cannot parse (it then refuses every request).
std::vector<QemuReadsOtherwise> qemu_reads_otherwise(std::string_view text, bool included);

// The warning, one line a message, for the ACL `policy` (each of its files
// read again) and the privileged QEMU helpers found: for each helper, what
// makes it privileged and what to do; then each line it reads otherwise,
// as FILE:LINE. Empty when either list is.
std::vector<std::string> qemu_warnings(const std::vector<PrivilegedHelper>& helpers, const policy::Policy& policy);

}  // namespace ub::compat
