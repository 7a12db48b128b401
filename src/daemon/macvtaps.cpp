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
        if (name.substr(0, 3) == "tap" || name == "probe") m.left_.insert(std::string(name));
    }
    return m;
}

std::string Macvtaps::node_path(int ifindex, int queue) const {
    return dir_ + "/tap" + std::to_string(ifindex) + "." + std::to_string(queue);
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
// a frame or two to them instead of its holder, and each close waits for
// an RCU grace period (tap_release): asked only of adopted macvtaps.
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

Result<std::vector<UniqueFd>> Macvtaps::open_queues(const std::string& ifname, int ifindex, int queues) {
    Macvtap m;
    m.dev = UB_TRY(device_number(ifname, ifindex));
    macvtaps_[ifindex] = m;  // forget() undoes what is below, on error
    std::vector<UniqueFd> fds;
    for (int q = 0; q < queues; ++q) {
        std::string path = node_path(ifindex, q);
        Result<void> made = make_node(path, m.dev);
        int wd = made.ok() ? inotify_add_watch(inotify_.get(), path.c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) : -1;
        if (wd >= 0) {
            macvtaps_[ifindex].nodes[wd] = q;
            watched_[wd] = ifindex;
        }
        UniqueFd fd(wd >= 0 ? ::open(path.c_str(), O_RDWR | O_CLOEXEC) : -1);
        if (!fd.valid()) {
            Error e = !made.ok() ? made.error() : Error::sys((wd < 0 ? "cannot watch " : "cannot open ") + path);
            forget(ifindex);
            return e;
        }
        fds.push_back(std::move(fd));
    }
    return fds;
}

std::vector<int> Macvtaps::all_closed(Clock::time_point now) {
    std::vector<int> done;
    std::set<int> adopted_woken;
    alignas(inotify_event) char buf[4096];
    for (ssize_t n; (n = read(inotify_.get(), buf, sizeof buf)) > 0;)
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + ev->len;
            auto w = watched_.find(ev->wd);
            if (w == watched_.end() || !(ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))) continue;
            int ifindex = w->second;
            Macvtap& m = macvtaps_[ifindex];
            if (m.adopted) {
                adopted_woken.insert(ifindex);
                continue;
            }
            // Its queue's file is released: its node is done with.
            (void)unlinkat(AT_FDCWD, node_path(ifindex, m.nodes[ev->wd]).c_str(), 0);
            (void)inotify_rm_watch(inotify_.get(), ev->wd);
            m.nodes.erase(ev->wd);
            watched_.erase(w);
            if (!m.nodes.empty()) continue;
            done.push_back(ifindex);
            forget(ifindex);
        }
    for (const auto& [ifindex, l] : looks_)
        if (l.when <= now) adopted_woken.insert(ifindex);
    for (int ifindex : adopted_woken) {
        auto l = looks_.find(ifindex);
        look(ifindex, l == looks_.end() ? 0 : l->second.done, now, done);
    }
    return done;
}

// Asks the kernel whether the adopted macvtap `ifindex` still has a file
// open. Its close events come before the file is detached (__fput calls
// fsnotify_close before the release, tap_put_queue, which waits for the
// RTNL lock), so one that still finds a file asks again a little later:
// 0.1, 0.5, 2 and 10 s after.
void Macvtaps::look(int ifindex, int before, Clock::time_point now, std::vector<int>& done) {
    static constexpr std::chrono::milliseconds kAgain[] = {std::chrono::milliseconds(100),
                                                           std::chrono::milliseconds(500),
                                                           std::chrono::seconds(2), std::chrono::seconds(10)};
    looks_.erase(ifindex);
    Result<int> n = held(macvtaps_[ifindex].dev);
    if (n.ok() ? *n == 0 : gone(n.error())) {
        done.push_back(ifindex);
        forget(ifindex);
    } else if (before < static_cast<int>(std::size(kAgain))) {
        looks_[ifindex] = {now + kAgain[before], before + 1};
    }
}

Macvtaps::Clock::time_point Macvtaps::next_look() const {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [ifindex, l] : looks_) next = std::min(next, l.when);
    return next;
}

void Macvtaps::forget(int ifindex) {
    looks_.erase(ifindex);
    auto it = macvtaps_.find(ifindex);
    if (it == macvtaps_.end()) return;
    for (const auto& [wd, q] : it->second.nodes) {
        (void)inotify_rm_watch(inotify_.get(), wd);
        (void)unlinkat(AT_FDCWD, node_path(ifindex, q).c_str(), 0);
        watched_.erase(wd);
    }
    macvtaps_.erase(it);
}

Result<bool> Macvtaps::adopt(const std::string& ifname, int ifindex, int queues) {
    Macvtap m;
    m.dev = UB_TRY(device_number(ifname, ifindex));
    m.adopted = true;
    // The nodes the grant made that are still there: the inodes the
    // holder's files were opened through, whose closes are reported;
    // watched before the kernel is asked, so that a close after it wakes us.
    for (int q = 0; q < queues; ++q) {
        std::string path = node_path(ifindex, q);
        left_.erase(path.substr(dir_.size() + 1));
        struct stat st {};
        if (fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISCHR(st.st_mode) ||
            st.st_rdev != m.dev)
            continue;
        int wd = inotify_add_watch(inotify_.get(), path.c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
        if (wd >= 0) m.nodes[wd] = q;
    }
    for (const auto& [wd, q] : m.nodes) watched_[wd] = ifindex;
    bool watched = !m.nodes.empty();
    macvtaps_[ifindex] = std::move(m);
    Result<int> n = held(macvtaps_[ifindex].dev);
    if (!n.ok() || *n == 0 || !watched) forget(ifindex);
    if (!n.ok()) return n.error();
    if (*n == 0) return false;
    if (!watched)
        return Error::msg(std::to_string(*n) + " of its files are open, but through nodes that are gone: " +
                          "their closes cannot be seen; delete it by hand once its VM is off");
    return true;
}

void Macvtaps::remove_stale_nodes() {
    for (const std::string& name : left_) (void)unlinkat(AT_FDCWD, (dir_ + "/" + name).c_str(), 0);
    left_.clear();
}

}  // namespace ub::daemon
