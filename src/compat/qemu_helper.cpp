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

// Whether the file carries file capabilities: read through its /proc link,
// which needs no read permission on the file (an unprivileged `userbridge
// check` sees a mode 0711 helper's too) and walks no path again.
bool has_file_caps(int fd) { return getxattr(proc_fd(fd).c_str(), "security.capability", nullptr, 0) >= 0; }

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

// C's isspace in the "C" locale, as QEMU's parser uses it.
bool space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// What QEMU's helper makes of one piece (its fgets line), or nothing when
// it reads it as we do. QEMU 7.2 refuses a name of IFNAMSIZ (16) bytes or
// more; later releases cut it to 15, which denies nothing either.
std::optional<std::string> reads_otherwise(std::string_view piece, bool included) {
    std::string_view p = piece;
    while (!p.empty() && space(p.front())) p.remove_prefix(1);
    if (p.empty() || p.front() == '#') return std::nullopt;
    std::size_t sep = p.find(' ');
    if (sep == std::string_view::npos) sep = p.find('\t');
    std::string_view cmd = p.substr(0, sep);
    std::string_view arg = sep == std::string_view::npos ? std::string_view() : trim(p.substr(sep + 1));
    const std::string stops = included ? "reads nothing more of this file: denies after it do not count for it"
                                       : "refuses every request";
    if (sep == std::string_view::npos || (cmd != "allow" && cmd != "deny" && cmd != "include"))
        return "QEMU's bridge helper cannot parse it (no command it knows before the first space) and " + stops;
    if (cmd == "include")
        return arg.empty() || arg.front() == '/'
                   ? std::nullopt
                   : std::optional<std::string>("QEMU's bridge helper opens " + std::string(arg) +
                                                " from its caller's working directory, which the caller "
                                                "chooses, and takes the rules found there");
    bool options = arg.find_first_of(" \t\n\v\f\r") != std::string_view::npos;
    if (!options) return std::nullopt;
    std::string what;
    if (cmd == "deny") what = "QEMU's bridge helper takes '" + std::string(arg) + "' for a name: it denies nothing by it";
    if (arg.size() >= 16 && included)
        what += (what.empty() ? "QEMU 7.2's bridge helper" : "; QEMU 7.2's") +
                std::string(" cannot take a name of 16 bytes or more and ") + stops;
    return what.empty() ? std::nullopt : std::optional<std::string>(what);
}

// The file at `path` as it is now, or nothing (unreadable to us, or not a
// regular file: the loader read it, so that is a race, not a finding).
std::optional<std::string> text_of(const std::string& path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    struct stat st{};
    if (!fd.valid() || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::string text;
    char buf[16384];
    for (ssize_t n; (n = read(fd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0) return std::nullopt;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

}  // namespace

std::vector<PrivilegedHelper> privileged_qemu_helpers(std::span<const std::string_view> paths) {
    std::vector<PrivilegedHelper> out;
    for (std::string_view p : paths)
        if (std::optional<PrivilegedHelper> h = privileged(p)) out.push_back(std::move(*h));
    return out;
}

std::vector<QemuReadsOtherwise> qemu_reads_otherwise(std::string_view text, bool included) {
    std::vector<QemuReadsOtherwise> out;
    int lineno = 0;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
        text.remove_prefix(line.size());
        ++lineno;
        // fgets into QEMU's 4,096-byte buffer: a longer line is read as
        // several, its tail parsed as a line of its own.
        for (std::string_view rest = line; !rest.empty();) {
            std::string_view piece = rest.substr(0, std::min<std::size_t>(rest.size(), 4095));
            rest.remove_prefix(piece.size());
            if (std::optional<std::string> what = reads_otherwise(piece, included)) {
                out.push_back({lineno, std::string(trim(line)), std::move(*what)});
                break;
            }
        }
    }
    return out;
}

std::vector<std::string> qemu_warnings(const std::vector<PrivilegedHelper>& helpers, const policy::Policy& policy) {
    std::vector<std::string> lines;
    if (helpers.empty()) return lines;
    for (const policy::FileInfo& f : policy.files) {
        std::optional<std::string> text = text_of(f.path);
        if (!text) continue;
        for (const QemuReadsOtherwise& q : qemu_reads_otherwise(*text, f.includer >= 0))
            lines.push_back(f.path + ":" + std::to_string(q.line) + ": '" + q.text + "': " + q.what);
    }
    if (lines.empty()) return lines;
    std::vector<std::string> out;
    for (const PrivilegedHelper& h : helpers)
        out.push_back("QEMU's bridge helper " + h.path + " is privileged (" + h.why +
                      ") and reads this ACL too, by QEMU's rules, which any user may run it under: the " +
                      (lines.size() == 1 ? std::string("line") : std::to_string(lines.size()) + " lines") +
                      " below mean something else to it; remove its privilege (" + h.remedy +
                      ") or keep to what both read alike");
    out.insert(out.end(), lines.begin(), lines.end());
    return out;
}

}  // namespace ub::compat
