#include "daemon/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "audit/audit.h"
#include "base/fault.h"
#include "daemon/grant.h"
#include "handover/handover.h"
#include "net/bridge_port.h"
#include "net/mac_pin.h"
#include "net/rtnl.h"
#include "protocol/tap_label.h"
#include "protocol/wire.h"

namespace ub::daemon {

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
    UniqueFd fd;
    Peer peer;
    Clock::time_point deadline;
    std::string buf;
};

// An audit record waiting for its caller's name (UserDb::ask_name): written
// once the name comes, or with user=? when its time is up, always in the
// order the records were made. Nothing waits for the user database: a slow
// one (sssd waiting on its server) delays records, never a grant.
struct Unnamed {
    std::uint32_t seq;  // the name's question
    audit::AuditRecord rec;
    int ifindex = 0;  // a tap we granted: granted_ gets the name too
    Clock::time_point deadline;
    bool named = false;
};

class Server {
public:
    Server(UniqueFd listener, const ServerConfig& cfg, policy::Policy policy, UniqueFd sigfd,
           std::optional<net::LinkMonitor> monitor)
        : listener_(std::move(listener)), cfg_(cfg), policy_(std::move(policy)), sig_(std::move(sigfd)),
          monitor_(std::move(monitor)) {}
    Result<void> run();

private:
    void accept_all();
    void on_readable(Conn& c);
    void answer(Conn& c, const protocol::Reply& reply, const std::vector<int>& fds);
    void finish(Conn& c, protocol::Status status, const std::string& why);
    void reload();
    void expire();
    void on_link_events();
    void revoke_tampered(const std::vector<net::LinkInfo>& links);
    void record_after_grant(audit::AuditRecord rec, int ifindex);
    void sweep_tampered();
    void collect_dead_elements();
    void record_named(audit::AuditRecord rec, uid_t uid, int ifindex = 0);
    void on_names();
    void write_records(bool all);
    int timeout_ms() const;

    UniqueFd listener_;
    ServerConfig cfg_;
    policy::Policy policy_;
    UniqueFd sig_;
    std::optional<net::LinkMonitor> monitor_;      // for expiry records
    std::map<int, audit::AuditRecord> granted_;    // live taps we granted, by ifindex
    std::map<int, Conn> conns_;          // by fd
    std::map<uid_t, unsigned> per_uid_;  // open connections
    net::TapNames tap_names_;
    Kept kept_;
    std::deque<Unnamed> unnamed_;
    bool stop_ = false;
};

void log_line(int prio, const std::string& line) { syslog(LOG_DAEMON | prio, "%s", line.c_str()); }

// The ACL, with its user= and group= names looked up by the user database
// process (NSS does not run under the daemon's filter); what the loader
// warns of (a rule naming nobody, an include skipped) goes to the log.
Result<policy::Policy> load_acl(const ServerConfig& cfg) {
    policy::LoadOptions opt;
    opt.user_id = [db = cfg.userdb](const std::string& name) { return db->user_id(name); };
    opt.group_id = [db = cfg.userdb](const std::string& name) { return db->group_id(name); };
    policy::Policy p = UB_TRY(policy::load(cfg.acl_path, opt));
    for (const std::string& w : p.warnings) log_line(LOG_WARNING, "ACL: " + w);
    for (const std::string& w : p.skipped) log_line(LOG_INFO, "ACL: include skipped: " + w);
    return p;
}

void Server::answer(Conn& c, const protocol::Reply& reply, const std::vector<int>& fds) {
    auto bytes = protocol::encode(reply);
    // The reply fits an empty socket buffer; a client that will not take it
    // (or left) loses it, and we never block or die by SIGPIPE.
    (void)handover::sendmsg_with_fds(c.fd.get(), bytes.data(), bytes.size(), fds, MSG_DONTWAIT);
}

void Server::finish(Conn& c, protocol::Status status, const std::string& why) {
    protocol::Reply r;
    r.status = status;
    r.message = why;
    answer(c, r, {});
}

