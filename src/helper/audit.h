// Audit records for the helper: one syslog line (authpriv) per grant, denial
// or refusal, as key=value pairs so that log tools can pick them apart.
#pragma once

#include <string>
#include <sys/types.h>

namespace ub::helper {

struct AuditRecord {
    const char* event;  // "grant", "deny", "error"
    uid_t uid;
    pid_t caller_pid;
    std::string bridge;
    std::string tap;     // grants only
    std::string mac;     // grants only
    std::string detail;  // the deciding rule or the reason
};

void audit_open();
void audit(const AuditRecord& rec);

}  // namespace ub::helper
