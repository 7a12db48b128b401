#include "policy/accounts.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace ub::policy {

namespace {

// Calls `call(buf, size)`, one getpw*_r or getgr*_r, with a buffer that
// grows while the entry does not fit (ERANGE), up to 1 MiB (a group entry
// lists its members). The buffer is not zeroed: an exec'd helper pays for
// every page it touches, and a short entry touches one.
template <class Call>
int with_nss_buffer(Call call) {
    constexpr std::size_t kMax = 1 << 20;
    for (std::size_t size = 1024;; size *= 4) {
        auto buf = std::make_unique_for_overwrite<char[]>(size);
        int rc = call(buf.get(), size);
        if (rc != ERANGE || size >= kMax) return rc;
    }
}

std::optional<Account> from(int rc, const passwd* found) {
    if (rc != 0 || !found) return std::nullopt;
    return Account{found->pw_name, found->pw_uid, found->pw_gid};
}

// One getpwuid_r or getpwnam_r, as an Account.
template <class Get>
std::optional<Account> passwd_entry(Get get) {
    std::optional<Account> out;
    with_nss_buffer([&](char* buf, std::size_t size) {
        passwd pw{};
        passwd* found = nullptr;
        int rc = get(&pw, buf, size, &found);
        out = from(rc, found);  // `found` points into buf
        return rc;
    });
    return out;
}

}  // namespace

std::optional<Account> account_by_uid(uid_t uid) {
    return passwd_entry([&](passwd* pw, char* buf, std::size_t size, passwd** found) {
        return getpwuid_r(uid, pw, buf, size, found);
    });
}

std::optional<Account> account_by_name(const std::string& name) {
    return passwd_entry([&](passwd* pw, char* buf, std::size_t size, passwd** found) {
        return getpwnam_r(name.c_str(), pw, buf, size, found);
    });
}

std::optional<gid_t> group_id_by_name(const std::string& name) {
    std::optional<gid_t> out;
    with_nss_buffer([&](char* buf, std::size_t size) {
        group gr{};
        group* found = nullptr;
        int rc = getgrnam_r(name.c_str(), &gr, buf, size, &found);
        if (rc == 0 && found) out = found->gr_gid;
        return rc;
    });
    return out;
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