// Who is at the other end, as the kernel saw them at connect(): pid, uid and
// gid (SO_PEERCRED) and the supplementary groups their process runs with
// (SO_PEERGROUPS), the groups a helper they ran would have. Nothing the
// client says about itself is used. An error when the kernel will not say.
Result<Peer> peer_of(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Error::sys("SO_PEERCRED");
    Peer p{cred.pid, cred.uid, cred.gid, std::vector<gid_t>(64)};
    for (;;) {
        UB_TRYV(fault::at("peer-groups"));
        socklen_t room = static_cast<socklen_t>(p.groups.size() * sizeof(gid_t));
        len = room;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p.groups.data(), &len) == 0) break;
        // Too small: len says how much the groups need (NGROUPS_MAX at most).
        if (errno != ERANGE) return Error::sys("SO_PEERGROUPS");
        if (len <= room || len > 65536 * sizeof(gid_t))
            return Error::msg("SO_PEERGROUPS: the kernel asks for " + std::to_string(len) + " bytes");
        p.groups.resize(len / sizeof(gid_t));
    }
    p.groups.resize(len / sizeof(gid_t));
    return p;
}

void Server::accept_all() {
    for (;;) {
        UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd.valid()) return;  // EAGAIN, or a transient error: poll again
        // Without the caller's groups nothing can be decided, and a reply
        // would be written to someone unknown: the connection is closed.
        Result<Peer> peer = peer_of(fd.get());
        if (!peer.ok()) {
            log_line(LOG_WARNING, "closed a connection whose caller the kernel would not name: " +
                                      peer.error().message());
            continue;
        }
        uid_t uid = peer->uid;
        Conn c{std::move(fd), std::move(*peer), Clock::now() + cfg_.limits.deadline, {}};
        if (conns_.size() >= cfg_.limits.max_connections) {
            finish(c, protocol::Status::Busy, "the daemon is at its connection limit; try again");
            continue;
        }
        if (per_uid_[uid] >= cfg_.limits.max_per_uid) {
            finish(c, protocol::Status::Busy, "too many open connections for uid " + std::to_string(uid));
            log_line(LOG_WARNING, "uid " + std::to_string(uid) + " is at its connection limit");
            continue;
        }
        ++per_uid_[uid];
        int key = c.fd.get();
        conns_.emplace(key, std::move(c));
    }
}

void Server::on_readable(Conn& c) {
    char buf[protocol::kRequestSize + 1];
    std::size_t want = protocol::kRequestSize + 1 - c.buf.size();
    ssize_t n = recv(c.fd.get(), buf, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        c.deadline = Clock::time_point::min();  // gone: drop it
        return;
    }
    c.buf.append(buf, static_cast<std::size_t>(n));
    if (c.buf.size() > protocol::kRequestSize) {
        finish(c, protocol::Status::BadRequest, "request is longer than " +
                                                    std::to_string(protocol::kRequestSize) + " bytes");
        c.deadline = Clock::time_point::min();
        return;
    }
    if (c.buf.size() < protocol::kRequestSize) return;
    // A complete request. Anything the client sends after it is ignored.
    c.deadline = Clock::time_point::min();
    Result<protocol::Request> req = protocol::decode_request(c.buf);
    if (!req.ok()) {
        finish(c, protocol::Status::BadRequest, req.error().message());
        audit::AuditRecord rec = audit::begin("daemon", "?", c.peer.uid, c.peer.pid, "");
        rec.detail = req.error().message();
        record_named(std::move(rec), c.peer.uid);
        return;
    }
    Outcome o = handle(policy_, c.peer, *req, kept_, cfg_.nft, &tap_names_);
    if (o.reply.status == protocol::Status::Granted) fault::at_void("before-send");
    std::vector<int> fds;
    for (const UniqueFd& q : o.queues) fds.push_back(q.get());
    answer(c, o.reply, fds);
    // Our copies go at once, and then the client hears EOF. Our clients wait
    // for it before they hand their fds on, so theirs is the tap's last
    // close, and its teardown (15 to 30 ms in the kernel, under the RTNL
    // lock) runs in them, not in the one thread that serves everyone: with
    // the copies closed after the audit record instead, 8 clients that
    // closed their taps at once got half the throughput of Debian's helper.
    // If the client left before taking its fds, the tap goes with the
    // dropped message.
    if (o.reply.status == protocol::Status::Granted) fault::at_void("before-close");
    o.queues.clear();
    (void)shutdown(c.fd.get(), SHUT_WR);
    // The client, woken by the EOF, often shares our CPU and is not let
    // preempt us: what we do next (refill the tun fd, ask for the name)
    // held its grant back 80 to 100 µs in a quarter of traced grants.
    sched_yield();
    if (o.reply.status == protocol::Status::Granted) fault::at_void("after-send");
    refill_tun(kept_);
    // The caller's name is asked for only now that the client has its
    // reply. Asked earlier, to overlap the tap's making, the user database
    // process woke on the daemon's CPU and took it from the grant (70 µs of
    // a 0.7 ms grant, traced).
    bool granted = o.reply.status == protocol::Status::Granted;
    if (granted) granted_[o.ifindex] = o.record;
    record_named(std::move(o.record), c.peer.uid, granted ? o.ifindex : 0);
}

