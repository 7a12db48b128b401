// userbridged's macvtaps (mode=macvtap): their fds, and their end.
//
// A macvtap's fds come from its character device, /dev/tap<ifindex>. This
// machine may have no udev, and a /dev the daemon may not write, so the
// daemon makes the node itself, in a directory only root reads (its state
// directory), and opens it once per queue: nobody else can open it.
//
// Unlike a tap, a macvtap outlives its last fd: the kernel keeps the link
// until someone deletes it. To learn when the caller's fds are all gone,
// the daemon watches the node's inode with inotify: the kernel reports
// IN_CLOSE_* on it when each open file of it is released (its last
// descriptor closed, in whatever process QEMU passed it to). The events
// are not counted: inotify merges identical events not yet read (three
// queues closed at once may be one event). Each says only "look again";
// how many files are still open the kernel tells (held(), below). The
// daemon keeps no fd of its own, which would keep the macvtap alive.
//
// The node stays while its macvtap lives: it is how a daemon started
// again (after a stop, a crash or an upgrade) watches the files QEMU still
// holds, which were opened through that inode. At start-up every macvtap
// with our label is adopted (watched again, if a file of it is still
// open) or deleted, and nodes of macvtaps that are gone are removed.
//
// Should: make and watch the node, open the queues, tell which macvtaps
// have no file left, adopt at start-up. Must not: leave a node whose
// macvtap is gone once the daemon saw it go; delete a link itself (the
// server does, with its rtnetlink socket, and its link monitor records).
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace ub::daemon {

class Macvtaps {
public:
    // `dir`: where the nodes are made: the daemon's state directory, root's,
    // mode 0700 (the MAC key's), on a filesystem that allows device nodes,
    // which /run (nodev) is not. Notes the nodes a former daemon left there
    // (before the seccomp filter, which allows no directory listing).
    static Result<Macvtaps> open(std::string dir);
    int fd() const { return inotify_.get(); }

    // `queues` fds of the macvtap `ifname` (`ifindex`), its node watched.
    Result<std::vector<UniqueFd>> open_queues(const std::string& ifname, int ifindex, int queues);

    // Reads the closes reported; the ifindexes of the macvtaps with no open
    // file left, to delete (or gone already). They are no longer watched.
    std::vector<int> all_closed();

    // The macvtap `ifindex` is gone (the link monitor saw it), or its grant
    // failed: no longer watched, its node removed.
    void forget(int ifindex);

    // At start-up, for each macvtap with our label: true when a file of it
    // is still open, and it is watched again; false when none is (delete
    // it). An error: it could not be told; it is left as it is.
    Result<bool> adopt(const std::string& ifname, int ifindex);
    // At start-up, after adopt(): removes the nodes no adopted macvtap has.
    void remove_stale_nodes();

private:
    explicit Macvtaps(UniqueFd inotify, std::string dir) : inotify_(std::move(inotify)), dir_(std::move(dir)) {}
    std::string node_path(int ifindex) const { return dir_ + "/tap" + std::to_string(ifindex); }
    Result<void> make_node(const std::string& path, dev_t dev);
    Result<int> held(dev_t dev);
    Result<int> watch(int ifindex);

    UniqueFd inotify_;
    std::string dir_;
    std::map<int, int> watched_;  // watch descriptor -> ifindex
    std::map<int, dev_t> devs_;   // ifindex -> its device's number
    std::set<int> left_;          // ifindexes of nodes a former daemon left, not adopted yet
};

}  // namespace ub::daemon
