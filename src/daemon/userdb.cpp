#include "daemon/userdb.h"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/number.h"
#include "base/system_sockets.h"
#include "accounts/accounts.h"
#include "accounts/database_groups.h"
#include "base/names.h"
#include "privilege/cap_sets.h"
#include "privilege/drop.h"
#include "privilege/process.h"

#ifndef UB_USERDB_USER
#error "UB_USERDB_USER must be set at build time"
#endif

namespace ub::daemon {

namespace {

namespace wire = protocol::userdb;
using Clock = std::chrono::steady_clock;

constexpr uid_t kOverflow = 65534;  // nobody: the uid every unmapped file and process shares

// The broker's own user, from /etc/passwd alone. A system user is a local
// entry (systemd-sysusers and adduser --system write it there); one that
// an NSS module serves could be pointed at a uid others run as by whoever
// runs the directory, and no NSS module runs here yet: this process still
// holds the daemon's capabilities.
Result<accounts::Account> own_user(const std::string& name) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen("/etc/passwd", "re"), std::fclose);
    if (!f) return Error::sys("cannot read /etc/passwd");
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(4096);
    for (;;) {
        int e = fgetpwent_r(f.get(), &pw, buf.data(), buf.size(), &found);
        // ERANGE: a longer line than the buffer, read again from its start.
        if (e == ERANGE && buf.size() < (std::size_t{1} << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (e == ENOENT) found = nullptr;  // the end of the file
        else if (e != 0) return Error::sys("cannot read /etc/passwd", e);
        if (!found || name == pw.pw_name) break;
    }
    if (!found)
        return Error::msg("user " + name + " does not exist in /etc/passwd: its user database process runs "
                          "as that system user, which userbridge's package and `cmake --install` create "
                          "(systemd-sysusers userbridge.conf); see userbridged(8)");
    // Root's uid or group would keep what the daemon drops; nobody's is
    // the uid anyone may run as.
    if (pw.pw_uid == 0 || pw.pw_gid == 0 || pw.pw_uid == kOverflow || pw.pw_gid == kOverflow)
        return Error::msg("user " + name + " is uid " + std::to_string(pw.pw_uid) + ", gid " +
                          std::to_string(pw.pw_gid) + ": its user database process needs a system user "
                          "of its own, neither root nor nobody");
    return accounts::Account{pw.pw_name, pw.pw_uid, pw.pw_gid};
}

// The broker's side of one question, as NSS answers it.
wire::Answer answer(const wire::Question& q) {
    wire::Answer a{q.seq, wire::Outcome::None, {}};
    auto found = [&](std::string v) {
        a.outcome = wire::Outcome::Found;
        a.value = std::move(v);
    };
    auto failed = [&](const Error& e) {
        a.outcome = wire::Outcome::Failed;
        a.value = e.message();
    };
    if (q.kind == wire::Kind::UserByUid) {
        auto uid = parse_decimal(q.arg, kMaxId);  // checked by decode_question
        Result<std::optional<accounts::Account>> r = accounts::account_by_uid(static_cast<uid_t>(*uid));
        if (!r.ok()) failed(r.error());
        else if (*r) found((*r)->name);
    } else if (q.kind == wire::Kind::GroupsByUid) {
        auto uid = parse_decimal(q.arg, kMaxId);  // checked by decode_question
        Result<std::optional<accounts::Account>> r = accounts::account_by_uid(static_cast<uid_t>(*uid));
        Result<std::vector<gid_t>> groups =
            !r.ok() ? Result<std::vector<gid_t>>(r.error())
            : *r    ? accounts::database_groups(**r)
                    : Result<std::vector<gid_t>>(std::vector<gid_t>{});
        if (!groups.ok()) failed(groups.error());
        else if (groups->size() > wire::kMaxGroups)
            failed(Error::msg("the group database lists user " + (*r)->name + " in more than " +
                              std::to_string(wire::kMaxGroups) + " groups"));
        else if (*r) found(wire::format_groups(*groups));
    } else if (q.kind == wire::Kind::UidByUser) {
        Result<std::optional<accounts::Account>> r = accounts::account_by_name(q.arg);
        if (!r.ok()) failed(r.error());
        else if (*r) found(std::to_string((*r)->uid));
    } else {
        Result<std::optional<gid_t>> r = accounts::group_id_by_name(q.arg);
        if (!r.ok()) failed(r.error());
        else if (*r) found(std::to_string(**r));
    }
    // A name NSS gives us that the wire cannot carry is no answer at all
    // (nor, a list of groups cut short).
    if (a.outcome == wire::Outcome::Found && !wire::decode_answer(wire::encode(a), q.kind).ok()) {
        a.outcome = wire::Outcome::Failed;
        a.value = "the database's entry cannot be passed on";
    }
    return a;
}

// Keeps nothing the daemon has: as root (userbridged's systemd unit, or
// started by hand), becomes UB_USERDB_USER, a system user no other process
// runs as, so that only root can signal it (kill(2) needs the sender's
// real or effective uid to match the target's real or saved uid, or
// CAP_KILL); the shared uid nobody let any process running as nobody
// kill it. It needs CAP_SETUID and CAP_SETGID for that (the unit grants
// them for this); without them it refuses, rather than stay root. Empties
// every capability set (the bounding set too, given CAP_SETPCAP) and sets
// no-new-privs. A daemon not run as root (tests, with an ambient
// CAP_NET_ADMIN) keeps its own uid: who can signal one can signal both.
Result<void> give_up_everything() {
    privilege::CapSets caps = UB_TRY(privilege::cap_sets());
    bool as_root = geteuid() == 0;
    if (as_root && !(caps.effective(CAP_SETUID) && caps.effective(CAP_SETGID)))
        return Error::msg("cannot become " UB_USERDB_USER " without CAP_SETUID and CAP_SETGID");
    privilege::DropTarget t;  // no capability at all
    t.bounding = privilege::Bounding::ClearWhenAble;
    if (as_root) {
        accounts::Account own = UB_TRY(own_user(UB_USERDB_USER));
        t.uid = own.uid;
        t.gid = own.gid;
        t.groups = privilege::Groups::Clear;
    }
    return privilege::drop_to(t);
}

// The broker's first message, before any question: ready (sequence 0,
// found, its user's name), or why it could not start (sequence 0, failed).
// Questions are numbered from 1.
void say_started(int sock, const Result<void>& started) {
    wire::Answer a{0, wire::Outcome::Found, UB_USERDB_USER};
    if (!started.ok()) a = {0, wire::Outcome::Failed, started.error().message()};
    std::string out = wire::encode(a);
    (void)send(sock, out.data(), out.size(), MSG_NOSIGNAL);
}

[[noreturn]] void broker(int sock, pid_t daemon) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != daemon) _exit(1);
    // A SIGHUP meant for the daemon's reload, sent to its whole group or
    // unit, must not take the lookups away.
    signal(SIGHUP, SIG_IGN);
    if (auto r = privilege::close_fds_except(sock); !r.ok()) _exit(1);
    Result<void> started = give_up_everything();
    // The change of uid cleared the parent-death signal (the kernel does on
    // any change of effective or filesystem ids): set again.
    if (started.ok() && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != daemon))
        started = Error::sys("cannot die with the daemon");
    say_started(sock, started);
    if (!started.ok()) _exit(1);
    char buf[wire::kMaxMessage + 1];
    for (;;) {
        ssize_t n = recv(sock, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(0);  // the daemon is gone
        Result<wire::Question> q = wire::decode_question(std::string_view(buf, static_cast<std::size_t>(n)));
        if (!q.ok()) _exit(1);  // only the daemon writes here: something is badly wrong
        std::string out = wire::encode(answer(*q));
        if (send(sock, out.data(), out.size(), MSG_NOSIGNAL) < 0) _exit(0);
    }
}

