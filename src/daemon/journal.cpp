#include "daemon/journal.h"

#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "audit/audit.h"
#include "base/record_value.h"

namespace ub::daemon {

namespace {

// Each value from outside as it is between the quotes of the syslog line
// (record::escape): journald would take any bytes in a field, but a reader
// matching USERBRIDGE_USER= against the MESSAGE's user= must find the same.
bool send_to_journal(const audit::AuditRecord& r, const std::string& line, int priority) {
    auto esc = [](const std::string& v) { return record::escape(v); };
    std::vector<std::string> fields = {
        "MESSAGE=" + line,
        "PRIORITY=" + std::to_string(priority),
        "SYSLOG_FACILITY=" + std::to_string(LOG_AUTHPRIV >> 3),
        "SYSLOG_IDENTIFIER=userbridged",
        std::string("USERBRIDGE_EVENT=") + r.event,
        "USERBRIDGE_USER=" + esc(r.user),
        "USERBRIDGE_UID=" + std::to_string(r.uid),
        "USERBRIDGE_BRIDGE=" + esc(r.bridge),
        "USERBRIDGE_QUEUES=" + std::to_string(r.queues),
        "USERBRIDGE_VIA=" + esc(r.via),
    };
    if (r.pid.kind == audit::PidKind::Peer) fields.push_back("USERBRIDGE_PEER_PID=" + std::to_string(r.pid.pid));
    if (r.pid.kind == audit::PidKind::Parent)
        fields.push_back("USERBRIDGE_PARENT_PID=" + std::to_string(r.pid.pid));
    auto opt = [&](const char* key, const std::string& v) {
        if (!v.empty()) fields.push_back(std::string(key) + "=" + esc(v));
    };
    opt("USERBRIDGE_TAP", r.tap);
    opt("USERBRIDGE_MAC", r.mac);
    opt("USERBRIDGE_GUEST_MAC", r.guest_mac);
    opt("USERBRIDGE_VM", r.vm);
    opt("USERBRIDGE_RULE", r.rule);
    opt("USERBRIDGE_POLKIT", r.polkit);
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