void Server::record_named(audit::AuditRecord rec, uid_t uid, int ifindex) {
    Result<std::uint32_t> seq = cfg_.userdb->ask_name(uid);
    if (!seq.ok()) {
        rec.user = "?";
        unnamed_.push_back({0, std::move(rec), ifindex, Clock::time_point::min(), true});
    } else {
        unnamed_.push_back({*seq, std::move(rec), ifindex, Clock::now() + UserDb::kTimeout});
    }
    write_records(false);
}

void Server::on_names() {
    for (const auto& [seq, name] : cfg_.userdb->take_names())
        for (Unnamed& u : unnamed_)
            if (u.seq == seq && !u.named) {
                u.rec.user = name;
                u.named = true;
            }
    write_records(false);
}

// Writes the records at the front whose names came or whose time is up
// (all of them when `all`, or when the user database is gone).
void Server::write_records(bool all) {
    auto now = Clock::now();
    bool gone = cfg_.userdb->fd() < 0;
    while (!unnamed_.empty()) {
        Unnamed& u = unnamed_.front();
        if (!u.named && !all && !gone && u.deadline > now) break;
        if (!u.named) cfg_.userdb->forget(u.seq);
        if (u.ifindex != 0)
            if (auto g = granted_.find(u.ifindex); g != granted_.end()) g->second.user = u.rec.user;
        audit::record(u.rec);
        unnamed_.pop_front();
    }
}

void Server::reload() {
    Result<policy::Policy> fresh = load_acl(cfg_);
    // Names that came while the ACL's lookups waited were read then: their
    // records go now, not when their time is up.
    on_names();
    if (!fresh.ok()) {
        log_line(LOG_ERR, "SIGHUP: new ACL refused, keeping the old one: " + fresh.error().message());
        return;
    }
    policy_ = std::move(*fresh);
    log_line(LOG_NOTICE, "SIGHUP: ACL reloaded from " + cfg_.acl_path);
}

void Server::expire() {
    auto now = Clock::now();
    for (auto it = conns_.begin(); it != conns_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        if (it->second.deadline != Clock::time_point::min())
            log_line(LOG_INFO, "dropped a connection from uid " + std::to_string(it->second.peer.uid) +
                                   " that sent no complete request in time");
        if (--per_uid_[it->second.peer.uid] == 0) per_uid_.erase(it->second.peer.uid);
        it = conns_.erase(it);
    }
}

int Server::timeout_ms() const {
    if (conns_.empty() && unnamed_.empty()) return -1;
    auto first = Clock::time_point::max();
    for (const auto& [fd, c] : conns_) first = std::min(first, c.deadline);
    if (!unnamed_.empty()) first = std::min(first, unnamed_.front().deadline);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(first - Clock::now()).count();
    return ms < 0 ? 0 : static_cast<int>(std::min<long long>(ms + 1, 60000));
}

