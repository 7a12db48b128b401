#include "policy/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "base/fd.h"

namespace ub::policy {

namespace {

struct FileId {
    dev_t dev;
    ino_t ino;
    bool operator==(const FileId&) const = default;
};

struct Loader {
    const LoadOptions& opt;
    Policy policy;
    std::vector<FileId> stack;  // files being read, outermost first

    Result<void> load_file(const std::string& path, bool is_include, int depth);
    Result<std::string> read_checked(const UniqueFd& fd, const std::string& path, FileId& id);
};

bool skippable(int err) { return err == EACCES || err == ENOENT || err == ENOTDIR; }

Result<std::string> Loader::read_checked(const UniqueFd& fd, const std::string& path,
                                         FileId& id) {
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return Error::sys("cannot stat " + path);
    if (!S_ISREG(st.st_mode)) return Error::msg(path + " is not a regular file");
    if (st.st_uid != opt.trusted_owner)
        return Error::msg(path + " is not owned by root (owner uid " +
                          std::to_string(st.st_uid) + "); refusing it");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return Error::msg(path + " is writable by group or others; refusing it");
    if (static_cast<std::size_t>(st.st_size) > opt.max_file_size)
        return Error::msg(path + " is larger than " + std::to_string(opt.max_file_size) +
                          " bytes; refusing it");
    id = {st.st_dev, st.st_ino};
    if (opt.after_open) opt.after_open(path.c_str());

    std::string text;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::sys("cannot read " + path);
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        // The size may have grown since fstat; the cap holds for what we read.
        if (text.size() > opt.max_file_size)
            return Error::msg(path + " is larger than " + std::to_string(opt.max_file_size) +
                              " bytes; refusing it");
    }
    return text;
}

Result<void> Loader::load_file(const std::string& path, bool is_include, int depth) {
    if (depth > opt.max_depth)
        return Error::msg(path + ": includes nested deeper than " +
                          std::to_string(opt.max_depth) + " levels");
    if (policy.files_read.size() >= opt.max_files)
        return Error::msg(path + ": more than " + std::to_string(opt.max_files) +
                          " files included");

    // O_NOFOLLOW: a symlink as the last component is refused (ELOOP), so a
    // writable directory cannot redirect us to a file we did not vet.
    // O_NONBLOCK: opening a FIFO must not hang; fstat then refuses it.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (!fd.valid()) {
        int err = errno;
        if (is_include && skippable(err)) {
            policy.skipped.push_back(path + ": " + std::strerror(err));
            return Ok{};
        }
        if (err == ELOOP) return Error::msg(path + " is a symbolic link; refusing it");
        return Error::sys("cannot open " + path, err);
    }

    FileId id{};
    std::string text = UB_TRY(read_checked(fd, path, id));
    for (const FileId& open_id : stack)
        if (open_id == id) return Error::msg(path + ": include cycle");
    policy.files_read.push_back(path);

    std::vector<Line> lines = UB_TRY(parse(text, path));
    stack.push_back(id);
    for (Line& line : lines) {
        if (line.verb == Verb::Include) {
            UB_TRYV(load_file(resolve_include(path, line.arg), true, depth + 1));
            continue;
        }
        std::string bridge = line.arg == "all" ? std::string() : std::move(line.arg);
        policy.rules.push_back(Rule{line.verb, std::move(bridge), path, line.lineno});
    }
    stack.pop_back();
    return Ok{};
}

}  // namespace

std::string resolve_include(const std::string& including_file, const std::string& arg) {
    if (!arg.empty() && arg.front() == '/') return arg;
    std::size_t slash = including_file.rfind('/');
    if (slash == std::string::npos) return arg;  // only for a relative main path
    return including_file.substr(0, slash + 1) + arg;
}

Result<Policy> load(const std::string& path, const LoadOptions& options) {
    Loader loader{options, {}, {}};
    UB_TRYV(loader.load_file(path, false, 0));
    return std::move(loader.policy);
}

}  // namespace ub::policy
