// Audit records for the helper: one syslog line (authpriv) per grant, denial
// or refusal, as key=value pairs so that log tools can pick them apart.
#pragma once

#include <string>
#include <sys/types.h>

namespace ub::helper {

struct AuditRecord {
    const char* event;  // "grant", "deny", "error"
    std::string user;   // looked up before the sandbox goes on; "?" if unknown
    uid_t uid;
    pid_t caller_pid;
    std::string bridge;
    std::string tap;     // grants only
    std::string mac;     // grants only
    std::string detail;  // the deciding rule or the reason
};

void audit_open();
// The caller's login name, printable, or "?". Reads the user database, so it
// runs before the seccomp sandbox.
std::string user_name(uid_t uid);
void audit(const AuditRecord& rec);

}  // namespace ub::helper
