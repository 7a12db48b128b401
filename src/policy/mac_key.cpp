#include "policy/mac_key.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/hmac_sha256.h"

namespace ub::policy {

namespace {

std::string dir_of(const std::string& path) {
    std::size_t slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::string how_to_make(const std::string& path) {
    return "start userbridged once (it makes the key), or as root: mkdir -p -m 0700 " + dir_of(path) +
           " && (umask 077; head -c " + std::to_string(kMacKeySize) + " /dev/urandom >" + path + ")";
}

Result<void> write_all(int fd, const std::uint8_t* p, std::size_t n, const std::string& path) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return Error::sys("cannot write " + path);
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return Ok{};
}

// A new key file, made whole under a temporary name and then linked into
// place, so that a crash never leaves a short key at `path`, and an
// existing key is never replaced (link fails with EEXIST).
Result<void> make_key_file(const std::string& path) {
    MacKey key;
    for (std::size_t got = 0; got < key.bytes.size();) {
        ssize_t n = getrandom(key.bytes.data() + got, key.bytes.size() - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::sys("getrandom");
        got += static_cast<std::size_t>(n);
    }
    UniqueFd fd(::open(dir_of(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (!fd.valid()) return Error::sys("cannot make a key file in " + dir_of(path));
    UB_TRYV(write_all(fd.get(), key.bytes.data(), key.bytes.size(), path));
    if (fsync(fd.get()) != 0) return Error::sys("cannot sync " + path);
    // Through /proc: linkat's AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH,
    // which userbridged has dropped by now (open(2), O_TMPFILE).
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    if (linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0 && errno != EEXIST)
        return Error::sys("cannot make " + path);
    return Ok{};
}

}  // namespace

Result<void> check_mac_key_file(const struct stat& st, const std::string& path) {
    if (!S_ISREG(st.st_mode)) return Error::msg(path + " is not a regular file; refusing it");
    if (st.st_uid != 0)
        return Error::msg(path + " is not owned by root (owner uid " + std::to_string(st.st_uid) +
                          "); refusing it");
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return Error::msg(path + " is readable or writable by group or others; refusing it (chmod 0600 " +
                          path + ")");
    if (st.st_size != static_cast<off_t>(kMacKeySize))
        return Error::msg(path + " is " + std::to_string(st.st_size) + " bytes, not " +
                          std::to_string(kMacKeySize) + "; refusing it");
    return Ok{};
}

Result<MacKey> parse_mac_key(std::string_view content, const std::string& path) {
    if (content.size() != kMacKeySize)
        return Error::msg(path + " is " + std::to_string(content.size()) + " bytes, not " +
                          std::to_string(kMacKeySize) + "; refusing it");
    MacKey key;
    std::transform(content.begin(), content.end(), key.bytes.begin(),
                   [](char c) { return static_cast<std::uint8_t>(c); });
    if (std::all_of(key.bytes.begin(), key.bytes.end(), [](std::uint8_t b) { return b == 0; }))
        return Error::msg(path + " is all zero bytes, not a random key; refusing it");
    return key;
}

Result<UniqueFd> open_mac_key(const std::string& path) {
    // O_NOFOLLOW: a symlink as the last component is refused (ELOOP).
    // O_NONBLOCK: a FIFO must not hang us; fstat then refuses it.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (fd.valid()) return fd;
    if (errno == ENOENT) return Error::msg("no MAC key at " + path + ": " + how_to_make(path));
    if (errno == ELOOP) return Error::msg(path + " is a symbolic link; refusing it");
    return Error::sys("cannot open the MAC key " + path);
}

Result<MacKey> read_mac_key(const UniqueFd& fd, const std::string& path) {
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return Error::sys("cannot stat " + path);
    UB_TRYV(check_mac_key_file(st, path));
    // One byte more than a key: a file that grew since fstat is seen.
    std::array<char, kMacKeySize + 1> buf{};
    std::size_t used = 0;
    while (used < buf.size()) {
        ssize_t n = ::read(fd.get(), buf.data() + used, buf.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::sys("cannot read " + path);
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    return parse_mac_key(std::string_view(buf.data(), used), path);
}

Result<MacKey> load_mac_key(const std::string& path) {
    UniqueFd fd = UB_TRY(open_mac_key(path));
    return read_mac_key(fd, path);
}

Result<MacKey> create_mac_key(const std::string& path) {
    if (::mkdir(dir_of(path).c_str(), 0700) != 0 && errno != EEXIST)
        return Error::sys("cannot make " + dir_of(path));
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) UB_TRYV(make_key_file(path));
    return load_mac_key(path);
}

Mac derive_mac(const MacPolicy& policy, const MacKey& key, uid_t uid, std::string_view vm_name,
               std::string_view bridge) {
    constexpr std::string_view kDomain{"userbridge guest MAC v1\0", 24};
    std::vector<std::uint8_t> msg(kDomain.begin(), kDomain.end());
    for (int shift = 24; shift >= 0; shift -= 8) msg.push_back(static_cast<std::uint8_t>(uid >> shift));
    msg.push_back(static_cast<std::uint8_t>(vm_name.size() >> 8));
    msg.push_back(static_cast<std::uint8_t>(vm_name.size()));
    msg.insert(msg.end(), vm_name.begin(), vm_name.end());
    msg.insert(msg.end(), bridge.begin(), bridge.end());
    Sha256Digest h = hmac_sha256(key.bytes, msg);
    Mac mac = policy.bytes;
    std::copy_n(h.begin(), 6 - policy.prefix_len, mac.begin() + policy.prefix_len);
    return mac;
}

MacDeriver deriver_for(const Result<MacKey>& key) {
    return [&key](const MacPolicy& prefix, uid_t uid, std::string_view vm_name,
                  std::string_view bridge) -> Result<Mac> {
        if (!key.ok()) return key.error();
        return derive_mac(prefix, key.value(), uid, vm_name, bridge);
    };
}

}  // namespace ub::policy
