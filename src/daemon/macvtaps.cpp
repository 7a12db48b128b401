#include "daemon/macvtaps.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "base/number.h"
#include "base/system.h"
#include "privilege/fs_identity.h"

namespace ub::daemon {

namespace {

// How many files the kernel lets a macvtap's device have open at once
// (MAX_TAP_QUEUES, include/linux/if_tap.h; not in the uapi headers).
constexpr int kMaxTapQueues = 256;

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

// A node unlinked when this goes, unless kept.
struct Node {
    std::string path;
    ~Node() {
        if (!path.empty()) (void)unlinkat(AT_FDCWD, path.c_str(), 0);
    }
    void keep() { path.clear(); }
};

// The device is gone (deleted meanwhile): nothing left to hold or watch.
bool gone(const Error& e) { return e.code() == ENODEV || e.code() == ENOENT || e.code() == ENXIO; }

}  // namespace

Result<Macvtaps> Macvtaps::open(std::string dir) {
    UniqueFd in(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!in.valid()) return Error::sys("inotify_init1 (for macvtaps)");
    Macvtaps m(std::move(in), std::move(dir));
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(m.dir_.c_str()), closedir);
    if (!d) return m;  // not there yet: no node either
    while (const dirent* e = readdir(d.get())) {
        std::string_view name = e->d_name;
        if (name.substr(0, 3) != "tap") continue;
        if (auto n = parse_decimal(name.substr(3), 0x7fffffff)) m.left_.insert(static_cast<int>(*n));
    }
    return m;
}

Result<void> Macvtaps::make_node(const std::string& path, dev_t dev) {
    (void)unlinkat(AT_FDCWD, path.c_str(), 0);  // one a crash left
    // CAP_MKNOD is permitted only: effective for this call alone.
    privilege::RaisedCapability mknod_cap = UB_TRY(privilege::RaisedCapability::raise(CAP_MKNOD));
    if (mknodat(AT_FDCWD, path.c_str(), S_IFCHR | 0600, dev) != 0)
        return Error::sys("cannot make the device node " + path);
    return Ok{};
}

// How many files of the device `dev` are open, in any process: the
// kernel's own count. tap_open attaches each open file as a queue and
// refuses the next with EBUSY once kMaxTapQueues are attached, enabled or
// disabled alike (tap_set_queue tests numqueues, which only a file's
// release or the device's deletion lowers; TUNSETQUEUE's detach lowers
// numvtaps only). So the opens that succeed until EBUSY are kMaxTapQueues
// less the files held. They go through a node of their own, unwatched, so
// that their closes wake nobody; while they are open the macvtap may hand
// a frame or two to them instead of its holder.
Result<int> Macvtaps::held(dev_t dev) {
    Node probe{dir_ + "/probe"};
    if (Result<void> made = make_node(probe.path, dev); !made.ok()) {
        probe.keep();
        return made.error();
    }
    std::vector<UniqueFd> ours;
    for (;;) {
        UniqueFd fd(::open(probe.path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK));
        if (!fd.valid()) break;
        ours.push_back(std::move(fd));
        if (ours.size() > kMaxTapQueues) return Error::msg("a macvtap opened more than 256 times");
    }
    // errno is still open's: a UniqueFd that holds nothing closes nothing.
    if (errno != EBUSY) return Error::sys("cannot count the open files of a macvtap (" + probe.path + ")");
    return kMaxTapQueues - static_cast<int>(ours.size());
}

Result<int> Macvtaps::watch(int ifindex) {
    std::string path = node_path(ifindex);
    int wd = inotify_add_watch(inotify_.get(), path.c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
    if (wd < 0) return Error::sys("cannot watch " + path);
    return wd;
}

Result<std::vector<UniqueFd>> Macvtaps::open_queues(const std::string& ifname, int ifindex, int queues) {
    dev_t dev = UB_TRY(device_number(ifname, ifindex));
    Node node{node_path(ifindex)};
    if (Result<void> made = make_node(node.path, dev); !made.ok()) {
        node.keep();
        return made.error();
    }
    int wd = UB_TRY(watch(ifindex));
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
    node.keep();
    watched_[wd] = ifindex;
    devs_[ifindex] = dev;
    return fds;
}

std::vector<int> Macvtaps::all_closed() {
    std::set<int> woken;
    alignas(inotify_event) char buf[4096];
    for (ssize_t n; (n = read(inotify_.get(), buf, sizeof buf)) > 0;)
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + ev->len;
            auto it = watched_.find(ev->wd);
            if (it != watched_.end() && (ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))) woken.insert(it->second);
        }
    std::vector<int> done;
    for (int ifindex : woken) {
        // An error other than the device's absence: asked again at the next close.
        Result<int> n = held(devs_[ifindex]);
        if (n.ok() ? *n > 0 : !gone(n.error())) continue;
        done.push_back(ifindex);
        forget(ifindex);
    }
    return done;
}

void Macvtaps::forget(int ifindex) {
    if (devs_.erase(ifindex) == 0) return;
    for (auto it = watched_.begin(); it != watched_.end(); ++it)
        if (it->second == ifindex) {
            (void)inotify_rm_watch(inotify_.get(), it->first);
            watched_.erase(it);
            break;
        }
    (void)unlinkat(AT_FDCWD, node_path(ifindex).c_str(), 0);
}

Result<bool> Macvtaps::adopt(const std::string& ifname, int ifindex) {
    left_.erase(ifindex);
    dev_t dev = UB_TRY(device_number(ifname, ifindex));
    Node node{node_path(ifindex)};
    // The node the grant made, if it is still there: the inode the
    // holder's files were opened through, whose closes are reported.
    struct stat st {};
    bool same = fstatat(AT_FDCWD, node.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
                st.st_rdev == dev;
    if (!same) {
        if (Result<void> made = make_node(node.path, dev); !made.ok()) {
            node.keep();
            return made.error();
        }
    }
    // Watched before it is counted: a close after the count wakes us.
    int wd = UB_TRY(watch(ifindex));
    Result<int> n = held(dev);
    if (!n.ok() || *n == 0 || !same) (void)inotify_rm_watch(inotify_.get(), wd);
    if (!n.ok()) return n.error();
    if (*n == 0) return false;  // the node goes with `node`
    if (!same)
        return Error::msg(std::to_string(*n) + " of its files are open, but through a node that is gone: " +
                          "their closes cannot be seen; delete it by hand once its VM is off");
    node.keep();
    watched_[wd] = ifindex;
    devs_[ifindex] = dev;
    return true;
}

void Macvtaps::remove_stale_nodes() {
    for (int ifindex : left_) (void)unlinkat(AT_FDCWD, node_path(ifindex).c_str(), 0);
    left_.clear();
}

}  // namespace ub::daemon
