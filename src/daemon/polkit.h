// Asking polkit's authority whether a caller may use a bridge, for ACL
// rules with auth=polkit (userbridge-acl(5)), without ever waiting: a
// question goes out over the system bus (sd-bus), the server's poll loop
// watches the bus connection (fd, events, timeout) and calls process(),
// which hands back the answers that came. The request itself waits parked
// in the server meanwhile.
//
// Fails closed: no system bus, no polkit on it, an error, or no answer
// within the wait is a "no", with the reason in words. The connection is
// opened at the first question and again at the next one after the bus
// went away (dbus restarted).
//
// The subject is the caller's process as polkit's "unix-process": its pid,
// its start time (read from /proc while its pidfd showed it alive, so the
// pid was not yet reused) and its uid from SO_PEERCRED. polkit compares
// the start time with the pid's when it checks, so a process that reuses
// the pid is not the subject; the server also refuses when the caller's
// pidfd shows it exited before the answer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "audit/audit.h"
#include "base/refusal.h"
#include "policy/acl.h"

namespace ub::daemon {

// Who asks, as polkit's "unix-process" subject.
struct PolkitSubject {
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // in clock ticks since boot, /proc/PID/stat field 22
    uid_t uid = 0;
    std::string comm;  // the caller's command, a detail polkit rules may test
};

// The caller's process, read while `pidfd` (SO_PEERPIDFD) shows it alive.
Result<PolkitSubject> polkit_subject_of(int pidfd, pid_t pid, uid_t uid);

// Field 22 (starttime) and field 2 (comm) of a /proc/PID/stat line. Pure.
Result<PolkitSubject> parse_proc_stat(std::string_view stat);

struct PolkitQuestion {
    PolkitSubject subject;
    std::string bridge;
    std::string vm;
    int queues = 1;
    bool interactive = false;  // AllowUserInteraction: polkit may prompt
    // What is asked for: "tap" (its fds come back), "lease" (a persistent
    // tap, left on the bridge) or "veth" (a pair into the caller's
    // network namespace). A rule may allow one and not another.
    std::string kind = "tap";
};

// polkit's answer to a request an auth=polkit rule decides.
struct PolkitAnswer {
    std::uint64_t id = 0;  // the question's, in the daemon's bus connection
    bool yes = false;
    std::string what;  // for the record: "yes", "no", "no: ..."; the client's error
    bool prompt = false;  // no, because it would ask for a password and might not
};

// What polkit's reply says (CheckAuthorization's AuthorizationResult).
struct PolkitReply {
    bool authorized = false;
    bool challenge = false;
    bool dismissed = false;  // polkit.dismissed
    std::string kept_id;     // polkit.temporary_authorization_id
    bool kept_now = false;   // polkit.retains_authorization_after_challenge "true": kept_id made by this password
};

// An authorization polkit keeps after a password (a rule's AUTH_SELF_KEEP
// or AUTH_ADMIN_KEEP) is kept for the
// subject and the action, not for the question: for 5 minutes polkit
// answers yes from it to any question of that subject's, before its rules'
// no counts, and every request is the one action. So such a yes counts only
// for the question whose password made it: the one the rules judged.
// polkit numbers them from 0 as it starts: an id is polkit's of one run,
// named by its unique name on the bus, of one bus (cleared with the
// connection).
class KeptAuthorizations {
public:
    using Clock = std::chrono::steady_clock;
    // `authority` (polkit's unique bus name) kept `id` after a password for
    // `question`.
    void made(const std::string& id, const std::string& authority, const std::string& question,
              Clock::time_point now);
    // Whether `id`, answered by `authority` from what it keeps, was made
    // there for `question`.
    bool for_question(const std::string& id, const std::string& authority, const std::string& question,
                      Clock::time_point now) const;
    void clear() { kept_.clear(); }

private:
    struct Kept {
        std::string authority;
        std::string question;
        Clock::time_point until;
    };
    std::map<std::string, Kept> kept_;
};

// The question as polkit's rules see it (every detail, and the uid): a kept
// authorization answers only the same again.
std::string question_key(const PolkitQuestion& q);

// polkit's answer to question `id`, from its reply (sent by `authority`).
// Pure but for `kept`.
PolkitAnswer judge(std::uint64_t id, const PolkitReply& reply, const std::string& authority, bool interactive,
                   const std::string& question, KeptAuthorizations& kept, KeptAuthorizations::Clock::time_point now);

// The decision of an auth=polkit rule (`d`, not allowed yet) once polkit
// answered: on its yes policy::polkit_granted(d), else its reason and what
// refused (polkit, or its prompt), the answer in the record; false while
// there is no answer (null). The grant engine's Resources::polkit.
bool decide_by(const PolkitAnswer* answer, policy::Decision& d, Refused& refused, audit::AuditRecord& rec);

// How long a question may wait: a prompt may sit on the desktop; without
// one polkit answers in milliseconds.
inline constexpr std::chrono::milliseconds kPolkitWaitInteractive{25000};
inline constexpr std::chrono::milliseconds kPolkitWait{3000};

class Polkit {
public:
    Polkit();
    ~Polkit();
    Polkit(const Polkit&) = delete;
    Polkit& operator=(const Polkit&) = delete;

    // Sends the question; its id, or why it could not be asked.
    Result<std::uint64_t> ask(const PolkitQuestion& q);
    // Forgets a question whose client left: its answer is dropped.
    void forget(std::uint64_t id);

    // For poll(2): -1 while there is no connection.
    int fd() const;
    short events() const;
    // Milliseconds until process() must run (a question's time is up), or
    // -1.
    int timeout_ms() const;
    // Reads what the bus sent; the answers that came.
    std::vector<PolkitAnswer> process();

private:
    struct Bus;
    Result<void> connect();
    void drop_connection(const std::string& why);
    void cancel(std::uint64_t id);

    KeptAuthorizations kept_;
    std::unique_ptr<Bus> bus_;
    std::uint64_t next_id_ = 1;
    std::vector<PolkitAnswer> answers_;  // filled by the reply callbacks
    std::vector<std::uint64_t> to_cancel_;  // ...and the questions to withdraw
};

}  // namespace ub::daemon
