#include "accounts/accounts.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <memory>
#include <string>

namespace ub::accounts {

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

// The lookup's errno as an outcome: 0 with no entry is "no such entry";
// glibc also answers ENOENT when no NSS service could be asked at all
// (nsswitch.conf lists none). Anything else is a failure to answer, which
// must not pass for "no such entry": a deny naming the entry would lapse.
template <class T>
Result<std::optional<T>> outcome(int rc, std::optional<T> found, const std::string& what) {
    if (rc == 0 || (rc == ENOENT && !found)) return found;
    if (rc == ERANGE) return Error::msg("cannot look up " + what + ": its entry is larger than 1 MiB");
    return Error::sys("cannot look up " + what, rc);
}

// One getpwuid_r or getpwnam_r, as an Account.
template <class Get>
Result<std::optional<Account>> passwd_entry(Get get, const std::string& what) {
    std::optional<Account> out;
    int rc = with_nss_buffer([&](char* buf, std::size_t size) {
        passwd pw{};
        passwd* found = nullptr;
        int got = get(&pw, buf, size, &found);
        if (got == 0 && found) out = Account{found->pw_name, found->pw_uid, found->pw_gid};
        return got;  // `found` pointed into buf, freed after this
    });
    return outcome(rc, std::move(out), what);
}

}  // namespace

Result<std::optional<Account>> account_by_uid(uid_t uid) {
    return passwd_entry(
        [&](passwd* pw, char* buf, std::size_t size, passwd** found) {
            return getpwuid_r(uid, pw, buf, size, found);
        },
        "uid " + std::to_string(uid));
}

Result<std::optional<Account>> account_by_name(const std::string& name) {
    return passwd_entry(
        [&](passwd* pw, char* buf, std::size_t size, passwd** found) {
            return getpwnam_r(name.c_str(), pw, buf, size, found);
        },
        "user " + name);
}

Result<std::optional<gid_t>> group_id_by_name(const std::string& name) {
    std::optional<gid_t> out;
    int rc = with_nss_buffer([&](char* buf, std::size_t size) {
        group gr{};
        group* found = nullptr;
        int got = getgrnam_r(name.c_str(), &gr, buf, size, &found);
        if (got == 0 && found) out = found->gr_gid;
        return got;
    });
    return outcome(rc, out, "group " + name);
}

Result<long long> uid_of_name(const std::string& name) {
    std::optional<Account> a = UB_TRY(account_by_name(name));
    return a ? static_cast<long long>(a->uid) : -1LL;
}

Result<long long> gid_of_name(const std::string& name) {
    std::optional<gid_t> g = UB_TRY(group_id_by_name(name));
    return g ? static_cast<long long>(*g) : -1LL;
}

}  // namespace ub::accounts
