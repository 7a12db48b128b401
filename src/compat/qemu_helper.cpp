#include "compat/qemu_helper.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <optional>

#include "base/fd.h"

namespace ub::compat {

namespace {

std::string proc_fd(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Whether the file `fd` (O_PATH) is one of ours, by the name it resolved
// to. Unknown (no /proc) counts as QEMU's: a warning too many beats one
// missed.
bool ours(int fd) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(AT_FDCWD, proc_fd(fd).c_str(), target, sizeof target);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof target) return false;
    std::string_view resolved(target, static_cast<std::size_t>(n));
    return resolved.substr(resolved.rfind('/') + 1).starts_with("userbridge-");
}

// Whether the file carries file capabilities. An O_PATH fd takes no
// fgetxattr on older kernels, so the same inode is opened read-only
// through it: no path walk again, no race with a rename.
bool has_file_caps(int fd) {
    UniqueFd readable(open(proc_fd(fd).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    return readable.valid() && fgetxattr(readable.get(), "security.capability", nullptr, 0) >= 0;
}

void add(PrivilegedHelper& h, const std::string& why, const std::string& remedy) {
    h.why += (h.why.empty() ? "" : ", ") + why;
    h.remedy += (h.remedy.empty() ? "" : ", ") + remedy + " " + h.path;
}

std::optional<PrivilegedHelper> privileged(std::string_view path) {
    PrivilegedHelper h{std::string(path), "", ""};
    UniqueFd fd(open(h.path.c_str(), O_PATH | O_CLOEXEC));
    struct stat st{};
    if (!fd.valid() || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || ours(fd.get())) return std::nullopt;
    if ((st.st_mode & S_ISUID) && st.st_uid == 0) add(h, "setuid root", "chmod u-s");
    if (st.st_mode & S_ISGID) add(h, "setgid (group " + std::to_string(st.st_gid) + ")", "chmod g-s");
    if (has_file_caps(fd.get())) add(h, "file capabilities (security.capability)", "setcap -r");
    if (h.why.empty()) return std::nullopt;
    return h;
}

}  // namespace

std::vector<PrivilegedHelper> privileged_qemu_helpers(std::span<const std::string_view> paths) {
    std::vector<PrivilegedHelper> out;
    for (std::string_view p : paths)
        if (std::optional<PrivilegedHelper> h = privileged(p)) out.push_back(std::move(*h));
    return out;
}

std::vector<std::string> qemu_deny_warnings(const std::vector<PrivilegedHelper>& helpers,
                                            const std::vector<policy::QemuBlindDeny>& denies) {
    std::vector<std::string> out;
    if (helpers.empty() || denies.empty()) return out;
    for (const PrivilegedHelper& h : helpers)
        out.push_back("QEMU's bridge helper " + h.path + " is privileged (" + h.why +
                      ") and reads this ACL, but takes a deny's options as part of the interface name: it "
                      "denies nothing by the " +
                      (denies.size() == 1 ? std::string("deny") : std::to_string(denies.size()) + " denies") +
                      " below, and an allow still grants through it; remove its privilege (" + h.remedy +
                      ") or do not rely on those denies");
    for (const policy::QemuBlindDeny& d : denies)
        out.push_back(d.where + ": '" + d.text + "': QEMU's bridge helper denies nothing by it");
    return out;
}

std::vector<std::string> qemu_deny_warnings(const std::vector<policy::Rule>& rules) {
    std::vector<policy::QemuBlindDeny> denies = policy::denies_qemu_ignores(rules);
    if (denies.empty()) return {};
    return qemu_deny_warnings(privileged_qemu_helpers(), denies);
}

}  // namespace ub::compat
