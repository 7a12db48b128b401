#include "compat/qemu_helper.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "base/fd.h"
#include "base/names.h"

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

// GLib's g_ascii_isspace, as QEMU 7.2's parser uses it: not '\v', which
// userbridge takes for a space (a fourth cold review denied "br0\v" so).
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
// What userbridge's parser splits words at (policy/acl.cpp).
constexpr const char* kUbSpaces = " \t\n\v\f\r";

std::string_view trim(std::string_view s) {
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// fgets into QEMU's 4,096-byte buffer: a longer line is read as several.
constexpr std::size_t kQemuLine = 4095;

// One line as QEMU's parse_acl_file reads it (one fgets piece).
struct QemuLine {
    enum Kind { Blank, Parsed, Unparsable } kind = Blank;
    std::string_view cmd, arg;
};

QemuLine qemu_line(std::string_view piece) {
    std::string_view p = piece;
    while (!p.empty() && space(p.front())) p.remove_prefix(1);
    if (p.empty() || p.front() == '#') return {};
    std::size_t sep = p.find(' ');
    if (sep == std::string_view::npos) sep = p.find('\t');
    if (sep == std::string_view::npos) return {QemuLine::Unparsable, p, {}};
    QemuLine l{QemuLine::Parsed, p.substr(0, sep), trim(p.substr(sep + 1))};
    // QEMU 7.2 refuses a name of IFNAMSIZ (16) bytes or more; later releases
    // cut it to 15, which names no bridge of ours either.
    bool known = l.cmd == "allow" || l.cmd == "deny" || l.cmd == "include";
    if (!known || (l.cmd != "include" && l.arg.size() >= 16)) l.kind = QemuLine::Unparsable;
    return l;
}

// An argument that is not one word to userbridge: options after a name,
// or a byte QEMU keeps in it that userbridge does not.
bool has_options(std::string_view arg) { return arg.find_first_of(kUbSpaces) != std::string_view::npos; }

// The command as userbridge reads a line: its first word.
std::string_view ub_command(std::string_view line) {
    std::size_t start = line.find_first_not_of(kUbSpaces);
    if (start == std::string_view::npos) return {};
    line.remove_prefix(start);
    return line.substr(0, std::min(line.find_first_of(kUbSpaces), line.size()));
}

// What QEMU makes of a physical line's pieces past its first: Parsed if it
// takes one for a rule or include, Unparsable if one stops it, else Blank.
QemuLine::Kind tail_of(std::string_view line) {
    QemuLine::Kind worst = QemuLine::Blank;
    for (line.remove_prefix(std::min(line.size(), kQemuLine)); !line.empty();) {
        std::string_view piece = line.substr(0, std::min(line.size(), kQemuLine));
        line.remove_prefix(piece.size());
        QemuLine::Kind k = qemu_line(piece).kind;
        if (k == QemuLine::Parsed) return k;
        if (k == QemuLine::Unparsable) worst = k;
    }
    return worst;
}

// The file at `path` if it is still the one loaded (`id`), within the
// loader's size cap; else nothing (the loader read it, so that is a race or
// a read error, not a finding).
std::optional<std::string> text_of(const std::string& path, const policy::FileId& id) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    struct stat st{};
    if (!fd.valid() || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !(policy::FileId{st.st_dev, st.st_ino} == id))
        return std::nullopt;
    const std::size_t cap = policy::LoadOptions{}.max_file_size;
    std::string text;
    char buf[16384];
    for (;;) {
        ssize_t n = read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || text.size() + static_cast<std::size_t>(n) > cap) return std::nullopt;
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

std::vector<PrivilegedHelper> privileged_qemu_helpers(std::span<const std::string_view> paths) {
    std::vector<PrivilegedHelper> out;
    for (std::string_view p : paths)
        if (std::optional<PrivilegedHelper> h = privileged(p)) out.push_back(std::move(*h));
    return out;
}

std::vector<QemuReadsOtherwise> qemu_reads_otherwise(std::string_view text, bool included) {
    struct Line {
        int no;
        std::string_view text;  // without its newline
    };
    std::vector<Line> lines;
    for (int no = 1; !text.empty(); ++no) {
        std::size_t end = std::min(text.find('\n'), text.size());
        lines.push_back({no, text.substr(0, end)});
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    // For each line, the first at or after it that userbridge reads as a
    // deny or an include (lines.size() where none): what QEMU loses if it
    // stops reading there. One pass from the end, not a search a line.
    std::vector<std::size_t> lost(lines.size() + 1, lines.size());
    for (std::size_t i = lines.size(); i-- > 0;) {
        std::string_view cmd = ub_command(lines[i].text);
        lost[i] = cmd == "deny" || cmd == "include" ? i : lost[i + 1];
    }
    std::vector<QemuReadsOtherwise> out;
    auto note = [&out](const Line& l, std::string what) { out.push_back({l.no, std::string(trim(l.text)), std::move(what)}); };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const Line& l = lines[i];
        QemuLine::Kind tail = tail_of(l.text);
        if (tail == QemuLine::Parsed) {
            note(l, "QEMU's bridge helper reads it in pieces of 4,095 bytes, and the part past that as a line "
                    "of its own, which userbridge does not read");
            continue;
        }
        QemuLine q = qemu_line(l.text.substr(0, std::min(l.text.size(), kQemuLine)));
        if (tail == QemuLine::Unparsable) q.kind = QemuLine::Unparsable;
        if (q.kind == QemuLine::Blank) continue;
        if (q.kind == QemuLine::Parsed && q.cmd == "include") {
            if (!q.arg.empty() && q.arg.front() != '/')
                note(l, "QEMU's bridge helper opens " + printable(q.arg, 80) +
                            " from its caller's working directory, which the caller chooses, and takes the rules "
                            "found there");
            else if (has_options(q.arg))
                note(l, "QEMU's bridge helper opens '" + printable(q.arg, 80) +
                            "', not the file userbridge reads, and takes no rule of that one");
            continue;
        }
        bool deny = q.cmd == "deny" && has_options(q.arg);
        if (deny) note(l, "QEMU's bridge helper takes '" + printable(q.arg, 80) + "' for a name: it denies nothing by it");
        // QEMU stops reading an included file at a line it cannot parse (in
        // the main file it refuses every request): that matters only where
        // userbridge reads a deny or an include there or after it.
        if (q.kind != QemuLine::Unparsable || !included || lost[i] == lines.size()) continue;
        const Line& first = lines[lost[i]];
        std::string what = "QEMU's bridge helper (7.2) cannot parse it and reads nothing more of this file: line " +
                           std::to_string(first.no) + "'s " + std::string(ub_command(first.text)) +
                           ", and all after it, do not count for it";
        if (deny) out.back().what += "; " + what;
        else note(l, what);
    }
    return out;
}

std::vector<std::string> qemu_warnings(const std::vector<PrivilegedHelper>& helpers, const policy::Policy& policy) {
    std::vector<std::string> lines;
    if (helpers.empty()) return lines;
    for (const policy::FileInfo& f : policy.files) {
        std::optional<std::string> text = text_of(f.path, f.id);
        if (!text) continue;
        for (const QemuReadsOtherwise& q : qemu_reads_otherwise(*text, f.includer >= 0))
            lines.push_back(printable(f.path, 4096) + ":" + std::to_string(q.line) + ": '" + printable(q.text, 80) +
                            "': " + q.what);
    }
    if (lines.empty()) return lines;
    std::vector<std::string> out;
    for (const PrivilegedHelper& h : helpers)
        out.push_back("QEMU's bridge helper " + h.path + " is privileged (" + h.why +
                      ") and reads this ACL too, by QEMU's rules, which any user may run it under: " +
                      (lines.size() == 1 ? std::string("the line below means")
                                         : "the " + std::to_string(lines.size()) + " lines below mean") +
                      " something else to it; remove its privilege (" + h.remedy +
                      ") or keep to what both read alike");
    out.insert(out.end(), lines.begin(), lines.end());
    return out;
}

}  // namespace ub::compat
