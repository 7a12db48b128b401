// userbridged's user and group lookups, answered by a process of their own.
//
// NSS modules do whatever their database needs: systemd's walks
// /run/systemd/userdb and talks varlink, sss talks to sssd and maps its
// caches, ldap talks to nslcd. The daemon's seccomp filter cannot list all
// of that (a caller without an /etc/passwd entry killed the daemon with
// SIGSYS once systemd's module listed a directory), and that code should not
// run in a process holding CAP_NET_ADMIN anyway. So before the filter, and
// before it drops privilege, the daemon forks a broker that keeps nothing:
// no capabilities, uid and gid nobody (when the daemon runs as root),
// no-new-privs, no fd but its end of a socketpair, no filter (NSS may need
// anything). It answers one question at a time (protocol/userdb_wire.h) and
// exits when the daemon's end closes, or with the daemon (PDEATHSIG).
//
// The daemon waits at most kTimeout for an answer, and after a timeout
// only kStalledTimeout until the broker answers again; a late answer is
// recognised by its sequence number and dropped. If the broker is gone,
// every lookup is an Error: audit records say user=?, and an ACL whose deny
// rules name users or groups is refused (a deny must not lapse).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "protocol/userdb_wire.h"

namespace ub::daemon {

class UserDb {
public:
    static constexpr std::chrono::milliseconds kTimeout{2000};
    // After a wait has timed out, until an answer comes again.
    static constexpr std::chrono::milliseconds kStalledTimeout{100};

    // Forks the broker; the caller keeps running as it was.
    static Result<UserDb> start();

    // The login name of `uid`, printable, or "?" (no entry, or no answer):
    // for audit records, asked for once the client has its reply.
    std::string user_name(uid_t uid);
    // For the ACL loader's hooks: the id, -1 for no such name, an Error
    // when the database could not answer.
    Result<long long> user_id(const std::string& name);
    Result<long long> group_id(const std::string& name);

private:
    explicit UserDb(UniqueFd sock) : sock_(std::move(sock)) {}
    Result<protocol::userdb::Answer> ask(protocol::userdb::Kind kind, const std::string& arg);
    Result<std::uint32_t> send_question(protocol::userdb::Kind kind, const std::string& arg);
    Result<protocol::userdb::Answer> await(std::uint32_t seq, protocol::userdb::Kind kind);
    Result<long long> id_of(protocol::userdb::Kind kind, const std::string& name);

    UniqueFd sock_;
    std::uint32_t seq_ = 0;
    bool stalled_ = false;  // the last wait timed out, and no answer came since
};

}  // namespace ub::daemon
