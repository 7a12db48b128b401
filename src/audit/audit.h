// Audit records, shared by the helper and the daemon: one syslog line
// (authpriv) per grant, denial or refusal, as key=value pairs so that log
// tools can pick them apart.
#pragma once

#include <string>
#include <sys/types.h>

namespace ub::audit {

struct AuditRecord {
    const char* event;  // "grant", "deny", "error"
    std::string user;   // looked up before the sandbox goes on; "?" if unknown
    uid_t uid;
    pid_t caller_pid;
    std::string bridge;
    std::string tap;     // grants only
    std::string mac;     // grants only
    std::string detail;  // the deciding rule or the reason
    std::string via;     // "helper" or "daemon"
};

// `ident` names the program in each record: "userbridge-helper", "userbridged".
void open(const char* ident);
// The caller's login name, printable, or "?". Reads the user database, so it
// runs before the seccomp sandbox.
std::string user_name(uid_t uid);
void record(const AuditRecord& rec);

}  // namespace ub::audit
