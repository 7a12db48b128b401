// database_groups() (database_groups.h), in a file of its own so that the
// helper, which takes its caller's groups from the kernel, does not link it.
#include <grp.h>

#include <string>

#include "accounts/database_groups.h"

namespace ub::accounts {

Result<std::vector<gid_t>> database_groups(const Account& account) {
    // Capped, so a huge group database cannot make us allocate without
    // bound; getgrouplist says how many there are when the list is short.
    constexpr int kMax = 65536;
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (getgrouplist(account.name.c_str(), account.gid, groups.data(), &n) < 0) {
        if (n > kMax)
            return Error::msg("the group database lists user " + account.name + " in more than " +
                              std::to_string(kMax) + " groups");
        groups.resize(static_cast<std::size_t>(n));
        if (getgrouplist(account.name.c_str(), account.gid, groups.data(), &n) < 0)
            return Error::msg("the groups of user " + account.name + " changed while being read");
    }
    groups.resize(static_cast<std::size_t>(n));
    return groups;
}

}  // namespace ub::accounts
