#include "policy/accounts.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace ub::policy {

namespace {

std::optional<Account> from(int rc, const passwd* found) {
    if (rc != 0 || !found) return std::nullopt;
    return Account{found->pw_name, found->pw_uid, found->pw_gid};
}

}  // namespace

std::optional<Account> account_by_uid(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    int rc = getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);  // before `found` is read
    return from(rc, found);
}

std::optional<Account> account_by_name(const std::string& name) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    return from(rc, found);
}

std::vector<gid_t> database_groups(const Account& account) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    // Too small: n now says how many there are. Capped, so a huge group
    // database cannot make us allocate without bound.
    if (getgrouplist(account.name.c_str(), account.gid, groups.data(), &n) < 0 && n > 64) {
        groups.resize(static_cast<std::size_t>(std::min(n, 65536)));
        if (getgrouplist(account.name.c_str(), account.gid, groups.data(), &n) < 0) n = 0;
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    return groups;
}

Result<std::vector<gid_t>> process_groups() {
    int n = getgroups(0, nullptr);
    if (n < 0) return Error::sys("cannot read the process's groups");
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (n > 0 && getgroups(n, groups.data()) < 0) return Error::sys("cannot read the process's groups");
    return groups;
}

Requester requester_of(const Credentials& who) {
    Requester r{who.uid, {who.gid}};
    r.gids.insert(r.gids.end(), who.groups.begin(), who.groups.end());
    return r;
}

}  // namespace ub::policy
