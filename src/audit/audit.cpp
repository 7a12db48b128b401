#include "audit/audit.h"

#include <syslog.h>

#include "base/record_value.h"
#include "accounts/accounts.h"

namespace ub::audit {

std::string user_name(uid_t uid) {
    Result<std::optional<accounts::Account>> a = accounts::account_by_uid(uid);
    return a.ok() && *a ? (*a)->name : "?";
}

const char* pid_key(PidKind kind) {
    switch (kind) {
    case PidKind::Peer: return "peer_pid";
    case PidKind::Parent: return "parent_pid";
    case PidKind::None: break;
    }
    return nullptr;
}

AuditRecord begin(const char* via, const std::string& user, uid_t uid, RecordedPid pid,
                  const std::string& bridge) {
    AuditRecord r;
    r.via = via;
    r.user = user;
    r.uid = uid;
    r.pid = pid;
    r.bridge = bridge;
    return r;
}

namespace {
Sink g_sink = nullptr;
}

void set_sink(Sink sink) { g_sink = sink; }

void open(const char* ident, bool now) { openlog(ident, LOG_PID | (now ? LOG_NDELAY : 0), LOG_AUTHPRIV); }

void record(const AuditRecord& r) {
    using record::Quoting;
    // Every value through record::value(), the one escaping (record_value.h):
    // a name from NSS or a message quoting caller input stays one value.
    // bridge, rule and detail were always quoted and stay so.
    std::string line = std::string("event=") + r.event;
    record::append(line, "user", r.user);
    line += " uid=" + std::to_string(r.uid);
    if (const char* key = pid_key(r.pid.kind)) line += std::string(" ") + key + "=" + std::to_string(r.pid.pid);
    record::append(line, "bridge", r.bridge, Quoting::Always);
    auto opt = [&](const char* key, const std::string& v, Quoting q = Quoting::IfNeeded) {
        if (!v.empty()) record::append(line, key, v, q);
    };
    opt("tap", r.tap);
    opt("mac", r.mac);
    opt("vm", r.vm);
    if (r.queues != 1) line += " queues=" + std::to_string(r.queues);
    opt("guest_mac", r.guest_mac);
    opt("rule", r.rule, Quoting::Always);
    opt("polkit", r.polkit, Quoting::Always);
    opt("via", r.via);
    opt("mode", r.mode);
    opt("detail", r.detail, Quoting::Always);
    // Grants and expiries are the normal course; denials and errors are not.
    std::string event = r.event;
    int prio = event == "grant" || event == "expire" ? LOG_NOTICE : LOG_WARNING;
    if (g_sink && g_sink(r, line, prio)) return;
    syslog(LOG_AUTHPRIV | prio, "%s", line.c_str());
}

}  // namespace ub::audit