// An expiry record for every tap with our label that goes away: the ones we
// granted (with their grant's details) and the helper's alike. A labelled
// tap that its holder changed is removed at once (revoke_tampered).
void Server::on_link_events() {
    Result<std::vector<net::LinkInfo>> events = monitor_->read();
    if (!events.ok()) {
        log_line(LOG_WARNING, "link events lost, some expiry records may be missing: " +
                                  events.error().message());
        collect_dead_elements();  // some of the lost may be deaths
        sweep_tampered();         // and some, changes to our taps
        return;
    }
    revoke_tampered(*events);
    bool tap_died = false;
    for (const net::LinkInfo& l : *events) {
        if (!l.deleted) continue;
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        auto ours = granted_.find(l.ifindex);
        if (ours == granted_.end() && !label) continue;
        tap_died = true;
        // Its last state says whether it was one to remove (revoke_tampered).
        bool revoked = net::tampered_tap(l).has_value();
        auto expired = [revoked](audit::AuditRecord rec) {
            rec.event = "expire";
            rec.detail = revoked ? "the tap is gone (its holder had changed it)"
                                 : "the tap is gone (its last fd was closed)";
            return rec;
        };
        if (ours == granted_.end()) {
            audit::AuditRecord rec = audit::begin("helper", "?", label->uid, 0, "");
            rec.tap = l.name;
            rec.vm = label->vm;
            rec.queues = label->queues;
            if (label->mac) rec.guest_mac = policy::format_mac_bytes(*label->mac);
            record_named(expired(std::move(rec)), label->uid);
            continue;
        }
        audit::AuditRecord rec = expired(ours->second);
        granted_.erase(ours);
        record_after_grant(std::move(rec), l.ifindex);
    }
    // Our grants add their elements to the nftables sets without looking
    // for dead ones (guard_tap, once the table was seen whole): they are
    // collected here, as taps die, off every grant's path.
    if (tap_died) collect_dead_elements();
}

// Each labelled tap in `links` (RTM_NEWLINK events, or a dump) that its
// holder changed is removed, with a record saying what changed. The kernel
// announces each change as it is made: SIOCSIFHWADDR (NETDEV_CHANGEADDR)
// always, and TUNSETOWNER, TUNSETGROUP and TUNSETPERSIST through
// netdev_state_change() while the tap is up, which a granted tap is from
// before its fds are handed over, and which the holder cannot undo (that
// takes CAP_NET_ADMIN). Until we act, a changed MAC is in the bridge's
// forwarding table: that window is in docs/SECURITY.md.
void Server::revoke_tampered(const std::vector<net::LinkInfo>& links) {
    std::optional<net::Rtnl> rtnl;
    for (const net::LinkInfo& l : links) {
        if (l.deleted) continue;
        std::optional<net::Revoked> r = net::tampered_tap(l);
        if (!r) continue;
        if (!rtnl) {
            Result<net::Rtnl> opened = net::Rtnl::open();
            if (opened.ok()) rtnl.emplace(std::move(*opened));
            else r->error = opened.error().message();
        }
        // Each change comes with more events (the tap going down as it is
        // deleted, too): the one whose deletion did it says so.
        if (rtnl && !net::remove_tampered(*rtnl, *r) && r->error.empty()) continue;
        auto ours = granted_.find(l.ifindex);
        audit::AuditRecord rec = ours != granted_.end()
                                     ? ours->second
                                     : audit::begin("helper", "?", r->label.uid, 0, "");
        rec.event = "revoke";
        rec.tap = r->tap;
        rec.vm = r->label.vm;
        rec.queues = r->label.queues;
        rec.detail = (r->error.empty() ? "removed: " : "not removed (" + r->error + "): ") + r->what;
        if (ours != granted_.end()) record_after_grant(std::move(rec), l.ifindex);
        else record_named(std::move(rec), r->label.uid);
    }
}

