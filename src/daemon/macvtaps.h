// userbridged's macvtaps (mode=macvtap): their fds, and their end.
//
// A macvtap's fds come from its character device, /dev/tap<ifindex>. This
// machine may have no udev, and a /dev the daemon may not write, so the
// daemon makes the node itself, in a directory only root reads (its state
// directory), and opens it once per queue: nobody else can open it.
//
// Unlike a tap, a macvtap outlives its last fd: the kernel keeps the link
// until someone deletes it. To learn when the caller's fds are all gone,
// the daemon watches the nodes with inotify: the kernel reports IN_CLOSE_*
// on a node's inode when a file opened through it is released (its last
// descriptor closed, in whatever process QEMU passed it to). Each queue
// gets a node of its own, opened once: inotify merges identical events not
// yet read (three queues closed at once, through one inode, may be one
// event), never events of two watches, and a file is released once. So
// the macvtap is deleted when each of its nodes has reported its close.
// Nobody else can open a node again (root's, 0600: not even through
// /proc/PID/fd). The daemon keeps no fd of its own, which would keep the
// macvtap alive.
//
// The nodes stay while their macvtap lives: they are how a daemon started
// again (after a stop, a crash or an upgrade) watches the files QEMU still
// holds, which were opened through them. Which of them are still open it
// cannot tell from the events it missed, so it asks the kernel how many
// files of the device are open (held(), below): at start-up every
// macvtap with our label is watched again if one is, or deleted, and
// after each close of such an adopted macvtap it asks again. Nodes of
// macvtaps that are gone are removed.
//
// Should: make and watch the nodes, open the queues, tell which macvtaps
// have no file left, adopt at start-up. Must not: leave a node whose
// macvtap is gone once the daemon saw it go; delete a link itself (the
// server does, with its rtnetlink socket, and its link monitor records).
#pragma once

#include <sys/types.h>

#include <chrono>
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

    // `queues` fds of the macvtap `ifname` (`ifindex`), each through a
    // watched node of its own.
    Result<std::vector<UniqueFd>> open_queues(const std::string& ifname, int ifindex, int queues);

    // Reads the closes reported, and asks the kernel again where that is
    // due (adopted macvtaps); the ifindexes of the macvtaps with no open
    // file left, to delete (or gone already). They are no longer watched.
    using Clock = std::chrono::steady_clock;
    std::vector<int> all_closed(Clock::time_point now);
    // When the next question is due; max() when none is.
    Clock::time_point next_look() const;

    // The macvtap `ifindex` is gone (the link monitor saw it), or its grant
    // failed: no longer watched, its nodes removed.
    void forget(int ifindex);

    // At start-up, for each macvtap with our label (`queues`: the label's):
    // true when a file of it is still open, and it is watched again; false
    // when none is (delete it). An error: it could not be told; it is left.
    Result<bool> adopt(const std::string& ifname, int ifindex, int queues);
    // At start-up, after adopt(): removes the nodes no adopted macvtap has.
    void remove_stale_nodes();

private:
    explicit Macvtaps(UniqueFd inotify, std::string dir) : inotify_(std::move(inotify)), dir_(std::move(dir)) {}
    std::string node_path(int ifindex, int queue) const;
    Result<void> make_node(const std::string& path, dev_t dev);
    Result<int> held(dev_t dev);
    void look(int ifindex, int before, Clock::time_point now, std::vector<int>& done);

    struct Macvtap {
        dev_t dev = 0;
        std::map<int, int> nodes;  // watch descriptor -> queue, for nodes whose file is open
        bool adopted = false;      // its closes are not counted: the kernel is asked
    };
    UniqueFd inotify_;
    std::string dir_;
    std::map<int, Macvtap> macvtaps_;  // by ifindex
    std::map<int, int> watched_;       // watch descriptor -> ifindex
    std::set<std::string> left_;       // node names a former daemon left, not adopted yet
    struct Look {
        Clock::time_point when;
        int done = 0;  // looks so far
    };
    std::map<int, Look> looks_;  // by ifindex: adopted macvtaps, to ask about again
};

}  // namespace ub::daemon
