// Audit records as journald fields (USERBRIDGE_EVENT=grant, ...), so that
// `journalctl USERBRIDGE_EVENT=deny USERBRIDGE_UID=1000` finds them without
// parsing text. Falls back to syslog when journald does not take them.
#pragma once

namespace ub::daemon {

// Installs the journald sink for audit::record if journald's socket exists.
void use_journal_if_present();

}  // namespace ub::daemon