// The daemon does not serve until its user database process has become
// its own user: without it, it would decide without names.
Result<void> await_start(int sock) {
    auto fail = [](const std::string& why) { return Error::msg("the user database process did not start: " + why); };
    pollfd p{sock, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(UserDb::kStartTimeout.count()));
    if (n < 0) return Error::sys("poll");
    if (n == 0) return fail("no word within " + std::to_string(UserDb::kStartTimeout.count()) + " ms");
    char buf[wire::kMaxMessage + 1];
    ssize_t got = recv(sock, buf, sizeof buf, 0);
    if (got <= 0) return fail("it exited");
    Result<wire::Answer> a = wire::decode_answer(std::string_view(buf, static_cast<std::size_t>(got)),
                                                 wire::Kind::UserByUid);
    if (!a.ok() || a->seq != 0) return fail("it said something else first");
    if (a->outcome != wire::Outcome::Found) return fail(printable(a->value, wire::kMaxWhy));
    return Ok{};
}

}  // namespace

Result<UserDb> UserDb::start() {
    auto [ours, theirs] = UB_TRY(system::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
                                                     "cannot make the user database's socket"));
    pid_t daemon = getpid();
    pid_t pid = fork();
    if (pid < 0) return Error::sys("cannot start the user database process");
    if (pid == 0) broker(theirs.get(), daemon);
    theirs.reset();  // so that its death reads as EOF
    UB_TRYV(await_start(ours.get()));
    return UserDb(std::move(ours));
}

