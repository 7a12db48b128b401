// The one way a process of ours gives up privilege: the helper, userbridged and
// its user database process all call
// drop_to() with the state they want, and it reads back what the kernel
// holds afterwards (ids, every capability set, no-new-privs, dumpable),
// failing closed when anything differs from that state.
//
// should: empty the bounding set when asked and able, change ids (keeping
//         the capabilities asked for across the change of uid), set the
//         effective and permitted sets exactly and the inheritable one
//         empty (which empties the ambient set: cap_capset() keeps it
//         within both), set no-new-privs, and non-dumpable when asked.
// must not: return Ok while any id or capability differs from the target.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "base/result.h"

namespace ub::privilege {

constexpr std::uint64_t cap_bit(int cap) { return std::uint64_t{1} << cap; }

enum class Groups { Keep, Clear };
// Emptying the bounding set needs CAP_SETPCAP: a process started with
// file capabilities, or by a systemd unit whose CapabilityBoundingSet= leaves
// it out, has no CAP_SETPCAP and keeps the set it was given (with
// no-new-privs and no exec, it gives nothing).
enum class Bounding { Keep, ClearWhenAble };
enum class Dumpable { Keep, No };

struct DropTarget {
    std::optional<uid_t> uid;  // real, effective and saved; unset: the real uid
    std::optional<gid_t> gid;  // likewise
    Groups groups = Groups::Keep;
    std::uint64_t effective = 0;
    std::uint64_t permitted = 0;
    Bounding bounding = Bounding::Keep;
    Dumpable dumpable = Dumpable::Keep;
};

Result<void> drop_to(const DropTarget& target);

// Makes `cap`, held in the permitted set, effective too; an error unless
// the effective set is then exactly the old one plus `cap`.
Result<void> raise_effective(int cap);

}  // namespace ub::privilege