// A record about a tap we granted, after the grant's own: at once, or,
// while that one is still waiting (for its name, or behind another's),
// behind it, with the same name.
void Server::record_after_grant(audit::AuditRecord rec, int ifindex) {
    auto waiting = std::find_if(unnamed_.begin(), unnamed_.end(),
                                [&](const Unnamed& u) { return u.ifindex == ifindex; });
    if (waiting == unnamed_.end()) {
        audit::record(rec);
        return;
    }
    rec.user = waiting->rec.user;
    Unnamed after{waiting->seq, std::move(rec), 0, waiting->deadline, waiting->named};
    unnamed_.push_back(std::move(after));
}

// Taps changed while we were not watching (before we started, or in
// events lost to an overrun): their state now, from a dump.
void Server::sweep_tampered() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<std::vector<net::LinkInfo>> taps =
        rtnl.ok() ? rtnl->list_links("tun") : Result<std::vector<net::LinkInfo>>(rtnl.error());
    if (!taps.ok()) {
        log_line(LOG_WARNING, "could not look for taps changed by their holders: " +
                                  taps.error().message());
        return;
    }
    revoke_tampered(*taps);
}

void Server::collect_dead_elements() {
    if (!cfg_.nft || !cfg_.nft->table_checked()) return;
    if (Result<void> r = net::collect_dead(*cfg_.nft); !r.ok())
        log_line(LOG_WARNING, "could not remove dead taps from the nftables sets: " + r.error().message());
}

Result<void> Server::run() {
    sweep_tampered();  // with the monitor already open: no change falls between
    while (!stop_) {
        std::vector<pollfd> p{{listener_.get(), POLLIN, 0}, {sig_.get(), POLLIN, 0},
                              {monitor_ ? monitor_->fd() : -1, POLLIN, 0},
                              {unnamed_.empty() ? -1 : cfg_.userdb->fd(), POLLIN, 0}};
        for (const auto& [fd, c] : conns_) p.push_back({fd, POLLIN, 0});
        int n = poll(p.data(), p.size(), timeout_ms());
        if (n < 0 && errno != EINTR) return Error::sys("poll");
        if (n > 0) {
            if (p[1].revents) {
                signalfd_siginfo si{};
                if (read(sig_.get(), &si, sizeof si) == sizeof si) {
                    if (si.ssi_signo == SIGHUP) reload();
                    else stop_ = true;
                }
            }
            if (p[2].revents) on_link_events();
            if (p[3].revents) on_names();
            for (std::size_t i = 4; i < p.size(); ++i)
                if (p[i].revents) {
                    auto it = conns_.find(p[i].fd);
                    if (it != conns_.end()) on_readable(it->second);
                }
            // Answered connections go now, before accepting: a client that
            // got its reply and asks again must not find its own finished
            // connection still counted against its uid.
            expire();
            if (p[0].revents) accept_all();
        }
        expire();
        write_records(false);
    }
    // The records still waiting get a moment for their names, then go as
    // they are.
    for (auto until = Clock::now() + std::chrono::milliseconds(500);
         !unnamed_.empty() && cfg_.userdb->fd() >= 0 && Clock::now() < until;) {
        pollfd p{cfg_.userdb->fd(), POLLIN, 0};
        if (poll(&p, 1, 50) > 0) on_names();
    }
    write_records(true);
    log_line(LOG_NOTICE, "stopping");
    return Ok{};
}

}  // namespace

Result<void> serve(UniqueFd listener, const ServerConfig& config) {
    policy::Policy policy = UB_TRY(load_acl(config));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::sys("sigprocmask");
    UniqueFd sigfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd.valid()) return Error::sys("signalfd");
    if (fcntl(listener.get(), F_SETFL, O_NONBLOCK) != 0) return Error::sys("listener O_NONBLOCK");
    std::optional<net::LinkMonitor> monitor;
    if (Result<net::LinkMonitor> m = net::LinkMonitor::open(); m.ok()) monitor.emplace(std::move(*m));
    else log_line(LOG_WARNING, m.error().message() + "; no expiry records");
    // Seeing taps die, we collect their nftables elements then, and our
    // grants need not look for them (guard_tap).
    if (monitor && config.nft) config.nft->collect_as_taps_die();
    Server s(std::move(listener), config, std::move(policy), std::move(sigfd), std::move(monitor));
    return s.run();
}

}  // namespace ub::daemon