Result<std::uint32_t> UserDb::send_question(wire::Kind kind, const std::string& arg) {
    if (!sock_.valid()) return Error::msg("the user database process is gone");
    std::uint32_t seq = ++seq_;
    std::string q = UB_TRY(wire::encode(wire::Question{seq, kind, arg}));
    if (send(sock_.get(), q.data(), q.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        Error e = Error::sys("cannot ask the user database process");
        if (errno == EPIPE || errno == ECONNRESET) sock_.reset();
        return e;
    }
    return seq;
}

// Answers come in the order asked; one to a question we stopped waiting
// for is read and dropped. Once a wait has timed out, the next ones wait
// only briefly until the broker answers again: an ACL naming fifty users
// must not hold the daemon for fifty full timeouts while NSS hangs.
Result<wire::Answer> UserDb::await(std::uint32_t seq, wire::Kind kind) {
    bool was_stalled = stalled_;
    auto deadline = Clock::now() + (stalled_ ? kStalledTimeout : kTimeout);
    for (;;) {
        if (!sock_.valid()) return Error::msg("the user database process is gone");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{sock_.get(), POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(std::max<long long>(left, 0)));
        if (n < 0 && errno != EINTR) return Error::sys("poll");
        if (n == 0 && left <= 0 && was_stalled && stalled_)
            return Error::msg("the user database is not answering (it did not within " +
                              std::to_string(kTimeout.count()) + " ms, and has not since)");
        if (n == 0 && left <= 0) {
            stalled_ = true;
            return Error::msg("the user database did not answer within " +
                              std::to_string(kTimeout.count()) + " ms");
        }
        if (n <= 0) continue;
        std::optional<std::string> got = UB_TRY(receive());
        if (!got) continue;
        std::string_view msg = *got;
        // Its sequence number says whether it is ours, a name for an audit
        // record (kept for take_names), or a late answer to an earlier
        // question (one that timed out), which is dropped.
        Result<std::uint32_t> answers = wire::answer_seq(msg);
        if (answers.ok() && *answers != seq) {
            keep_if_asked(*answers, msg);
            deadline = std::max(deadline, Clock::now() + kTimeout);  // it answers again: wait for ours
            continue;
        }
        return wire::decode_answer(msg, kind);
    }
}

Result<std::optional<std::string>> UserDb::receive() {
    for (;;) {
        char buf[wire::kMaxMessage + 1];
        ssize_t got = recv(sock_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == EAGAIN) return std::optional<std::string>();
        if (got <= 0) {
            sock_.reset();
            return Error::msg("the user database process is gone");
        }
        stalled_ = false;
        return std::optional<std::string>(std::in_place, buf, static_cast<std::size_t>(got));
    }
}

Result<wire::Answer> UserDb::ask(wire::Kind kind, const std::string& arg) {
    std::uint32_t seq = UB_TRY(send_question(kind, arg));
    return await(seq, kind);
}

Result<std::uint32_t> UserDb::ask_name(uid_t uid) {
    std::uint32_t seq = UB_TRY(send_question(wire::Kind::UserByUid, std::to_string(uid)));
    asked_.emplace(seq, wire::Kind::UserByUid);
    return seq;
}

Result<std::uint32_t> UserDb::ask_groups(uid_t uid) {
    std::uint32_t seq = UB_TRY(send_question(wire::Kind::GroupsByUid, std::to_string(uid)));
    asked_.emplace(seq, wire::Kind::GroupsByUid);
    return seq;
}

void UserDb::keep_if_asked(std::uint32_t seq, std::string_view msg) {
    auto it = asked_.find(seq);
    if (it == asked_.end()) return;  // late: its question was given up
    wire::Kind kind = it->second;
    asked_.erase(it);
    Result<wire::Answer> a = wire::decode_answer(msg, kind);
    bool found = a.ok() && a->outcome == wire::Outcome::Found;
    if (kind == wire::Kind::UserByUid) {
        named_.emplace_back(seq, found ? a->value : "?");  // escaped in the record
        return;
    }
    Groups g{seq, {}, {}};
    if (!a.ok()) g.why = a.error().message();
    else if (a->outcome == wire::Outcome::Failed) g.why = printable(a->value, wire::kMaxWhy);
    else if (found) g.gids = *wire::parse_groups(a->value);  // checked by decode_answer
    grouped_.push_back(std::move(g));
}

void UserDb::drain() {
    // Until none is waiting, or the broker is gone (then what is still
    // asked will never be answered).
    while (sock_.valid()) {
        Result<std::optional<std::string>> got = receive();
        if (!got.ok() || !*got) break;
        if (Result<std::uint32_t> seq = wire::answer_seq(**got); seq.ok()) keep_if_asked(*seq, **got);
    }
}

std::vector<std::pair<std::uint32_t, std::string>> UserDb::take_names() {
    drain();
    return std::exchange(named_, {});
}

std::vector<UserDb::Groups> UserDb::take_groups() {
    drain();
    return std::exchange(grouped_, {});
}

void UserDb::forget(std::uint32_t seq) {
    if (asked_.erase(seq) != 0) stalled_ = true;
}

Result<long long> UserDb::id_of(wire::Kind kind, const std::string& name) {
    const char* what = kind == wire::Kind::UidByUser ? "user " : "group ";
    Result<wire::Answer> a = ask(kind, name);
    if (!a.ok()) return a.error().context(std::string("cannot look up ") + what + printable(name));
    if (a->outcome == wire::Outcome::None) return -1LL;
    if (a->outcome == wire::Outcome::Failed) return Error::msg(printable(a->value, wire::kMaxWhy));
    return *parse_decimal(a->value, kMaxId);  // checked by decode_answer
}

Result<long long> UserDb::user_id(const std::string& name) { return id_of(wire::Kind::UidByUser, name); }

Result<long long> UserDb::group_id(const std::string& name) { return id_of(wire::Kind::GidByGroup, name); }

}  // namespace ub::daemon
