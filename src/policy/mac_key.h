// The MAC key: 32 random bytes only root may read, with which guest MACs
// under mac-prefix= are derived (acl.h, guest_mac). Without it anyone could
// compute any user's derived MAC, and search offline for a VM name of their
// own whose MAC is another user's.
//
// The file (kMacKeyPath by default) must be a regular file, not a symbolic
// link, owned by root, neither readable nor writable by group or others,
// and exactly kMacKeySize bytes; anything else is refused, never used.
// userbridged makes it at its first start if it is missing (create_mac_key);
// the Debian package's postinst makes it too. The helper never reads it:
// mac-prefix= is a traffic filter, which it refuses (acl.h, needs_filter).
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

}  // namespace ub::policy
