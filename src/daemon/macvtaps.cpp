#include "daemon/macvtaps.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>

#include "base/system.h"
#include "privilege/fs_identity.h"

namespace ub::daemon {

namespace {

// "246:1" from /sys/class/net/NAME/macvtap/tapN/dev: the device's number.
Result<dev_t> device_number(const std::string& ifname, int ifindex) {
    std::string path = "/sys/class/net/" + ifname + "/macvtap/tap" + std::to_string(ifindex) + "/dev";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Error::sys("cannot open " + path);
    char buf[32] = {};
    ssize_t n = read(fd.get(), buf, sizeof buf - 1);
    unsigned major = 0, minor = 0;
    if (n <= 0 || std::sscanf(buf, "%u:%u", &major, &minor) != 2) return Error::msg("cannot read " + path);
    return makedev(major, minor);
}

// The node, unlinked when this goes: on success as on error.
struct Node {
    std::string path;
    ~Node() {
        if (!path.empty()) (void)unlinkat(AT_FDCWD, path.c_str(), 0);
    }
};

}  // namespace

Result<Macvtaps> Macvtaps::open(std::string dir) {
    UniqueFd in(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!in.valid()) return Error::sys("inotify_init1 (for macvtaps)");
    return Macvtaps(std::move(in), std::move(dir));
}

Result<std::vector<UniqueFd>> Macvtaps::open_queues(const std::string& ifname, int ifindex, int queues) {
    dev_t dev = UB_TRY(device_number(ifname, ifindex));
    Node node{dir_ + "/tap" + std::to_string(ifindex)};
    (void)unlinkat(AT_FDCWD, node.path.c_str(), 0);  // one a crash left
    {
        // CAP_MKNOD is permitted only: effective for this call alone.
        privilege::RaisedCapability mknod_cap = UB_TRY(privilege::RaisedCapability::raise(CAP_MKNOD));
        if (mknodat(AT_FDCWD, node.path.c_str(), S_IFCHR | 0600, dev) != 0) {
            Error e = Error::sys("cannot make the device node " + node.path);
            node.path.clear();
            return e;
        }
    }
    int wd = inotify_add_watch(inotify_.get(), node.path.c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
    if (wd < 0) return Error::sys("cannot watch " + node.path);
    std::vector<UniqueFd> fds;
    for (int q = 0; q < queues; ++q) {
        UniqueFd fd(::open(node.path.c_str(), O_RDWR | O_CLOEXEC));
        if (!fd.valid()) {
            Error e = Error::sys("cannot open " + node.path);
            (void)inotify_rm_watch(inotify_.get(), wd);
            return e;
        }
        fds.push_back(std::move(fd));
    }
    watched_[wd] = {ifindex, queues};
    return fds;
}

std::vector<int> Macvtaps::all_closed() {
    std::vector<int> done;
    alignas(inotify_event) char buf[4096];
    for (;;) {
        ssize_t n = read(inotify_.get(), buf, sizeof buf);
        if (n <= 0) return done;
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + ev->len;
            auto it = watched_.find(ev->wd);
            if (it == watched_.end() || !(ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))) continue;
            if (--it->second.open > 0) continue;
            done.push_back(it->second.ifindex);
            (void)inotify_rm_watch(inotify_.get(), ev->wd);
            watched_.erase(it);
        }
    }
}

void Macvtaps::forget(int ifindex) {
    for (auto it = watched_.begin(); it != watched_.end(); ++it)
        if (it->second.ifindex == ifindex) {
            (void)inotify_rm_watch(inotify_.get(), it->first);
            watched_.erase(it);
            return;
        }
}

}  // namespace ub::daemon
