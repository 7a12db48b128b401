// The MAC key: 32 random bytes only root may read, with which guest MACs
// under mac-prefix= are derived (derive_mac, below). Without it anyone could
// compute any user's derived MAC, and search offline for a VM name of their
// own whose MAC is another user's.
//
// The file (kMacKeyPath by default) must be a regular file, not a symbolic
// link, owned by root, neither readable nor writable by group or others,
// and exactly kMacKeySize bytes; anything else is refused, never used.
// userbridged makes it at its first start if it is missing (create_mac_key);
// the Debian package's postinst makes it too. The helper never reads it,
// nor links this module: mac-prefix= is a traffic filter, which it refuses
// (acl.h, needs_daemon).
//
// Opening and reading are separate so that the checks are on the open fd;
// parsing is pure.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/result.h"
#include "policy/daemon_options.h"

namespace ub::policy {

inline constexpr std::size_t kMacKeySize = 32;

struct MacKey {
    std::array<std::uint8_t, kMacKeySize> bytes{};
};

// Whether `st` (an fstat of the opened key file) is acceptable. Pure.
Result<void> check_mac_key_file(const struct stat& st, const std::string& path);
// The key from the file's whole content. Pure.
Result<MacKey> parse_mac_key(std::string_view content, const std::string& path);

// Opens `path` (O_NOFOLLOW); a missing file is an error that says how to
// make one. Creates nothing.
Result<UniqueFd> open_mac_key(const std::string& path);
// Checks and reads an fd from open_mac_key.
Result<MacKey> read_mac_key(const UniqueFd& fd, const std::string& path);
// Both: for userbridged and `userbridge explain`.
Result<MacKey> load_mac_key(const std::string& path);

// userbridged at its start: the key at `path`, made first if there is
// none: its directory (mode 0700, if missing; its parent must exist) and
// the file (mode 0600, from getrandom, never replacing one that exists).
Result<MacKey> create_mac_key(const std::string& path);

// The guest MAC a Prefix policy gives: the prefix followed by the first
// bytes of HMAC-SHA256(key, "userbridge guest MAC v1\0" || uid (4 bytes,
// big endian) || length of the VM name (2 bytes, big endian) || VM name ||
// bridge). Stable for one key, uid, VM name and bridge; unpredictable to
// whoever cannot read the key, so nobody can search for a VM name whose MAC
// is another user's. The prefix's first byte (unicast, as the parser
// checks) is never replaced. Pure.
Mac derive_mac(const MacPolicy& policy, const MacKey& key, uid_t uid, std::string_view vm_name,
               std::string_view bridge);

// The engine's and `userbridge explain`'s deriver (acl.h, MacDeriver):
// derive_mac with `key`, which must outlive it, or the key's error.
MacDeriver deriver_for(const Result<MacKey>& key);

}  // namespace ub::policy
