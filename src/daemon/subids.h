// Subordinate uids (subuid(5), /etc/subuid): ranges of uids that an account
// may map into user namespaces it makes (newuidmap, setuid root). A process
// running as one of them is that account's, yet the kernel names it to us
// (SO_PEERCRED) by the subordinate uid, 65,536 of them per account on
// Debian by default. userbridged's bounds per user (open connections, a
// summary of refusals, unread reply fds) count such a uid as its owner's,
// or one user holds the whole daemon's connection limit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ub::daemon {

inline constexpr const char* kSubUidPath = "/etc/subuid";

struct SubRange {
    std::string owner;  // a user name, or a uid in decimal
    uid_t first = 0;
    std::uint32_t count = 0;
};

// The ranges of subuid(5)'s "owner:first:count" lines; a line that is not
// one is skipped, as newuidmap skips it. Pure.
std::vector<SubRange> parse_subids(std::string_view text);

// What tells one version of a file from the next: another file renamed
// over it (shadow's tools do so), one written in place, or it made or
// removed. Only what its writer changes: not its change time, which a
// hard link anyone may make to it moves too. Not a hash: a write within
// the clock's tick that keeps the size passes unseen.
struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    long long mtime_s = 0, mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
};
FileStamp stamp_of(const std::string& path);

// Subordinate uid -> owning account's uid.
class SubUids {
public:
    // The file's ranges, owners looked up by `user_id` (-1: no such user),
    // each name once; none when the file does not exist. A range whose
    // owner's name the user database does not know, or could not answer
    // for, keeps the owner it had in `before` (the ranges read before: a
    // directory offline for a while), asked for again (any_unknown), or
    // has none known (unknown_owner): a new account's, before a cache of
    // the database knows it, is not left to be no one's. A range of
    // `before` that the file no longer has, and no range of it overlaps,
    // stays as one with no owner known: processes in the user namespaces
    // its owner made keep its uids, which would be no one's.
    static Result<SubUids> load(const std::string& path,
                                const std::function<Result<long long>(const std::string&)>& user_id,
                                const SubUids* before = nullptr);
    // The account `uid` belongs to: its owner's uid if it is subordinate,
    // else itself. What bounds count against (quotas, connections).
    uid_t account_of(uid_t uid) const;
    // The account a subordinate `uid` speaks as to policy (user= rules,
    // polkit's subject), which may then judge it as that user; none for
    // any other uid, and none for a range of root's (an unprivileged
    // container's, as LXC and Incus give): no rule for root is meant for
    // it, and polkit authorizes uid 0 for anything, whatever its rules.
    std::optional<uid_t> policy_account(uid_t uid) const;
    // Whether `uid` is in a range of root's: no account's, to policy.
    bool of_root(uid_t uid) const { return uid != 0 && account_of(uid) == 0; }
    // The range `uid` is in, when the user database did not know its
    // owner's name; userbridged refuses such a uid.
    struct Unknown {
        std::string name;
        uid_t first;
        bool removed;  // the range was its, and is no longer in the file
    };
    std::optional<Unknown> unknown_owner(uid_t uid) const;
    // Whether some owner is unknown, or kept from before.
    bool any_unknown() const;
    // Those owners asked for again, each name once; whether any answer
    // changed a range's owner.
    Result<bool> resolve_unknown(const std::function<Result<long long>(const std::string&)>& user_id);
    // The file as it was when these ranges were read (stamped first: a
    // change while it is read shows as a stamp of the next version).
    const FileStamp& stamp() const { return stamp_; }
    // Whether `o` has the same ranges, with the same owners (known or not).
    bool same_ranges(const SubUids& o) const;

private:
    struct Owned {
        uid_t first;
        std::uint32_t count;
        uid_t owner;
        std::string name;    // as the file names the owner
        bool known = true;   // false: `owner` means nothing (unknown_owner)
        bool kept = false;   // `owner` from the ranges before, the name unanswered now
        bool removed = false;  // in the ranges before, not in the file: refused until SIGHUP
    };
    const Owned* range_of(uid_t uid) const;
    std::vector<Owned> ranges_;
    FileStamp stamp_;
};

}  // namespace ub::daemon
