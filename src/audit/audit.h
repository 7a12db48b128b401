// Audit records, shared by the helper and the daemon: one syslog line
// (authpriv) per grant, denial, refusal or expiry, as key=value pairs so
// that log tools can pick them apart. The daemon sends the same record to
// journald as fields (USERBRIDGE_EVENT=grant, ...) when journald listens.
#pragma once

#include <string>
#include <sys/types.h>

namespace ub::audit {

// The one process a record names, and what it is. Neither is an
// authentication: the uid is (the kernel's, of the caller).
enum class PidKind {
    None,    // nothing known (an expiry of a helper's tap, seen only by its label)
    Peer,    // peer_pid: the pid that connected to the daemon, as the kernel
             // saw it at connect() (SO_PEERCRED)
    Parent,  // parent_pid: the helper's parent at its start (getppid()):
             // whoever exec'd it, which the caller chooses
};
struct RecordedPid {
    PidKind kind = PidKind::None;
    pid_t pid = 0;
};
inline RecordedPid peer_pid(pid_t pid) { return {PidKind::Peer, pid}; }
inline RecordedPid parent_pid(pid_t pid) { return {PidKind::Parent, pid}; }

struct AuditRecord {
    const char* event = "error";  // "grant", "deny", "error", "expire", "revoke"
    std::string user = "?";  // as NSS has it, escaped in the record; "?" if unknown
    uid_t uid = 0;
    RecordedPid pid;
    std::string bridge;
    std::string tap;     // grants only
    std::string mac;     // grants only
    std::string detail;  // what happened, in words: the decision's reason, the error, why a tap went
    std::string via;     // "helper" or "daemon"
    std::string vm;         // the VM name the client gave, if any
    int queues = 1;
    std::string guest_mac;  // the MAC policy pinned, if any
    std::string rule;       // "file:line" of the deciding rule, if any
    std::string polkit;     // an auth=polkit rule decided: what polkit answered
    std::string mode;       // the helper's grants: how it was given privilege
};

// A record for a request being handled: an "error" until it is decided.
AuditRecord begin(const char* via, const std::string& user, uid_t uid, RecordedPid pid,
                  const std::string& bridge);
// "peer_pid" or "parent_pid"; null for PidKind::None.
const char* pid_key(PidKind kind);

// `ident` names the program in each record: "userbridge-helper", "userbridged".
// Not `now`: the socket is opened by the first record (openlog() without
// LOG_NDELAY), but the name is ours at once: glibc's default is the
// caller's argv[0], which would put their words before the record.
void open(const char* ident, bool now = true);
// The caller's login name as the user database has it (any bytes: the
// record escapes it), or "?". Reads the user database, so it runs before
// the seccomp sandbox.
std::string user_name(uid_t uid);
void record(const AuditRecord& rec);

// Where records go instead of syslog, when it accepts them (returns true):
// the daemon's journald sender. `line` is the syslog text, `priority` its
// syslog priority; the sink escapes each field with record::escape(), as
// the line does. Null: syslog only.
using Sink = bool (*)(const AuditRecord& rec, const std::string& line, int priority);
void set_sink(Sink sink);

}  // namespace ub::audit
