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
};

// polkit's answer to a request an auth=polkit rule decides.
struct PolkitAnswer {
    std::uint64_t id = 0;  // the question's, in the daemon's bus connection
    bool yes = false;
    std::string what;  // for the record: "yes", "no", "no: ..."; the client's error
    bool prompt = false;  // no, because it would ask for a password and might not
};

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

    std::unique_ptr<Bus> bus_;
    std::uint64_t next_id_ = 1;
    std::vector<PolkitAnswer> answers_;  // filled by the reply callbacks
};

}  // namespace ub::daemon
