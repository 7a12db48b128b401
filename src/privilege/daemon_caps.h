// userbridged's capabilities, apart from the helper's modules: the helper
// links none of this.
#pragma once

#include "base/result.h"

namespace ub::privilege {

// userbridged's drop: keep root's uid (root-owned ACL files stay readable
// without CAP_DAC_OVERRIDE); CAP_NET_ADMIN effective and permitted;
// CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH and CAP_MKNOD permitted only,
// for the moments that need them (fs_identity.h, daemon/macvtaps.h); empty
// the bounding and ambient sets when able, set no-new-privs; verified
// (drop.h). Also works started as a non-root user holding those five
// capabilities; an error when one is missing.
Result<void> drop_to_daemon_capabilities();

}  // namespace ub::privilege
