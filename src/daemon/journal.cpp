#include "daemon/journal.h"

#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "audit/audit.h"

namespace ub::daemon {

namespace {

bool send_to_journal(const audit::AuditRecord& r, const std::string& line, int priority) {
    std::vector<std::string> fields = {
        "MESSAGE=" + line,
        "PRIORITY=" + std::to_string(priority),
        "SYSLOG_FACILITY=" + std::to_string(LOG_AUTHPRIV >> 3),
        "SYSLOG_IDENTIFIER=userbridged",
        std::string("USERBRIDGE_EVENT=") + r.event,
        "USERBRIDGE_USER=" + r.user,
        "USERBRIDGE_UID=" + std::to_string(r.uid),
        "USERBRIDGE_CALLER_PID=" + std::to_string(r.caller_pid),
        "USERBRIDGE_BRIDGE=" + r.bridge,
        "USERBRIDGE_QUEUES=" + std::to_string(r.queues),
        "USERBRIDGE_VIA=" + r.via,
    };
    auto opt = [&](const char* key, const std::string& v) {
        if (!v.empty()) fields.push_back(std::string(key) + "=" + v);
    };
    opt("USERBRIDGE_TAP", r.tap);
    opt("USERBRIDGE_MAC", r.mac);
    opt("USERBRIDGE_GUEST_MAC", r.guest_mac);
    opt("USERBRIDGE_VM", r.vm);
    opt("USERBRIDGE_RULE", r.rule);
    opt("USERBRIDGE_DETAIL", r.detail);
    std::vector<iovec> iov;
    for (std::string& f : fields) iov.push_back({f.data(), f.size()});
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) == 0;
}

}  // namespace

void use_journal_if_present() {
    if (access("/run/systemd/journal/socket", W_OK) == 0) audit::set_sink(send_to_journal);
}

}  // namespace ub::daemon
