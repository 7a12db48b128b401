// userbridged's macvtaps (mode=macvtap): their fds, and their end.
//
// A macvtap's fds come from its character device, /dev/tap<ifindex>. This
// machine may have no udev, and a /dev the daemon may not write, so the
// daemon makes the node itself, in a directory only root reads (its state
// directory), opens it once per queue and unlinks it at once: no node is
// left, and nobody else ever opened it.
//
// Unlike a tap, a macvtap outlives its last fd: the kernel keeps the link
// until someone deletes it. To learn when the caller's fds are all gone,
// the daemon watches the node's inode with inotify before opening it: the
// kernel reports IN_CLOSE_* when each open file of it is released (its
// last descriptor closed, in whatever process QEMU passed it to), and keeps
// doing so after the unlink, since the watch holds the inode. When as many
// closes as opens have come, the daemon deletes the macvtap, and its link
// monitor then writes the expiry record. It keeps no fd of its own, which
// would keep the macvtap alive.
//
// Should: make, open and unlink the node; count closes; say which macvtaps
// have no fd left. Must not: leave a node behind, on success or error;
// delete a link itself (the server does, with its rtnetlink socket).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace ub::daemon {

class Macvtaps {
public:
    // `dir`: where the nodes are made: the daemon's state directory, root's,
    // mode 0700 (the MAC key's), on a filesystem that allows device nodes,
    // which /run (nodev) is not.
    static Result<Macvtaps> open(std::string dir);
    int fd() const { return inotify_.get(); }

    // `queues` fds of the macvtap `ifname` (`ifindex`), watched.
    Result<std::vector<UniqueFd>> open_queues(const std::string& ifname, int ifindex, int queues);

    // Reads the closes reported; the ifindexes of the macvtaps whose fds
    // are now all closed, to delete. They are no longer watched.
    std::vector<int> all_closed();

    // The macvtap `ifindex` is gone (the link monitor saw it): stop
    // counting its closes.
    void forget(int ifindex);

private:
    explicit Macvtaps(UniqueFd inotify, std::string dir) : inotify_(std::move(inotify)), dir_(std::move(dir)) {}
    struct Watched {
        int ifindex;
        int open;  // its open files not yet released
    };
    UniqueFd inotify_;
    std::string dir_;
    std::map<int, Watched> watched_;  // by watch descriptor
};

}  // namespace ub::daemon
