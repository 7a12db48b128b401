// userbridged's user and group lookups, answered by a process of their own.
//
// NSS modules do whatever their database needs: systemd's walks
// /run/systemd/userdb and talks varlink, sss talks to sssd and maps its
// caches, ldap talks to nslcd. The daemon's seccomp filter cannot list all
// of that (a caller without an /etc/passwd entry killed the daemon with
// SIGSYS once systemd's module listed a directory), and that code should not
// run in a process holding CAP_NET_ADMIN anyway. So before the filter, and
// before it drops privilege, the daemon forks a broker that keeps nothing:
// no capabilities, no-new-privs, no fd but its end of a socketpair, no
// filter (NSS may need anything), and, when the daemon runs as root, the
// uid and gid of UB_USERDB_USER (_userbridge), a system user of its own
// that the package and `cmake --install` create: no other process runs as
// it, so none but root can signal it (under the shared uid nobody, any
// process running as nobody could kill it). The daemon serves only once
// the broker says it has become that user; without the user, it does not
// start. It answers one question at a time (protocol/userdb_wire.h) and
// exits when the daemon's end closes, or with the daemon (PDEATHSIG).
//
// Names for audit records are asked for without waiting; the server
// collects them as they come, and gives each up after kTimeout. The ACL's
// lookups wait, at most kTimeout, and after a timeout only kStalledTimeout
// until the broker answers again; a late answer is recognised by its
// sequence number and dropped. If the broker is gone, every lookup is an
// Error, and fd() is -1: the server then stops the daemon (server.h), so
// that nothing is decided without names and the service manager starts
// it again, with a new broker.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "protocol/userdb_wire.h"

namespace ub::daemon {

class UserDb {
public:
    static constexpr std::chrono::milliseconds kTimeout{2000};
    // After a wait has timed out, until an answer comes again.
    static constexpr std::chrono::milliseconds kStalledTimeout{100};
    // For the broker to say it has become its user.
    static constexpr std::chrono::milliseconds kStartTimeout{5000};

    // Forks the broker and waits until it has given up everything; an
    // Error when it could not (no such user, no CAP_SETUID). The caller
    // keeps running as it was.
    static Result<UserDb> start();

    // Names for audit records, asked for without waiting: ask_name() sends
    // the question (an Error when it cannot); once fd() is readable,
    // take_names() gives the answers that came since, each the question's
    // sequence number and the name, printable, or "?" (no such entry, or
    // the database failed). forget() gives a question up (its answer, if it
    // comes, is dropped) and makes lookups wait only kStalledTimeout until
    // the broker answers again. After a lookup that waited (user_id,
    // group_id), answers it read may be waiting in take_names() without
    // fd() being readable; the same holds for take_groups().
    Result<std::uint32_t> ask_name(uid_t uid);
    int fd() const { return sock_.get(); }  // -1 once the broker is gone
    std::vector<std::pair<std::uint32_t, std::string>> take_names();
    void forget(std::uint32_t seq);
    // The groups the group database lists uid's user in (its primary group
    // too), asked for without waiting, like a name: take_groups() gives
    // the answers. No gids when the uid has no entry; `why` says what
    // failed when the database could not list them all.
    struct Groups {
        std::uint32_t seq;
        std::vector<gid_t> gids;
        std::string why;
    };
    Result<std::uint32_t> ask_groups(uid_t uid);
    std::vector<Groups> take_groups();
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

    // One answer, without blocking: none when none is waiting; an Error,
    // and the socket dropped, when the broker is gone.
    Result<std::optional<std::string>> receive();
    // An answer that is not the one waited for: kept if it answers
    // ask_name() or ask_groups(), dropped if late.
    void keep_if_asked(std::uint32_t seq, std::string_view msg);
    // Reads every answer waiting, keeping those asked for without waiting.
    void drain();

    UniqueFd sock_;
    std::uint32_t seq_ = 0;
    bool stalled_ = false;  // the last wait timed out, and no answer came since
    // Questions asked without waiting and not yet answered: ask_name()'s
    // and ask_groups()'s, by sequence number.
    std::map<std::uint32_t, protocol::userdb::Kind> asked_;
    std::vector<std::pair<std::uint32_t, std::string>> named_;  // answers read, not yet taken
    std::vector<Groups> grouped_;
};

}  // namespace ub::daemon
