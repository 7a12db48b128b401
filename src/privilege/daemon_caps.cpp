#include "privilege/daemon_caps.h"

#include <linux/capability.h>

#include "privilege/cap_sets.h"
#include "privilege/drop.h"

namespace ub::privilege {

Result<void> drop_to_daemon_capabilities() {
    // Kept, and why (each in the permitted set; effective only as said):
    //   CAP_NET_ADMIN        effective: making taps for other uids, attaching
    //                        them to bridges, nftables rules; every grant.
    //   CAP_SETUID,          permitted only: made effective around the switch
    //   CAP_SETGID           of the filesystem identity to a caller's and
    //                        back (setfsuid, setfsgid, setgroups), so that the
    //                        kernel says which ACL files they may read
    //                        (fs_identity.h). Never setuid/setresuid.
    //   CAP_DAC_READ_SEARCH  permitted only: effective while the ACL is
    //                        loaded, so that an include root itself may not
    //                        read (`root:lab 0040`) is read as for its group.
    //   CAP_MKNOD            permitted only: effective while a macvtap's
    //                        device node is made (daemon/macvtaps.h), which
    //                        no udev may have made.
    // Not kept: CAP_BPF and CAP_PERFMON, which main() uses before this
    // drop to load the checksum guard of filtered ports (net/csum_guard.h).
    // Root's uid stays: its files stay ours without CAP_DAC_OVERRIDE.
    DropTarget t;
    t.effective = cap_bit(CAP_NET_ADMIN);
    t.permitted = t.effective | cap_bit(CAP_SETUID) | cap_bit(CAP_SETGID) | cap_bit(CAP_DAC_READ_SEARCH) |
                  cap_bit(CAP_MKNOD);
    t.bounding = Bounding::ClearWhenAble;
    CapSets sets = UB_TRY(cap_sets());
    if ((sets.data[0].permitted & t.permitted) != t.permitted)
        return Error::msg("needs CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH and CAP_MKNOD "
                          "(root has them); see userbridged(8)");
    return drop_to(t);
}

}  // namespace ub::privilege
