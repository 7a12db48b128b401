#include "audit/audit.h"

#include <syslog.h>

#include "policy/accounts.h"
#include "policy/ifname.h"

namespace ub::audit {

std::string user_name(uid_t uid) {
    Result<std::optional<policy::Account>> a = policy::account_by_uid(uid);
    return a.ok() && *a ? policy::printable((*a)->name, 32) : "?";
}

namespace {

// Values are quoted so that a reason with spaces stays one field; untrusted
// bytes have already been made printable where they entered.
std::string quoted(const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace

AuditRecord begin(const char* via, const std::string& user, uid_t uid, pid_t caller_pid,
                  const std::string& bridge) {
    AuditRecord r;
    r.via = via;
    r.user = user;
    r.uid = uid;
    r.caller_pid = caller_pid;
    r.bridge = bridge;
    return r;
}

namespace {
Sink g_sink = nullptr;
}

void set_sink(Sink sink) { g_sink = sink; }

void open(const char* ident) { openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV); }

void record(const AuditRecord& r) {
    std::string line = std::string("event=") + r.event + " user=" + r.user +
                       " uid=" + std::to_string(r.uid) +
                       " caller_pid=" + std::to_string(r.caller_pid) +
                       " bridge=" + quoted(policy::printable(r.bridge));
    if (!r.tap.empty()) line += " tap=" + r.tap;
    if (!r.mac.empty()) line += " mac=" + r.mac;
    if (!r.vm.empty()) line += " vm=" + r.vm;
    if (r.queues != 1) line += " queues=" + std::to_string(r.queues);
    if (!r.guest_mac.empty()) line += " guest_mac=" + r.guest_mac;
    if (!r.rule.empty()) line += " rule=" + quoted(r.rule);
    if (!r.via.empty()) line += " via=" + r.via;
    if (!r.detail.empty()) line += " detail=" + quoted(r.detail);
    // Grants and expiries are the normal course; denials and errors are not.
    std::string event = r.event;
    int prio = event == "grant" || event == "expire" ? LOG_NOTICE : LOG_WARNING;
    if (g_sink && g_sink(r, line, prio)) return;
    syslog(LOG_AUTHPRIV | prio, "%s", line.c_str());
}

}  // namespace ub::audit
