#include "daemon/server.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "base/fault.h"
#include "base/names.h"
#include "base/system.h"
#include "compat/qemu_helper.h"
#include "daemon/grant.h"
#include "daemon/closer.h"
#include "daemon/log_budget.h"
#include "daemon/netns.h"
#include "daemon/subids.h"
#include "handover/handover.h"
#include "handover/receive.h"
#include "net/bridge_port.h"
#include "net/live_taps.h"
#include "net/link_monitor.h"
#include "net/rtnl.h"
#include "policy/readable.h"
#include "privilege/fs_identity.h"
#include "protocol/tap_label.h"
#include "protocol/seen_wire.h"
#include "protocol/wire.h"

namespace ub::daemon {

namespace {

using Clock = std::chrono::steady_clock;

// Connections refused at a limit are logged once per account per interval.
constexpr auto kRefusalInterval = std::chrono::seconds(10);
constexpr unsigned kRefusalLines = 100;  // every account's together
// Records of refused requests (deny, and error where no tap was made),
// which a caller makes as fast as it connects: at most this many an
// account, and in all, per journald's default interval (log_budget.h).
// A tap's records (grant, revoke, release, expiry) are not bounded: each
// needs a tap, which the ACL's quotas bound.
constexpr auto kRecordWindow = std::chrono::seconds(30);
constexpr unsigned kRecordsPerAccount = 30;
constexpr unsigned kRecordsInAll = 3000;
// Accepted per turn of the loop: a flood refilling the listen queue as fast
// as we accept must not keep the loop from the connections it holds.
constexpr unsigned kAcceptBatch = 64;

// The links of one kind, through a socket that may have failed to open
// (each start-up pass opens its own and says what it could not look at).
Result<std::vector<net::LinkInfo>> links_of(Result<net::Rtnl>& rtnl, const char* kind) {
    if (!rtnl.ok()) return rtnl.error();
    return rtnl->list_links(kind);
}

struct Conn {
    ClientFd fd;
    grant::Caller peer;  // peer.account: whose bounds it counts against (subids.h)
    Clock::time_point deadline;
    std::string buf;
    // A request parked for polkit's answer, tried again at retry_at.
    std::optional<protocol::Request> parked;
    Clock::time_point retry_at{};
    // A request parked for polkit's answer (an auth=polkit rule decides):
    // its question, then the answer, and the caller's pidfd, which shows
    // whether the process polkit was asked about still lives.
    std::optional<std::uint64_t> polkit_id;
    std::optional<PolkitAnswer> polkit_answer;
    UniqueFd pidfd;
    // The network namespace a veth request's fd names (SCM_RIGHTS with it).
    ClientFd netns;
    // The account's groups in the group database, asked for once the
    // request is complete (Server::await_groups): the question; then known, in
    // peer.ids.account_groups, or why they could not be.
    std::optional<std::uint32_t> groups_seq;
    bool groups_known = false;
    std::string groups_why;
    Clock::time_point groups_until{};  // the wait's end, once begun
};

// An answered grant whose reply its client has not read: its fds are in
// flight, and the kernel counts every fd in flight from us against our
// RLIMIT_NOFILE (too_many_unix_fds), for all users at once. Kept until the
// reply is consumed (SIOCOUTQ) or the client closes (POLLHUP), so that
// what each uid holds unread is known and bounded.
struct Unread {
    ClientFd fd;
    uid_t uid;  // the account (Conn::account)
    unsigned fds;
    bool polled = true;  // false once hung up but not empty: POLLHUP would repeat
};

// An audit record waiting for its caller's name (UserDb::ask_name): written
// once the name comes, or with user=? when its time is up, always in the
// order the records were made. Nothing waits for the user database: a slow
// one (sssd waiting on its server) delays records, never a grant.
struct RecordAwaitingName {
    std::uint32_t seq;  // the name's question
    audit::AuditRecord rec;
    int ifindex = 0;  // a tap we granted: granted_ gets the name too
    Clock::time_point deadline;
    bool named = false;
};

// An account's groups in the group database, as last answered, kept for
// kGroupsFresh: VMs start in bursts, and each answer costs the broker's
// wake-up and a read of the group database (a quarter of a millisecond on
// the machines we measured, a third of a grant). A group added in the
// database is seen by a new request within that time; a process of the
// user's own sees it only at their next login. Up to kGroupsKept
// accounts; a reload forgets them all.
struct KnownGroups {
    std::vector<gid_t> gids;
    Clock::time_point until;
};
constexpr auto kGroupsFresh = std::chrono::seconds(10);
constexpr std::size_t kGroupsKept = 4096;
// The user database process answers one question at a time, from a socket
// whose buffer a flood of questions would fill, and a grant may wait for
// an account's groups: so one account has at most one question for its
// groups (its connections share the answer) and kNamingPerAccount for
// records' names out at once; past that, a record says user=?.
constexpr unsigned kNamingPerAccount = 16;
// A question that could not be sent (the socket's buffer full) is sent
// again this much later, until the request's wait is over.
constexpr auto kGroupsRetry = std::chrono::milliseconds(10);

// A lease we watch (protocol/tap_label.h): ended at its expiry, or when
// the connection it is tied to closes. Rebuilt at start-up from the labels
// of the taps that are there: the kernel keeps them, not us.
struct Lease {
    std::string name;
    uid_t uid = 0;
    long long expiry = 0;  // seconds since the epoch
    ClientFd conn;         // tied: the connection that holds it
    std::string ending;    // why it is ended, while its deletion waits to be tried again
    bool by_polkit = false;  // polkit said yes to it (unknown for one adopted: false)
    std::string bridge;      // the bridge it is on, as the last decision found it
    bool recheck = false;    // a decision under a new ACL waits for its owner's groups
    std::string recheck_why;  // why it is decided again (recheck_leases)
};

class Server {
public:
    Server(UniqueFd listener, const ServerConfig& cfg, policy::Policy policy, SubUids subuids,
           UniqueFd sigfd, std::optional<net::LinkMonitor> monitor, NsId own_netns)
        : listener_(std::move(listener)), cfg_(cfg), policy_(std::move(policy)), subuids_(std::move(subuids)),
          sig_(std::move(sigfd)), monitor_(std::move(monitor)), own_netns_(own_netns),
          groups_matter_(policy::needs_account_groups(policy_)) {}
    Result<void> run();

private:
    void accept_all();
    void refuse_connection(int fd, uid_t uid, const std::string& why);
    void log_refusals(Clock::time_point now = Clock::now());
    void on_readable(Conn& c, short revents);
    void answer_seen(Conn& c);
    void attempt(Conn& c, const protocol::Request& req);
    bool await_groups(Conn& c, const protocol::Request& req);
    void keep_groups(uid_t account, const std::vector<gid_t>& gids);
    void named(std::uint32_t seq);
    Outcome decide_and_act(Conn& c, const protocol::Request& req);
    Result<std::uint64_t> ask_polkit(Conn& c, const protocol::Request& req);
    void on_polkit();
    void deliver(Conn& c, Outcome o);
    Outcome release(const Conn& c, const protocol::Request& req);
    void adopt_leases();
    void end_lease(int ifindex, const std::string& why);
    void recheck_leases(const std::string& why, const std::function<bool(uid_t)>& which = {});
    void check_subuids();
    void ask_lease_groups();
    void recheck_account(uid_t account, const UserDb::Groups& g);
    void recheck_lease(int ifindex, const UserDb::Groups& g);
    void expire_leases();
    void end_tied(int conn);
    void retry_parked();
    void keep_if_unread(Conn& c, std::size_t nfds);
    unsigned unread_fds(uid_t uid);
    void on_unread_event(int fd);
    void finish(Conn& c, protocol::Status status, const std::string& why);
    void reload();
    void expire();
    void on_link_events();
    void act_on_link_events(const std::vector<net::LinkInfo>& events);
    Result<const net::LiveLinks*> live_links(net::Rtnl& rtnl);
    void revoke_tampered(const std::vector<net::LinkInfo>& links);
    // At start-up: deletes the pinned macvtap or veth pair (`kind`) `l`
    // that could not get its checksum guard (`why`), with a revoke record.
    void revoke_unguarded(Result<net::Rtnl>& rtnl, const net::LinkInfo& l, const protocol::TapLabel& label,
                          const std::string& kind, const std::string& why);
    void record_after_grant(audit::AuditRecord rec, int ifindex);
    void sweep_tampered();
    void delete_unfinished_veths();
    void settle_ports();
    void drop_filter(int ifindex);
    void delete_closed_macvtaps();
    void delete_macvtap(Result<net::Rtnl>& rtnl, int ifindex);
    void adopt_macvtaps();
    void filters_after_lost_events();
    void record_named(audit::AuditRecord rec, uid_t uid, int ifindex = 0);
    void record_refusal(audit::AuditRecord rec, const grant::Caller& peer);
    void on_names();
    void write_records(bool all);
    Result<void> stop_without_userdb();
    int timeout_ms() const;

    UniqueFd listener_;
    ServerConfig cfg_;
    policy::Policy policy_;
    SubUids subuids_;
    FileStamp subuid_stamp_ = subuids_.stamp();  // the file as last read (check_subuids)
    FileStamp subuid_failed_;                    // a version that could not be read...
    Clock::time_point subuid_retry_{};           // ...tried again from then, as unknown owners' names
    std::chrono::seconds subuid_unknown_wait_{5};  // between two questions for unknown owners' names
    UniqueFd sig_;
    std::optional<net::LinkMonitor> monitor_;      // for expiry records and live_
    net::LiveLinks live_;                          // what grants count against (live_links)
    // Overruns of the link monitor: a tap's holder can cause thousands a
    // minute (each TUNSETOFFLOAD is a link event), so they are logged at
    // most once a minute, with how many went unlogged.
    Clock::time_point lost_logged_{};
    unsigned long lost_unlogged_ = 0;
    std::set<int> linklocal_off_;                  // bridges learning from no link-local frame (grant.h)
    std::map<int, audit::AuditRecord> granted_;    // live taps we granted, by ifindex
    std::map<int, Lease> leases_;                  // live leases, by ifindex
    std::map<int, std::string> lease_ends_;        // why we deleted a lease, for its expiry record
    std::map<int, Conn> conns_;          // by fd
    std::map<uid_t, unsigned> per_uid_;  // open connections, by account
    std::map<int, Unread> unread_;       // by fd
    std::map<uid_t, unsigned> unread_fds_;  // the fds in unread_, by account
    LogBudget refused_connections_{1, kRefusalLines, kRefusalInterval};
    LogBudget refusal_records_{kRecordsPerAccount, kRecordsInAll, kRecordWindow};
    std::map<uid_t, KnownGroups> known_groups_;  // by account
    std::map<uid_t, std::uint32_t> groups_asked_;  // by account: the question out for its groups
    struct LeaseGroupsAsked {
        uid_t account;
        Clock::time_point until;
    };
    std::map<std::uint32_t, LeaseGroupsAsked> lease_groups_;  // questions for lease owners' groups
    std::map<std::uint32_t, uid_t> naming_;        // names asked for records: whose account
    std::map<uid_t, unsigned> naming_per_account_;
    net::TapNames tap_names_;
    NsId own_netns_;            // the host's: never a veth's target
    unsigned veth_serial_ = 0;  // veth host end names (net/veth.h)
    SpareFds spare_;
    Polkit polkit_;
    std::deque<RecordAwaitingName> unnamed_;
    // The account's groups in the group database could change a decision
    // under policy_ (policy::needs_account_groups): asked for each request.
    bool groups_matter_;
    bool stop_ = false;
};

void log_line(int prio, const std::string& line) { syslog(LOG_DAEMON | prio, "%s", line.c_str()); }

// Every file of the ACL, also those root itself may not read (an include
// `root:lab 0040`, in a directory `0050`) but a caller may:
// CAP_DAC_READ_SEARCH is effective while loading, and only then. Which files
// count for a caller is the kernel's answer per request (grant.cpp), never
// the daemon's own reach.
Result<policy::Policy> load_every_file(const std::string& path, const policy::LoadOptions& opt) {
    privilege::RaisedCapability read_all = UB_TRY(privilege::RaisedCapability::raise(CAP_DAC_READ_SEARCH));
    return policy::load(path, opt);
}

// The ACL, with its user= and group= names looked up by the user database
// process (NSS does not run under the daemon's filter); what the loader
// warns of (a rule naming nobody, an include skipped) goes to the log, and
// so do denies a privileged QEMU helper on the host ignores: here, so once
// per start and per reload, never per request.
Result<policy::Policy> load_acl(const ServerConfig& cfg) {
    policy::LoadOptions opt;
    opt.daemon = &policy::daemon_options();
    opt.user_id = [db = cfg.userdb](const std::string& name) { return db->user_id(name); };
    opt.group_id = [db = cfg.userdb](const std::string& name) { return db->group_id(name); };
    policy::Policy p = UB_TRY(load_every_file(cfg.acl_path, opt));
    for (const std::string& w : p.warnings) log_line(LOG_WARNING, "ACL: " + w);
    for (const std::string& w : p.skipped) log_line(LOG_INFO, "ACL: include skipped: " + w);
    for (const std::string& w : compat::qemu_warnings(cfg.qemu_helpers, p)) log_line(LOG_WARNING, "ACL: " + w);
    return p;
}

// The subordinate uids' owners, looked up by the user database process.
std::function<Result<long long>(const std::string&)> owner_lookup(const ServerConfig& cfg) {
    return [db = cfg.userdb](const std::string& name) { return db->user_id(name); };
}
Result<SubUids> load_subuids(const ServerConfig& cfg, const SubUids* before = nullptr) {
    return SubUids::load(kSubUidPath, owner_lookup(cfg), before);
}

// Why a uid of a range with no owner known is refused.
std::string unknown_why(const SubUids::Unknown& u) {
    if (u.removed)
        return "was a subordinate uid of " + printable(u.name) + " until " + kSubUidPath +
               " changed; refused until userbridged reloads";
    return "is a subordinate uid of " + printable(u.name) + ", whom the user database does not know (yet)";
}

Result<void> answer(int fd, const protocol::Reply& reply, const std::vector<int>& fds) {
    auto bytes = protocol::encode(reply);
    // The reply fits an empty socket buffer; a client that will not take it
    // (or left) loses it, and we never block or die by SIGPIPE.
    ssize_t n = handover::sendmsg_with_fds(fd, bytes.data(), bytes.size(), fds, MSG_DONTWAIT);
    if (n < 0) return Error::sys("sendmsg");
    if (static_cast<std::size_t>(n) != bytes.size()) return Error::msg("sendmsg: a short send");
    return Ok{};
}

// A reply without fds: a refusal, or why the connection is dropped.
void tell(int fd, protocol::Status status, const std::string& why) {
    protocol::Reply r;
    r.status = status;
    r.message = why;
    (void)answer(fd, r, {});
}

void Server::finish(Conn& c, protocol::Status status, const std::string& why) { tell(c.fd.get(), status, why); }

// Who is at the other end, as the kernel saw them at connect(): pid, uid and
// gid (SO_PEERCRED). Nothing the client says about itself is used.
Result<ucred> cred_of(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Error::sys("SO_PEERCRED");
    return cred;
}

// The supplementary groups their process runs with (SO_PEERGROUPS), the
// groups a helper they ran would have. An error when the kernel will not say.
Result<std::vector<gid_t>> groups_of(int fd) {
    std::vector<gid_t> groups(64);
    socklen_t len = 0;
    for (;;) {
        UB_TRYV(fault::at("peer-groups"));
        socklen_t room = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        len = room;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) break;
        // Too small: len says how much the groups need (NGROUPS_MAX at most).
        if (errno != ERANGE) return Error::sys("SO_PEERGROUPS");
        if (len <= room || len > 65536 * sizeof(gid_t))
            return Error::msg("SO_PEERGROUPS: the kernel asks for " + std::to_string(len) + " bytes");
        groups.resize(len / sizeof(gid_t));
    }
    groups.resize(len / sizeof(gid_t));
    return groups;
}

void Server::accept_all() {
    for (unsigned i = 0; i < kAcceptBatch; ++i) {
        // A client may have sent fds into it before we took it: closed as
        // closer.h says, whatever happens.
        ClientFd fd(UniqueFd(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)),
                    cfg_.closer, static_cast<uid_t>(-1), ClientFd::Kind::Connection);
        if (!fd.valid()) return;  // EAGAIN, or a transient error: poll again
        // After the accept: the caller connected before it, and so after
        // newuidmap mapped its uid from the file as it was then.
        check_subuids();
        // Without the caller's identity nothing can be decided, and a reply
        // would be written to someone unknown: the connection is closed.
        Result<ucred> cred = cred_of(fd.get());
        if (!cred.ok()) {
            log_line(LOG_WARNING, "closed a connection whose caller the kernel would not name: " +
                                      cred.error().message());
            continue;
        }
        // The limits first: a refused connection costs an accept, one
        // getsockopt and one send, and no log line of its own.
        // A subordinate uid counts as its owner: one account, one set of bounds.
        // A range whose owner is not known counts (its closes, its log
        // lines) as one account of its own, its first uid, not 65,536.
        std::optional<SubUids::Unknown> unknown = subuids_.unknown_owner(cred->uid);
        uid_t uid = unknown ? unknown->first : subuids_.account_of(cred->uid);
        fd.set_account(uid);
        if (unknown) {
            refuse_connection(fd.get(), uid, "uid " + std::to_string(cred->uid) + " " + unknown_why(*unknown));
            continue;
        }
        if (conns_.size() >= cfg_.limits.max_connections) {
            refuse_connection(fd.get(), uid, "the daemon is at its connection limit; try again");
            continue;
        }
        if (per_uid_[uid] >= cfg_.limits.max_per_uid) {
            refuse_connection(fd.get(), uid, "too many open connections for uid " + std::to_string(uid));
            continue;
        }
        // What it handed us that has not closed yet (closer.h): a client
        // whose fds' makers hold their closes gets no more of our fds.
        if (cfg_.closer && cfg_.closer->pending(uid) >= Closer::kMaxPending) {
            refuse_connection(fd.get(), uid, "too many fds from uid " + std::to_string(uid) + " are still closing");
            continue;
        }
        Result<std::vector<gid_t>> groups = groups_of(fd.get());
        if (!groups.ok()) {
            log_line(LOG_WARNING, "closed a connection whose caller the kernel would not name: " +
                                      groups.error().message());
            continue;
        }
        ++per_uid_[uid];
        grant::Caller peer{{cred->uid, cred->gid, std::move(*groups)}, audit::peer_pid(cred->pid), uid,
                           grant::Front::Daemon};
        peer.ids.owner = subuids_.policy_account(cred->uid);  // a subordinate uid: user= rules see its account
        Conn c{std::move(fd), std::move(peer), Clock::now() + cfg_.limits.deadline, {}, {}, {}, {}, {}, {}, {},
               {}, false, {}, {}};
        int key = c.fd.get();
        conns_.emplace(key, std::move(c));
    }
}

void Server::refuse_connection(int fd, uid_t uid, const std::string& why) {
    tell(fd, protocol::Status::Busy, why);
    if (!refused_connections_.admit(uid, Clock::now())) return;
    log_line(LOG_WARNING, "refused a connection from uid " + std::to_string(uid) + ": " + why +
                              " (more are counted, one line per " +
                              std::to_string(kRefusalInterval.count()) + " s)");
}

// `now` max(): every count, as userbridged stops.
void Server::log_refusals(Clock::time_point now) {
    for (const LogBudget::Unwritten& u : refused_connections_.take_ended(now))
        log_line(LOG_WARNING, "refused " + std::to_string(u.count) + " more connections from uid " +
                                  std::to_string(u.account) + " in " + std::to_string(kRefusalInterval.count()) +
                                  " s, at a connection limit");
    for (const LogBudget::Unwritten& u : refusal_records_.take_ended(now))
        log_line(LOG_WARNING, "did not record " + std::to_string(u.count) + " more refused requests of uid " +
                                  std::to_string(u.account) + " (with its subordinate uids) one by one in " +
                                  std::to_string(kRecordWindow.count()) + " s: at most " +
                                  std::to_string(kRecordsPerAccount) + " an account and " +
                                  std::to_string(kRecordsInAll) + " in all are");
}

// A request refused: recorded within its account's budget, counted past it.
void Server::record_refusal(audit::AuditRecord rec, const grant::Caller& peer) {
    if (refusal_records_.admit(peer.account, Clock::now())) record_named(std::move(rec), peer.ids.uid);
}

// `revents`: what poll said of the connection.
void Server::on_readable(Conn& c, short revents) {
    char buf[protocol::kRequestSize + 1];
    std::size_t want = protocol::kRequestSize + 1 - c.buf.size();
    // Any fds that come are ours now, closed by the Closer (closer.h).
    Result<handover::Received> got = handover::recvmsg_with_fds(c.fd.get(), buf, want);
    std::vector<ClientFd> sent;
    if (got.ok())
        for (UniqueFd& f : got->fds) sent.emplace_back(std::move(f), cfg_.closer, c.peer.account, ClientFd::Kind::Sent);
    if (!got.ok() && (got.error().code() == EAGAIN || got.error().code() == EINTR)) return;
    if (!got.ok() || got->bytes == 0) {
        c.deadline = Clock::time_point::min();  // gone: drop it
        return;
    }
    // A veth request's namespace is one fd, with the request: no more.
    if (got->truncated || sent.size() + (c.netns.valid() ? 1 : 0) > 1) {
        finish(c, protocol::Status::BadRequest, "more than one fd came with the request");
        c.deadline = Clock::time_point::min();
        return;
    }
    if (!sent.empty()) c.netns = std::move(sent.front());
    c.buf.append(buf, got->bytes);
    if (c.buf.size() > protocol::kRequestSize) {
        finish(c, protocol::Status::BadRequest, "request is longer than " +
                                                    std::to_string(protocol::kRequestSize) + " bytes");
        c.deadline = Clock::time_point::min();
        return;
    }
    if (c.buf.size() < protocol::kRequestSize) return;
    // A complete request. Anything the client sends after it is ignored.
    // A client that sent it and closed its end, which the kernel reports as
    // POLLHUP (a unix stream socket shut down both ways), could take no
    // reply: no tap is made for it. One that leaves later loses its tap
    // with the reply (deliver()).
    if (revents & POLLHUP) {
        c.deadline = Clock::time_point::min();  // drop it
        return;
    }
    if (protocol::is_seen_query(c.buf)) {
        answer_seen(c);
        return;
    }
    Result<protocol::Request> req = protocol::decode_request(c.buf);
    if (req.ok() && req->netns_peer.empty() == c.netns.valid())
        req = Error::msg(c.netns.valid() ? "an fd came with a request that takes none"
                                         : "a veth request needs its network namespace's fd (SCM_RIGHTS)");
    if (!req.ok()) {
        c.deadline = Clock::time_point::min();
        finish(c, protocol::Status::BadRequest, req.error().message());
        audit::AuditRecord rec = grant::record_for(c.peer, {});
        rec.detail = req.error().message();
        record_refusal(std::move(rec), c.peer);
        return;
    }
    attempt(c, *req);
}

// A status query: what guests were seen to use on the caller's own taps
// (by their label's uid, as the kernel gave it at connect()), or on every
// tap for root. Answered at once, and the connection dropped.
void Server::answer_seen(Conn& c) {
    c.deadline = Clock::time_point::min();
    protocol::SeenReply r;
    Result<void> query = protocol::decode_seen_query(c.buf);
    Result<std::vector<Filters::SeenOnTap>> all =
        query.ok() ? cfg_.filters->seen() : Result<std::vector<Filters::SeenOnTap>>(query.error());
    if (!all.ok()) {
        r.message = all.error().message();
    } else {
        r.ok = true;
        uid_t uid = c.peer.ids.uid;
        for (const Filters::SeenOnTap& s : *all)
            if (uid == 0 || s.owner == uid) r.seen.push_back(s.seen);
    }
    std::string bytes = protocol::encode(r);
    // Bounded (protocol::kMaxSeen records) and so within an empty socket's
    // buffer; a client that will not take it loses it.
    (void)send(c.fd.get(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

// A refusal, before anything is made: the uid's clients hold too many of
// our fds unread.
Outcome unread_refusal(const grant::Caller& peer, const protocol::Request& req, unsigned unread) {
    Outcome o;
    o.record = grant::record_for(peer, req);
    o.reply.status = protocol::Status::Busy;
    o.reply.message = "replies to uid " + std::to_string(peer.ids.uid) + " carrying " + std::to_string(unread) +
                      " tap fds are still unread; read or close them first";
    o.record.detail = o.reply.message;
    return o;
}

// A veth request refused before anything is decided: the namespace it
// sent is not one the caller may use (daemon/netns.h).
Outcome netns_refused(const grant::Caller& peer, const protocol::Request& req, const std::string& why) {
    Outcome o;
    o.record = grant::record_for(peer, req);
    o.record.event = "deny";
    o.reply.status = protocol::Status::Denied;
    o.reply.refused = Refused::Acl;
    o.reply.message = "access to bridge " + req.bridge + " denied: " + why;
    o.record.detail = why;
    return o;
}

Outcome Server::decide_and_act(Conn& c, const protocol::Request& req) {
    unsigned unread = unread_fds(c.peer.account);
    if (unread + req.queues > cfg_.limits.max_unread_fds) return unread_refusal(c.peer, req, unread);
    if (c.netns.valid())
        if (std::string no = netns_refusal(c.netns.get(), c.peer.ids.uid, subuids_, own_netns_); !no.empty())
            return netns_refused(c.peer, req, no);
    Means means{&policy_, &cfg_.mac_key, &subuids_, &spare_, cfg_.filters, cfg_.announcer, &tap_names_,
                cfg_.macvtaps, [this](net::Rtnl& rtnl) { return live_links(rtnl); }, &linklocal_off_};
    Outcome o = handle(means, {c.peer, req, c.polkit_answer ? &*c.polkit_answer : nullptr,
                               {c.netns.get(), &veth_serial_}});
    o.lease = req.kind == protocol::Kind::Lease;
    o.tied = req.tied;
    return o;
}

// The end of a lease, asked for by its owner or root: the tap is deleted
// (RTM_DELLINK, which a persistent tap needs). Anyone else is refused, as
// the kernel refuses them the tap itself.
Outcome Server::release(const Conn& c, const protocol::Request& req) {
    Outcome o;
    o.lease = true;
    o.record = grant::record_for(c.peer, req);
    o.record.tap = req.tap_name;
    auto no = [&](protocol::Status status, const std::string& why) {
        o.reply.status = status;
        o.reply.message = why;
        o.record.event = status == protocol::Status::Denied ? "deny" : "error";
        o.record.detail = why;
        return std::move(o);
    };
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    if (!rtnl.ok()) return no(protocol::Status::Failed, rtnl.error().message());
    Result<net::LinkInfo> link = rtnl->get_link(req.tap_name);
    if (!link.ok() && link.error().code() == ENODEV)
        return no(protocol::Status::Failed, "there is no interface named " + req.tap_name);
    if (!link.ok()) return no(protocol::Status::Failed, link.error().message());
    std::optional<protocol::TapLabel> label = protocol::parse_label(link->alias);
    if (link->kind != "tun" || !label || !label->lease)
        return no(protocol::Status::Denied, req.tap_name + " is not a lease");
    if (label->uid != c.peer.ids.uid && c.peer.ids.uid != 0)
        return no(protocol::Status::Denied, req.tap_name + " is not your lease (it is uid " +
                                                std::to_string(label->uid) + "'s)");
    o.record.uid = label->uid;
    lease_ends_[link->ifindex] = "the lease was released by uid " + std::to_string(c.peer.ids.uid);
    if (Result<void> gone = rtnl->delete_link(link->ifindex); !gone.ok()) {
        lease_ends_.erase(link->ifindex);
        return no(protocol::Status::Failed, "cannot delete " + req.tap_name + ": " + gone.error().message());
    }
    leases_.erase(link->ifindex);
    o.reply.status = protocol::Status::Granted;
    o.reply.ifname = req.tap_name;
    o.reply.lease = true;
    o.reply.message = "released " + req.tap_name;
    o.record.event = "release";
    o.record.detail = o.reply.message;
    return o;
}

// The leases the kernel holds as we start (their labels say so): those
// that expired meanwhile, and those tied to a connection, which died with
// the daemon that had it, are deleted; the others are watched until they
// expire, each on its bridge guarded as a new port is (Rtnl::guard_port):
// a lease outlives the release that made it, and one made before
// bpdu_guard would let its guest's BPDUs reach the bridge's STP
// (docs/SECURITY.md, review item 23-5). Setting it again is a no-op.
void Server::adopt_leases() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<std::vector<net::LinkInfo>> taps =
        links_of(rtnl, "tun");
    if (!taps.ok()) {
        log_line(LOG_WARNING, "could not look for leases: " + taps.error().message());
        return;
    }
    // Each lease's bridge, for deciding it again should a later dump fail.
    std::map<int, std::string> bridge_names;
    if (Result<std::vector<net::LinkInfo>> bridges = links_of(rtnl, "bridge"); bridges.ok())
        for (const net::LinkInfo& b : *bridges) bridge_names[b.ifindex] = b.name;
    for (const net::LinkInfo& l : *taps) {
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        if (!label || !label->lease) continue;
        leases_[l.ifindex] = Lease{l.name, label->uid, *label->lease, {}, {}, false,
                                   l.master ? bridge_names[l.master] : "", false, {}};
        if (label->held) {
            end_lease(l.ifindex, "its connection closed while userbridged was stopped");
            continue;
        }
        // Made only half-way (the daemon that made it stopped before it came
        // up): root's still, or never given all its filters.
        if (!(l.flags & IFF_UP) || l.tun_owner != static_cast<long long>(label->uid)) {
            end_lease(l.ifindex, "its making stopped before it was handed over");
            continue;
        }
        // Whoever opens a lease by name may give it a virtio-net header
        // (review item 24-6): one under a pinned MAC keeps its pin behind
        // the checksum guard, which an older release did not put on and a
        // daemon that cannot load it cannot check. Put on again, it
        // changes nothing (its program is this daemon's since it started:
        // Filters::refresh_guard).
        if (label->mac) {
            if (Result<void> g = cfg_.filters->guard_port(l.ifindex); !g.ok()) {
                end_lease(l.ifindex, "a lease under a pinned MAC without its checksum guard (" +
                                         g.error().message() + ")");
                continue;
            }
        }
        if (l.master == 0) continue;
        if (Result<void> guarded = rtnl->guard_port(l.ifindex, false); !guarded.ok())
            log_line(LOG_ERR, "could not guard the lease " + l.name + " against BPDUs: " + guarded.error().message());
    }
    expire_leases();
}

// Deletes a lease's tap; its expiry record (on_link_events) says why.
void Server::end_lease(int ifindex, const std::string& why) {
    auto it = leases_.find(ifindex);
    if (it == leases_.end()) return;
    lease_ends_[ifindex] = why;
    Result<void> gone = fault::at("end-lease");
    if (gone.ok()) {
        Result<net::Rtnl> rtnl = net::Rtnl::open();
        gone = rtnl.ok() ? rtnl->delete_link(ifindex) : Result<void>(rtnl.error());
    }
    if (!gone.ok() && gone.error().code() != ENODEV) {
        lease_ends_.erase(ifindex);
        log_line(LOG_ERR, "could not end the lease " + it->second.name + " (" + why + "): " +
                              gone.error().message());
        // Tried again in a minute, for the same reason: one that must not
        // wait for the lease's own expiry (an unguarded pin) included.
        it->second.expiry = static_cast<long long>(std::time(nullptr)) + 60;
        it->second.ending = why;
        it->second.conn.reset();
        return;
    }
    leases_.erase(it);
}

// A lease outlives the request that made it, and whoever its owner runs
// opens it by name: the ACL a reload brings, or the one a new userbridged
// starts with, decides each lease again, for the bridge it is on now, and
// one it no longer allows ends (docs/SECURITY.md, review item 32-5). The
// owner's groups are the group database's, asked for without waiting;
// each lease is decided when they come.
void Server::recheck_leases(const std::string& why, const std::function<bool(uid_t)>& which) {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<std::vector<net::LinkInfo>> taps = links_of(rtnl, "tun");
    Result<std::vector<net::LinkInfo>> bridges = links_of(rtnl, "bridge");
    // Without the links, each on the bridge it was last decided for.
    if (!taps.ok() || !bridges.ok())
        log_line(LOG_ERR, "cannot see which bridge each lease is on; deciding them for the one they were on: " +
                              (taps.ok() ? bridges.error() : taps.error()).message());
    std::map<int, std::string> now_on;  // ifindex -> its bridge now
    if (taps.ok() && bridges.ok()) {
        std::map<int, std::string> names;
        for (const net::LinkInfo& b : *bridges) names[b.ifindex] = b.name;
        for (const net::LinkInfo& t : *taps) now_on[t.ifindex] = t.master ? names[t.master] : "";
    }
    for (auto& [ifindex, l] : leases_) {
        auto on = now_on.find(ifindex);
        if (!l.ending.empty() || (which && !which(l.uid)) || (taps.ok() && bridges.ok() && on == now_on.end()))
            continue;
        if (on != now_on.end()) l.bridge = on->second;
        if (!l.recheck) l.recheck_why = why;  // one already waiting keeps its reason
        l.recheck = true;
    }
    ask_lease_groups();
}

// The groups of each account with a lease to decide again and no question
// out for them; asked again on the loop's next turn while the user database
// process is too busy to take a question (EAGAIN).
void Server::ask_lease_groups() {
    auto now = Clock::now();
    std::set<uid_t> accounts;
    for (const auto& [ifindex, l] : leases_)
        if (l.recheck) accounts.insert(subuids_.account_of(l.uid));
    for (auto it = lease_groups_.begin(); it != lease_groups_.end();) {
        uid_t account = it->second.account;
        accounts.erase(account);
        if (it->second.until > now) {
            ++it;
            continue;
        }
        cfg_.userdb->forget(it->first);
        it = lease_groups_.erase(it);
        recheck_account(account, {0, {}, "it did not answer within " + std::to_string(UserDb::kTimeout.count()) + " ms"});
    }
    for (uid_t account : accounts) {
        Result<std::uint32_t> asked = cfg_.userdb->ask_groups(account);
        if (asked.ok()) lease_groups_[*asked] = {account, now + UserDb::kTimeout};
        else if (asked.error().code() != EAGAIN) recheck_account(account, {0, {}, asked.error().message()});
    }
}

// Every lease of `account` that waits for its groups, decided with `g`.
void Server::recheck_account(uid_t account, const UserDb::Groups& g) {
    std::vector<int> due;
    for (const auto& [ifindex, l] : leases_)
        if (l.recheck && subuids_.account_of(l.uid) == account) due.push_back(ifindex);
    for (int ifindex : due) recheck_lease(ifindex, g);
}

// One lease under the ACL just loaded, for its owner with their account's
// groups `g`: it ends unless the ACL would grant it as it is (its bridge,
// a lease, its time left). One polkit allowed stays while its rule still
// asks polkit, which is not asked again.
void Server::recheck_lease(int ifindex, const UserDb::Groups& g) {
    Lease& l = leases_.at(ifindex);
    l.recheck = false;
    auto end = [&](const std::string& why) { end_lease(ifindex, l.recheck_why + ": " + why); };
    if (!g.why.empty()) return end("its owner's groups are unknown (" + g.why + ")");
    if (std::optional<SubUids::Unknown> u = subuids_.unknown_owner(l.uid)) return end("its uid " + unknown_why(*u));
    policy::Credentials ids{l.uid, g.gids.empty() ? static_cast<gid_t>(-1) : g.gids.front(), g.gids};
    ids.account_groups = g.gids;
    ids.owner = subuids_.policy_account(l.uid);
    // A lease of a uid of root's range: none of root's groups are its.
    if (subuids_.of_root(l.uid)) ids = {l.uid, static_cast<gid_t>(-1), {}};
    Result<policy::Readable> readable = readable_by(policy_, ids);
    if (!readable.ok()) return end(readable.error().message());
    if (l.bridge.empty()) return;  // on no bridge, it carries nothing anywhere
    policy::Decision d = policy::decide(policy_.rules, l.bridge, &ids, &*readable);
    if (d.ask_polkit && !l.by_polkit) return end("the rule that allows " + l.bridge + " asks polkit now");
    if (d.ask_polkit) d = policy::polkit_granted(d);  // its yes stands: not asked again, the rule's limits hold
    if (!d.allowed) return end(d.reason);
    long long left = l.expiry - static_cast<long long>(std::time(nullptr));
    if (d.limits().lease_max == 0) return end("the rule that allows " + l.bridge + " allows no lease");
    if (left > static_cast<long long>(d.limits().lease_max))
        return end("its " + std::to_string(left) + " s left are more than the " +
                   std::to_string(d.limits().lease_max) + " s its rule now allows");
}

// A tied lease's connection is readable: its client closed it (or sent
// something, which it must not): the lease ends.
void Server::end_tied(int conn) {
    for (auto& [ifindex, l] : leases_)
        if (l.conn.get() == conn) {
            end_lease(ifindex, "its connection closed");
            return;
        }
}

void Server::expire_leases() {
    long long now = static_cast<long long>(std::time(nullptr));
    std::vector<std::pair<int, std::string>> due;
    for (const auto& [ifindex, l] : leases_)
        if (l.expiry <= now) due.emplace_back(ifindex, l.ending.empty() ? "the lease expired" : l.ending);
    for (const auto& [ifindex, why] : due) end_lease(ifindex, why);
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; glibc's headers may predate it
#endif

// Sends polkit the question for this request; its id, or why it cannot be
// asked. The caller's pidfd is the process SO_PEERCRED named at connect(),
// which the kernel keeps with the socket, so no other process can stand in
// for it; its start time is read while that pidfd shows it alive. A
// subordinate uid is asked about as its account, as the ACL counts it: as
// itself it names no user, and a rule refusing its account by name would
// not hold for it. Not one of root's (SubUids::policy_account).
Result<std::uint64_t> Server::ask_polkit(Conn& c, const protocol::Request& req) {
    c.pidfd = UniqueFd(UB_TRY(system::getsockopt_int(c.fd.get(), SOL_SOCKET, SO_PEERPIDFD,
                                                     "the caller's process (SO_PEERPIDFD)")));
    uid_t account = c.peer.ids.owner.value_or(c.peer.ids.uid);
    PolkitQuestion q{UB_TRY(polkit_subject_of(c.pidfd.get(), c.peer.pid.pid, account)), req.bridge, req.vm_name,
                     req.queues, req.interactive};
    q.kind = req.kind == protocol::Kind::Lease ? "lease" : req.netns_peer.empty() ? "tap" : "veth";
    return polkit_.ask(q);
}

// A refusal, before anything is decided: the account's groups in the group
// database, which group= counts (policy::Credentials::account_groups), are
// not known.
Outcome groups_unknown(const grant::Caller& peer, const protocol::Request& req, const std::string& why) {
    Outcome o;
    o.record = grant::record_for(peer, req);
    o.reply.status = protocol::Status::Failed;
    o.reply.message = "cannot look up the groups of uid " + std::to_string(peer.account) +
                      " in the group database, on which this ACL's decision may depend: " + why;
    o.record.detail = o.reply.message;
    return o;
}

// Parks the request (true) until the group database has answered for the
// caller's account, asked now if it was not yet, when the policy has a
// rule or a file those groups could bear on. The broker answers in
// about as long as a name takes; a request waits for it at most
// UserDb::kTimeout, and is then refused (groups_why).
bool Server::await_groups(Conn& c, const protocol::Request& req) {
    if (c.groups_known || !groups_matter_) return false;
    // A uid of a range of root's speaks to policy as itself
    // (SubUids::policy_account): root's groups are not its, and it has
    // none in the database; its process's own groups count.
    if (subuids_.of_root(c.peer.ids.uid)) {
        c.groups_known = true;
        return false;
    }
    auto now = Clock::now();
    if (auto known = known_groups_.find(c.peer.account);
        !c.groups_seq && known != known_groups_.end() && known->second.until > now) {
        c.groups_known = true;
        c.peer.ids.account_groups = known->second.gids;
        return false;
    }
    if (c.groups_until == Clock::time_point{}) c.groups_until = now + UserDb::kTimeout;
    if (now >= c.groups_until) {  // its wait is over
        if (c.groups_seq) {
            cfg_.userdb->forget(*c.groups_seq);
            if (auto a = groups_asked_.find(c.peer.account); a != groups_asked_.end() && a->second == *c.groups_seq)
                groups_asked_.erase(a);
        }
        c.groups_known = true;
        c.groups_why = "it did not answer within " + std::to_string(UserDb::kTimeout.count()) + " ms";
        return false;
    }
    c.parked = req;
    c.deadline = c.groups_until + cfg_.limits.deadline;
    if (c.groups_seq) {  // woken before its answer came
        c.retry_at = c.groups_until;
        return true;
    }
    if (auto a = groups_asked_.find(c.peer.account); a != groups_asked_.end()) {
        c.groups_seq = a->second;  // another connection of the account asked: the same answer
        c.retry_at = c.groups_until;
        return true;
    }
    Result<std::uint32_t> asked = cfg_.userdb->ask_groups(c.peer.account);
    if (!asked.ok() && asked.error().code() == EAGAIN) {
        c.retry_at = std::min(now + kGroupsRetry, c.groups_until);
        return true;
    }
    if (!asked.ok()) {
        c.parked.reset();
        c.groups_known = true;
        c.groups_why = asked.error().message();
        return false;
    }
    c.groups_seq = *asked;
    groups_asked_[c.peer.account] = *asked;
    c.retry_at = c.groups_until;
    return true;
}

// An answer that says the account has no entry is not kept: a directory
// that failed to find it for a moment must not lift a group's rules from
// it for long.
void Server::keep_groups(uid_t account, const std::vector<gid_t>& gids) {
    if (gids.empty()) return;
    auto now = Clock::now();
    if (known_groups_.size() >= kGroupsKept)
        std::erase_if(known_groups_, [&](const auto& kv) { return kv.second.until <= now; });
    if (known_groups_.size() < kGroupsKept) known_groups_[account] = {gids, now + kGroupsFresh};
}

// Handles a complete request, or parks it while the group database (first)
// or polkit is asked (until the answer, or the wait is over: then "no").
void Server::attempt(Conn& c, const protocol::Request& req) {
    if (cfg_.filters)
        if (Result<void> r = cfg_.filters->guard_ports_again(); !r.ok())
            log_line(LOG_ERR, "cannot make again the tables that keep the host's stack off bridge ports: " +
                                  r.error().message());
    if (req.kind == protocol::Kind::Release) {
        c.deadline = Clock::time_point::min();
        deliver(c, release(c, req));
        return;
    }
    if (await_groups(c, req)) return;
    if (!c.groups_why.empty()) {
        c.parked.reset();
        c.deadline = Clock::time_point::min();
        deliver(c, groups_unknown(c.peer, req, c.groups_why));
        return;
    }
    if (c.polkit_id && !c.polkit_answer) {  // polkit's wait is over, and the bus said nothing
        polkit_.forget(*c.polkit_id);
        c.polkit_answer = PolkitAnswer{*c.polkit_id, false, "no: polkit gave no answer in time"};
    }
    Outcome o = decide_and_act(c, req);
    if (o.verdict == grant::Verdict::AskPolkit) {
        Result<std::uint64_t> asked = ask_polkit(c, req);
        if (asked.ok()) {
            auto wait = req.interactive ? kPolkitWaitInteractive : kPolkitWait;
            c.polkit_id = *asked;
            c.parked = req;
            // The bus's own timeout answers first; this is the backstop.
            c.retry_at = Clock::now() + wait + std::chrono::seconds(1);
            c.deadline = c.retry_at + cfg_.limits.deadline;
            return;
        }
        c.polkit_answer = PolkitAnswer{0, false, "no: " + asked.error().message()};
        o = decide_and_act(c, req);
    }
    c.parked.reset();
    c.deadline = Clock::time_point::min();  // answered: drop it
    deliver(c, std::move(o));
}

void Server::deliver(Conn& c, Outcome o) {
    bool granted = o.reply.status == protocol::Status::Granted;
    if (granted) fault::at_void("before-send");
    std::vector<int> fds;
    // A lease's fds stay here, and close below: its tap is persistent.
    if (!o.lease)
        for (const UniqueFd& q : o.queues) fds.push_back(q.get());
    if (o.lease) o.reply.nfds = 0;
    o.reply.lease = o.lease;
    Result<void> sent = answer(c.fd.get(), o.reply, fds);
    // Undelivered, the tap is deleted now, while our fds still hold it. (A
    // release made no tap: ifindex 0.)
    bool made = granted && o.ifindex != 0;
    if (made && sent.ok()) spare_.rtnl = o.undo.commit();
    o.undo = {};
    if (granted && !sent.ok() && cfg_.macvtaps) cfg_.macvtaps->forget(o.ifindex);  // deleted: its node too
    // Our copies go at once, and then the client hears EOF. Our clients wait
    // for it before they hand their fds on, so theirs is the tap's last
    // close, and its teardown (long, in the kernel, under the RTNL lock)
    // runs in them, not in the one thread that serves everyone, where
    // clients closing their taps at once would queue behind each other
    // (docs/PERFORMANCE.md).
    // If the client left before taking its fds, the tap goes with the
    // dropped message.
    if (granted) fault::at_void("before-close");
    o.queues.clear();
    bool leased = made && sent.ok() && o.lease;
    if (leased) {
        Lease l{o.reply.ifname, c.peer.ids.uid, 0, {}, {}, o.record.polkit == "yes", o.record.bridge, false, {}};
        // A tied lease keeps the connection: its close ends the lease.
        if (o.tied) l.conn = std::move(c.fd);
        Result<net::Rtnl> rtnl = net::Rtnl::open();
        Result<net::LinkInfo> link = rtnl.ok() ? rtnl->get_link(o.reply.ifname) : Result<net::LinkInfo>(rtnl.error());
        std::optional<protocol::TapLabel> label = link.ok() ? protocol::parse_label(link->alias) : std::nullopt;
        l.expiry = label && label->lease ? *label->lease : 0;  // unreadable: ended at once
        leases_[o.ifindex] = std::move(l);
    }
    if (c.fd.valid()) (void)shutdown(c.fd.get(), SHUT_WR);
    // The client, woken by the EOF, often shares our CPU and is not let
    // preempt us: what we do next (refill the tun fd, ask for the name)
    // would hold its grant back.
    sched_yield();
    if (granted) fault::at_void("after-send");
    if (granted && sent.ok()) keep_if_unread(c, fds.size());
    refill_tun(spare_);
    // Audited as a grant only when the fds went out; otherwise the tap was
    // deleted above.
    if (granted && !sent.ok()) {
        granted = false;
        o.record.event = "error";
        o.record.detail = "granted, but the reply was not delivered (" + sent.error().message() +
                          "); the tap is gone";
    }
    // The caller's name is asked for only now that the client has its
    // reply. Asked earlier, to overlap the tap's making, the user database
    // process woke on the daemon's CPU and took it from the grant.
    if (made) granted_[o.ifindex] = o.record;
    if (o.reply.status != protocol::Status::Granted) record_refusal(std::move(o.record), c.peer);
    else record_named(std::move(o.record), c.peer.ids.uid, granted ? o.ifindex : 0);
}

// polkit's answers, each to its parked request, which is tried again now.
// A yes for a process that has exited since the question is a no: its pid
// may be another's by now.
void Server::on_polkit() {
    for (PolkitAnswer& a : polkit_.process()) {
        auto it = std::find_if(conns_.begin(), conns_.end(),
                               [&](const auto& kv) { return kv.second.polkit_id == a.id; });
        if (it == conns_.end()) continue;  // its client left
        Conn& c = it->second;
        pollfd p{c.pidfd.get(), POLLIN, 0};
        if (a.yes && poll(&p, 1, 0) != 0) a = {a.id, false, "no: the requesting process exited before polkit answered"};
        c.polkit_answer = std::move(a);
        c.retry_at = Clock::now();
    }
}

// Parked requests whose time to try again has come (polkit answered, or
// its wait is over).
void Server::retry_parked() {
    auto now = Clock::now();
    for (auto& [fd, c] : conns_) {
        if (!c.parked || c.retry_at > now) continue;
        protocol::Request req = *c.parked;
        attempt(c, req);
    }
}

// Bytes we sent on a unix stream socket that its peer has not read: their
// buffers are charged to our end until read (SIOCOUTQ).
int unread_bytes(int fd) {
    int n = 0;
    return system::ioctl(fd, SIOCOUTQ, &n, "SIOCOUTQ").ok() ? n : 0;
}

void Server::keep_if_unread(Conn& c, std::size_t nfds) {
    if (nfds == 0 || unread_bytes(c.fd.get()) == 0) return;
    unsigned n = static_cast<unsigned>(nfds);
    unread_fds_[c.peer.account] += n;
    int key = c.fd.get();
    unread_.emplace(key, Unread{std::move(c.fd), c.peer.account, n, true});
}

// The fds in replies to `uid` still unread, once the replies read since
// are let go.
unsigned Server::unread_fds(uid_t uid) {
    auto total = unread_fds_.find(uid);
    if (total == unread_fds_.end()) return 0;
    for (auto it = unread_.begin(); it != unread_.end();) {
        if (it->second.uid != uid || unread_bytes(it->first) != 0) {
            ++it;
            continue;
        }
        total->second -= it->second.fds;
        it = unread_.erase(it);
    }
    unsigned n = total->second;
    if (n == 0) unread_fds_.erase(total);
    return n;
}

// The client hung up (or shut its end down): if it read its reply, or
// closed and so dropped it, the kernel has let our fds go.
void Server::on_unread_event(int fd) {
    auto it = unread_.find(fd);
    if (it == unread_.end()) return;
    if (unread_bytes(fd) != 0) {
        it->second.polled = false;  // counted still; looked at again at its uid's next request
        return;
    }
    auto total = unread_fds_.find(it->second.uid);
    if (total != unread_fds_.end() && (total->second -= it->second.fds) == 0) unread_fds_.erase(total);
    unread_.erase(it);
}

void Server::record_named(audit::AuditRecord rec, uid_t uid, int ifindex) {
    uid_t account = subuids_.account_of(uid);
    auto n = naming_per_account_.find(account);
    Result<std::uint32_t> seq = n != naming_per_account_.end() && n->second >= kNamingPerAccount
                                    ? Error::msg("too many names asked for uid " + std::to_string(account))
                                    : cfg_.userdb->ask_name(uid);
    if (seq.ok()) {
        naming_[*seq] = account;
        ++naming_per_account_[account];
    }
    if (!seq.ok()) {
        rec.user = "?";
        unnamed_.push_back({0, std::move(rec), ifindex, Clock::time_point::min(), true});
    } else {
        unnamed_.push_back({*seq, std::move(rec), ifindex, Clock::now() + UserDb::kTimeout});
    }
    write_records(false);
}

void Server::on_names() {
    // Each take reads the socket to its end: what take_names() brings of
    // groups goes round once more, or it would wait for the socket's next
    // wake-up, which may never come.
    for (bool more = true; more;) {
        std::vector<UserDb::Groups> groups = cfg_.userdb->take_groups();
        std::vector<std::pair<std::uint32_t, std::string>> names = cfg_.userdb->take_names();
        more = !groups.empty() || !names.empty();
        for (UserDb::Groups& g : groups) {
            if (auto asked = lease_groups_.find(g.seq); asked != lease_groups_.end()) {
                uid_t account = asked->second.account;
                lease_groups_.erase(asked);
                recheck_account(account, g);
                continue;
            }
            std::erase_if(groups_asked_, [&](const auto& kv) { return kv.second == g.seq; });
            bool kept = false;
            for (auto& [fd, c] : conns_)
                if (c.groups_seq == g.seq && !c.groups_known) {
                    c.groups_known = true;
                    c.peer.ids.account_groups = g.gids;
                    c.groups_why = g.why;
                    c.retry_at = Clock::now();
                    if (!kept && g.why.empty()) keep_groups(c.peer.account, g.gids);
                    kept = true;
                }
        }
        for (const auto& [seq, name] : names) {
            named(seq);
            for (RecordAwaitingName& u : unnamed_)
                if (u.seq == seq && !u.named) {
                    u.rec.user = name;
                    u.named = true;
                }
        }
    }
    write_records(false);
}

// A record's name question is out no more (answered, or given up).
void Server::named(std::uint32_t seq) {
    auto it = naming_.find(seq);
    if (it == naming_.end()) return;
    auto n = naming_per_account_.find(it->second);
    if (n != naming_per_account_.end() && --n->second == 0) naming_per_account_.erase(n);
    naming_.erase(it);
}

// Writes the records at the front whose names came or whose time is up
// (all of them when `all`, or when the user database is gone).
void Server::write_records(bool all) {
    auto now = Clock::now();
    bool gone = cfg_.userdb->fd() < 0;
    while (!unnamed_.empty()) {
        RecordAwaitingName& u = unnamed_.front();
        if (!u.named && !all && !gone && u.deadline > now) break;
        if (!u.named) {
            cfg_.userdb->forget(u.seq);
            named(u.seq);
        }
        if (u.ifindex != 0)
            if (auto g = granted_.find(u.ifindex); g != granted_.end()) g->second.user = u.rec.user;
        audit::record(u.rec);
        unnamed_.pop_front();
    }
}

void Server::reload() {
    Result<policy::Policy> fresh = load_acl(cfg_);
    // Its lookups found the user database gone: neither the new ACL (its
    // named rules unresolved) nor the old one (not what the administrator
    // now asks for) decides again; run() stops.
    if (cfg_.userdb->fd() < 0) return;
    if (!fresh.ok()) {
        log_line(LOG_ERR, "SIGHUP: new ACL refused, keeping the old one: " + fresh.error().message());
    } else {
        policy_ = std::move(*fresh);
        groups_matter_ = policy::needs_account_groups(policy_);
        known_groups_.clear();
        log_line(LOG_NOTICE, "SIGHUP: ACL reloaded from " + cfg_.acl_path);
        if (Result<SubUids> sub = load_subuids(cfg_); sub.ok()) subuids_ = std::move(*sub);
        else log_line(LOG_ERR, "SIGHUP: keeping the subordinate uids read before: " + sub.error().message());
        subuid_stamp_ = subuids_.stamp();
        subuid_unknown_wait_ = std::chrono::seconds(5);
        subuid_retry_ = Clock::now() + subuid_unknown_wait_;
        recheck_leases("the ACL was reloaded");
    }
    // Answers that came while the lookups above waited were read then,
    // and the socket shows no more: the records they name go now, not when
    // their time is up, and the requests waiting for groups go on.
    on_names();
}

// adduser gives a new account its ranges while userbridged runs, and no
// one reloads it for that (review item 35-1): a range it has not read is
// no one's, each uid an account of its own that no user= rule names. A
// range is in the file before newuidmap maps it, so before any process of
// it connects: the file is looked at after each connection is accepted,
// before it is counted, and read again when it changed. Only root changes what is compared (another
// file renamed over it, its size, its modification time). A version that
// changes while it is read is read again; one that could not be read (a
// lookup failed) is tried again after a while, the ranges read before
// kept meanwhile; a file that is gone (an editor's rename under way;
// SIGHUP adopts a removal) leaves them as they were. A range whose owner's
// name the user database did not know (a new account its cache has not
// seen) has its uids refused; that name is asked for again after 5 s,
// then at twice the wait each time up to 5 minutes (an entry of an
// account long gone costs one lookup then).
void Server::check_subuids() {
    auto now = Clock::now();
    FileStamp seen = stamp_of(kSubUidPath);
    bool changed = seen != subuid_stamp_, due = now >= subuid_retry_;
    if (!changed && !(due && subuids_.any_unknown())) return;
    if (changed && seen == subuid_failed_ && !due) return;  // that version failed a moment ago
    // The record of what moved, and the leases of the uids it moved.
    auto moved = [this](const SubUids& before, const std::string& what) {
        if (before.same_ranges(subuids_)) return;
        log_line(LOG_NOTICE, what);
        recheck_leases("the subordinate uids changed (" + std::string(kSubUidPath) + ")", [&](uid_t uid) {
            return before.account_of(uid) != subuids_.account_of(uid) ||
                   before.policy_account(uid) != subuids_.policy_account(uid) ||
                   before.unknown_owner(uid).has_value() != subuids_.unknown_owner(uid).has_value();
        });
    };
    if (!changed) {  // only an owner unknown: its name asked for again
        SubUids before = subuids_;
        Result<bool> found = subuids_.resolve_unknown(owner_lookup(cfg_));
        subuid_unknown_wait_ = std::min(subuid_unknown_wait_ * 2, std::chrono::seconds(300));
        subuid_retry_ = now + subuid_unknown_wait_;
        if (found.ok() && *found)
            moved(before, "the user database knows an owner in " + std::string(kSubUidPath) + " now");
        on_names();
        return;
    }
    // Adopted only as it stood still while read (at most three tries).
    Result<SubUids> sub = Error::msg("not read");
    bool still = false;
    for (int tries = 0; tries < 3 && !still && seen.exists; ++tries) {
        if (tries > 0) seen = stamp_of(kSubUidPath);
        if (!seen.exists) break;
        sub = load_subuids(cfg_, &subuids_);
        if (!sub.ok()) break;
        still = sub->stamp() == seen && stamp_of(kSubUidPath) == seen;
    }
    if (!seen.exists) {
        subuid_stamp_ = seen;
        log_line(LOG_WARNING, std::string(kSubUidPath) + " is gone; the subordinate uids read before stay until "
                                                         "userbridged reloads (SIGHUP)");
    } else if (!sub.ok()) {
        subuid_failed_ = seen;
        subuid_retry_ = now + std::chrono::seconds(5);
        log_line(LOG_ERR, std::string(kSubUidPath) + " changed, but cannot be read; keeping the subordinate uids "
                                                     "read before: " + sub.error().message());
    } else if (still) {  // else still moving: at the next connection
        subuid_stamp_ = seen;
        subuid_unknown_wait_ = std::chrono::seconds(5);
        if (sub->any_unknown()) subuid_retry_ = now + subuid_unknown_wait_;
        moved(std::exchange(subuids_, std::move(*sub)), "read " + std::string(kSubUidPath) + " again, as it changed");
    }
    // Answers to other questions the owners' lookups read while they
    // waited go on now, as after a reload.
    on_names();
}

void Server::expire() {
    auto now = Clock::now();
    for (auto it = conns_.begin(); it != conns_.end();) {
        if (it->second.deadline > now || it->second.parked) {
            ++it;
            continue;
        }
        if (it->second.deadline != Clock::time_point::min())
            log_line(LOG_INFO, "dropped a connection from uid " + std::to_string(it->second.peer.ids.uid) +
                                   " that sent no complete request in time");
        if (--per_uid_[it->second.peer.account] == 0) per_uid_.erase(it->second.peer.account);
        it = conns_.erase(it);
    }
}

int Server::timeout_ms() const {
    int bus = polkit_.timeout_ms();
    if (!leases_.empty()) {
        long long first = LLONG_MAX;
        for (const auto& [ifindex, l] : leases_) first = std::min(first, l.expiry);
        long long left = std::max(0LL, first - static_cast<long long>(std::time(nullptr)));
        int ms = static_cast<int>(std::min<long long>(left * 1000 + 10, 60000));
        bus = bus >= 0 ? std::min(bus, ms) : ms;
    }
    auto first = cfg_.macvtaps ? cfg_.macvtaps->next_look() : Clock::time_point::max();
    first = std::min({first, refused_connections_.next_end(), refusal_records_.next_end()});
    for (const auto& [seq, asked] : lease_groups_) first = std::min(first, asked.until);
    if (conns_.empty() && unnamed_.empty() && first == Clock::time_point::max()) return bus;
    for (const auto& [fd, c] : conns_) first = std::min(first, c.parked ? c.retry_at : c.deadline);
    if (!unnamed_.empty()) first = std::min(first, unnamed_.front().deadline);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(first - Clock::now()).count();
    int own = ms < 0 ? 0 : static_cast<int>(std::min<long long>(ms + 1, 60000));
    return bus >= 0 ? std::min(bus, own) : own;
}

// Link events, read to the end of what is queued: a grant's checks count on it
// (live_links). After an overrun what follows it is read too, and the
// state is recovered once, not once for each overrun met on the way: a
// tap's holder can overrun the monitor at will (review item 27-2). A read
// that stopped at its limit leaves events queued, older than what a dump
// would show now: the index is dumped again before the next count, and
// the rest is read on the next turn of the loop, in order, so that each
// link ends as its latest event says (review item 28-1).
void Server::on_link_events() {
    std::optional<Error> lost;
    for (int tries = 0; tries < 4; ++tries) {
        Result<net::LinkEvents> events = monitor_->read();
        if (events.ok()) {
            act_on_link_events(events->links);
            if (events->more) live_.mark_stale();
            break;
        }
        lost = events.error();
    }
    if (!lost) return;
    if (Clock::now() - lost_logged_ >= std::chrono::minutes(1)) {
        log_line(LOG_WARNING, "link events lost, some expiry records may be missing: " + lost->message() +
                                  (lost_unlogged_ ? " (and " + std::to_string(lost_unlogged_) +
                                                        " times more since the last such line)"
                                                  : std::string()));
        lost_logged_ = Clock::now();
        lost_unlogged_ = 0;
    } else {
        ++lost_unlogged_;
    }
    live_.mark_stale();           // rebuilt by the next grant's checks
    filters_after_lost_events();  // some of the lost may be deaths
    sweep_tampered();             // and some, changes to our taps
}

// The live links a grant counts against: the index, with every event the
// kernel queued before now applied (it queues each as it makes the change,
// whoever made it: another grant, the helper, an administrator); dumped
// again when events were lost, or on every grant without a monitor.
Result<const net::LiveLinks*> Server::live_links(net::Rtnl& rtnl) {
    if (monitor_) on_link_events();
    if (!monitor_ || live_.stale()) UB_TRYV(live_.rebuild(rtnl));
    return &live_;
}

// The index follows each event (live_). An expiry record for every tap
// with our label that goes away: the ones we granted (with their grant's
// details) and the helper's alike. A labelled tap that its holder changed
// is removed at once (revoke_tampered).
void Server::act_on_link_events(const std::vector<net::LinkInfo>& events) {
    live_.apply(events);
    revoke_tampered(events);
    for (const net::LinkInfo& l : events) {
        if (!l.deleted) continue;
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        auto ours = granted_.find(l.ifindex);
        if (ours == granted_.end() && !label) continue;
        drop_filter(l.ifindex);  // a tap we guard carries our label from before
        if (cfg_.macvtaps) cfg_.macvtaps->forget(l.ifindex);
        if (l.kind == "macvtap") cfg_.filters->macvtap_gone(l.ifindex);
        // Its last state says whether it was one to remove (revoke_tampered).
        bool revoked = net::tampered_tap(l).has_value();
        bool veth = l.kind == "veth";
        std::string why = veth      ? "the veth pair is gone (its namespace, or its end there, was removed)"
                          : revoked ? "the tap is gone (its holder had changed it)"
                          : label && label->lease ? "the tap is gone (the lease ended)"
                                                  : "the tap is gone (its last fd was closed)";
        if (auto end = lease_ends_.find(l.ifindex); end != lease_ends_.end()) {
            why = "the tap is gone (" + end->second + ")";
            lease_ends_.erase(end);
        }
        leases_.erase(l.ifindex);
        auto expired = [&why](audit::AuditRecord rec) {
            rec.event = "expire";
            rec.detail = why;
            return rec;
        };
        if (ours == granted_.end()) {
            audit::AuditRecord rec = audit::begin(label->lease ? "daemon" : "helper", "?", label->uid, {}, "");
            rec.tap = l.name;
            rec.vm = label->vm;
            rec.queues = label->queues;
            if (label->mac) rec.guest_mac = format_mac(*label->mac);
            record_named(expired(std::move(rec)), label->uid);
            continue;
        }
        audit::AuditRecord rec = expired(ours->second);
        granted_.erase(ours);
        record_after_grant(std::move(rec), l.ifindex);
    }
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
        // Not granted by this daemon: the helper's, or, a lease or a
        // macvtap, which only userbridged makes, a former daemon's.
        auto ours = granted_.find(l.ifindex);
        const char* via = r->label.lease || l.kind == "macvtap" ? "daemon" : "helper";
        audit::AuditRecord rec = ours != granted_.end() ? ours->second : audit::begin(via, "?", r->label.uid, {}, "");
        rec.event = "revoke";
        rec.tap = r->tap;
        rec.vm = r->label.vm;
        rec.queues = r->label.queues;
        rec.detail = net::revoke_detail(*r);
        if (ours != granted_.end()) record_after_grant(std::move(rec), l.ifindex);
        else record_named(std::move(rec), r->label.uid);
    }
}

// A record about a tap we granted, after the grant's own: at once, or,
// while that one is still waiting (for its name, or behind another's),
// behind it, with the same name.
void Server::record_after_grant(audit::AuditRecord rec, int ifindex) {
    auto waiting = std::find_if(unnamed_.begin(), unnamed_.end(),
                                [&](const RecordAwaitingName& u) { return u.ifindex == ifindex; });
    if (waiting == unnamed_.end()) {
        audit::record(rec);
        return;
    }
    rec.user = waiting->rec.user;
    RecordAwaitingName after{waiting->seq, std::move(rec), 0, waiting->deadline, waiting->named};
    unnamed_.push_back(std::move(after));
}

// Taps changed while we were not watching (before we started, or in
// events lost to an overrun): their state now, from a dump.
void Server::sweep_tampered() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    // Macvtaps too: a holder may change one's MAC through its fd while we
    // are not watching (net::tampered_tap), and adopting it at start-up
    // must not keep it.
    for (const char* kind : {"tun", "macvtap"}) {
        Result<std::vector<net::LinkInfo>> links =
            links_of(rtnl, kind);
        if (!links.ok()) {
            log_line(LOG_WARNING, std::string("could not look for ") + kind + " devices changed by their holders: " +
                                      links.error().message());
            continue;
        }
        revoke_tampered(*links);
    }
}

// Every port on a bridge that an earlier release made (its taps, ours or
// the helper's, and its veth pairs' host ends) gets what a port gets now:
// the host's IP stack off it (net::no_host_stack, review item 32-4).
// A lease may run for days, and a VM's tap for as long as the VM.
void Server::settle_ports() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    for (const char* kind : {"tun", "veth"}) {
        Result<std::vector<net::LinkInfo>> links = links_of(rtnl, kind);
        if (!links.ok()) continue;  // sweep_tampered() said so
        for (const net::LinkInfo& l : *links) {
            bool ours = kind == std::string("tun") ? protocol::parse_label(l.alias).has_value()
                                                    : l.name.rfind("ubv", 0) == 0;
            if (!ours || l.master == 0) continue;
            Result<void> off = net::no_host_stack(l.name);
            if (off.ok() && rtnl.ok()) off = rtnl->set_master(l.ifindex, l.master);  // its group
            if (!off.ok())
                log_line(LOG_ERR, "could not take the host's IP stack off " + l.name + ": " + off.error().message());
        }
    }
}

// A veth pair whose host end is not up on a bridge: a grant that a
// userbridged stopped part-way (killed, crashed) left it (a finished,
// pinned one gets the checksum guard, below). Its host end
// carries nothing, its caller never got its reply and no record names it;
// only userbridged names an interface ubv<N> (net/veth.h; lease names may
// not start so), and no other userbridged runs while this one starts.
void Server::delete_unfinished_veths() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<std::vector<net::LinkInfo>> veths =
        links_of(rtnl, "veth");
    if (!veths.ok()) {
        log_line(LOG_WARNING, "could not look for unfinished veth pairs: " + veths.error().message());
        return;
    }
    for (const net::LinkInfo& l : *veths) {
        if (l.name.rfind("ubv", 0) != 0) continue;
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        if (l.master > 0 && (l.flags & IFF_UP)) {
            // A pinned pair (its label names the guest MAC) an older
            // release made has no checksum guard (review item 24-5,
            // continued): it gets one, or goes, as a grant without it
            // fails.
            if (label && label->mac)
                if (Result<void> g = cfg_.filters->guard_port(l.ifindex); !g.ok())
                    revoke_unguarded(rtnl, l, *label, "veth pair", g.error().message());
            continue;
        }
        Result<void> gone = rtnl->delete_link(l.ifindex);
        std::string whose = label ? " of uid " + std::to_string(label->uid) : "";
        log_line(gone.ok() ? LOG_NOTICE : LOG_WARNING,
                 (gone.ok() ? "deleted the veth pair " : "could not delete the veth pair ") + l.name + whose +
                     ": unfinished (a userbridged stopped while granting it)" +
                     (gone.ok() ? "" : ": " + gone.error().message()));
    }
}

// Macvtaps whose fds are all closed (macvtaps.h) are deleted: unlike a
// tap, a macvtap would stay. The link monitor then sees each go and
// writes its expiry record.
void Server::delete_closed_macvtaps() {
    std::vector<int> closed = cfg_.macvtaps->all_closed(Clock::now());
    if (closed.empty()) return;
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    for (int ifindex : closed) delete_macvtap(rtnl, ifindex);
}

void Server::delete_macvtap(Result<net::Rtnl>& rtnl, int ifindex) {
    Result<void> gone = rtnl.ok() ? rtnl->delete_link(ifindex) : Result<void>(rtnl.error());
    if (!gone.ok() && gone.error().code() != ENODEV)
        log_line(LOG_ERR, "could not delete macvtap ifindex " + std::to_string(ifindex) +
                              " whose fds are all closed: " + gone.error().message());
}

// At start-up, a former daemon's macvtaps (macvtaps.h): each one with our
// label is watched again while a file of it is open, or deleted (its
// watch died with that daemon; it would stay for ever, counted in its
// owner's quota). The link monitor records the deletions.
void Server::adopt_macvtaps() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<std::vector<net::LinkInfo>> links =
        links_of(rtnl, "macvtap");
    if (!links.ok()) {
        log_line(LOG_ERR, "cannot list the macvtaps a former userbridged granted: " + links.error().message());
        return;
    }
    std::set<int> live;
    for (const net::LinkInfo& l : *links) live.insert(l.ifindex);
    if (Result<void> r = cfg_.filters->macvtaps_live(live); !r.ok())
        log_line(LOG_WARNING, "cannot remove the MAC pins of macvtaps that are gone: " + r.error().message());
    for (const net::LinkInfo& l : *links) {
        std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias);
        if (!label) continue;
        // A pinned macvtap (its label names the guest MAC) without the
        // checksum guard is a pin its holder can undo (review item 27-1):
        // an older release's had none, and a daemon that cannot load the
        // guard cannot give it one. It goes, as a grant without it fails.
        if (label->mac)
            if (Result<void> g = cfg_.filters->guard_macvtap(l.ifindex); !g.ok()) {
                revoke_unguarded(rtnl, l, *label, "macvtap", g.error().message());
                continue;
            }
        Result<bool> held = cfg_.macvtaps->adopt(l.name, l.ifindex, label->queues);
        if (!held.ok())
            log_line(LOG_WARNING, "macvtap " + l.name + " left as it is: " + held.error().message());
        else if (!*held)
            delete_macvtap(rtnl, l.ifindex);
    }
    cfg_.macvtaps->remove_stale_nodes();
}

void Server::revoke_unguarded(Result<net::Rtnl>& rtnl, const net::LinkInfo& l, const protocol::TapLabel& label,
                              const std::string& kind, const std::string& why) {
    Result<void> gone = rtnl.ok() ? rtnl->delete_link(l.ifindex) : Result<void>(rtnl.error());
    // Only userbridged makes macvtaps and veth pairs.
    audit::AuditRecord rec = audit::begin("daemon", "?", label.uid, {}, "");
    rec.event = "revoke";
    rec.tap = l.name;
    rec.vm = label.vm;
    rec.queues = label.queues;
    rec.detail = (gone.ok() ? std::string("removed: ") : "not removed (" + gone.error().message() + "): ") +
                 "a pinned " + kind + " without its checksum guard (" + why + ")";
    log_line(LOG_ERR, kind + " " + l.name + ": " + rec.detail);
    record_named(std::move(rec), label.uid);
}

// A dead tap's filter goes with it (filters.h): off every grant's path.
void Server::drop_filter(int ifindex) {
    if (Result<void> r = cfg_.filters->tap_gone(ifindex); !r.ok())
        log_line(LOG_WARNING, "could not remove a dead tap's elements from the nftables sets: " +
                                  r.error().message());
    if (Result<void> r = cfg_.announcer->tap_gone(ifindex); !r.ok())
        log_line(LOG_WARNING, "could not remove a dead tap's neighbour entries: " + r.error().message());
}

void Server::filters_after_lost_events() {
    Result<net::Rtnl> rtnl = net::Rtnl::open();
    Result<std::vector<net::LinkInfo>> taps =
        links_of(rtnl, "tun");
    // Veth ends granted into namespaces are guarded too (net/veth.h).
    Result<std::vector<net::LinkInfo>> veths =
        links_of(rtnl, "veth");
    if (!veths.ok()) taps = veths.error();
    std::set<int> live;
    for (const net::LinkInfo& l : taps.ok() ? *taps : std::vector<net::LinkInfo>{}) live.insert(l.ifindex);
    for (const net::LinkInfo& l : veths.ok() ? *veths : std::vector<net::LinkInfo>{}) live.insert(l.ifindex);
    Result<void> r = taps.ok() ? cfg_.filters->events_lost(live) : Result<void>(taps.error());
    if (!r.ok())
        log_line(LOG_WARNING, "could not remove dead taps from the nftables sets: " + r.error().message());
    if (!taps.ok()) return;
    if (Result<void> gone = cfg_.announcer->events_lost(live); !gone.ok())
        log_line(LOG_WARNING, "could not remove dead taps' neighbour entries: " + gone.error().message());
}

// The user database process is gone (killed: only root can now, or it
// crashed). It cannot be started again from here (the daemon's filter
// allows neither fork nor setresuid; its CAP_SETUID serves only the
// filesystem ids, fs_identity.h), and without it records lose
// their names and an ACL its named rules: the daemon stops instead, the
// connections it holds told to try again, and the service manager starts
// a new one (Restart=on-failure) on the socket it keeps, where requests
// wait meanwhile.
Result<void> Server::stop_without_userdb() {
    log_line(LOG_ERR, "the user database process is gone: stopping, so that nothing is decided without "
                      "it; a new daemon starts with a new one (userbridged.service restarts on failure)");
    for (auto& [fd, c] : conns_)
        finish(c, protocol::Status::Busy, "userbridged is restarting (its user database process is gone); "
                                          "try again");
    write_records(true);
    return Error::msg("the user database process is gone; stopping");
}

Result<void> Server::run() {
    sweep_tampered();  // with the monitor already open: no change falls between
    delete_unfinished_veths();
    settle_ports();
    if (cfg_.macvtaps) adopt_macvtaps();  // after: a tampered one is gone already
    adopt_leases();
    recheck_leases("userbridged started with this ACL");
    // The index starts from a dump, with the monitor already open; should
    // it fail, the first grant's checks dump again.
    if (Result<net::Rtnl> rtnl = net::Rtnl::open(); rtnl.ok()) (void)live_.rebuild(*rtnl);
    while (!stop_) {
        // Found gone while serving (a record's question could not be sent).
        if (cfg_.userdb->fd() < 0) return stop_without_userdb();
        // Polled even with nothing awaited: its hang-up is its death, and
        // an answer no one waits for any more is read and dropped.
        std::vector<pollfd> p{{listener_.get(), POLLIN, 0}, {sig_.get(), POLLIN, 0},
                              {monitor_ ? monitor_->fd() : -1, POLLIN, 0},
                              {cfg_.userdb->fd(), POLLIN, 0},
                              {cfg_.macvtaps ? cfg_.macvtaps->fd() : -1, POLLIN, 0}};
        // A parked connection is watched for its client's hang-up only.
        for (const auto& [fd, c] : conns_) p.push_back({fd, static_cast<short>(c.parked ? 0 : POLLIN), 0});
        std::size_t first_unread = p.size();
        for (const auto& [fd, u] : unread_)
            if (u.polled) p.push_back({fd, 0, 0});
        std::size_t first_tied = p.size();
        for (const auto& [ifindex, l] : leases_)
            if (l.conn.valid()) p.push_back({l.conn.get(), POLLIN, 0});
        std::size_t bus = p.size();  // last: the system bus, while polkit is asked
        p.push_back({polkit_.fd(), polkit_.events(), 0});
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
            if (p[3].revents) on_names();  // on a hang-up, reads to the end and drops the socket
            // Before any request is read: none is decided without it.
            if (cfg_.userdb->fd() < 0) return stop_without_userdb();
            if (p[4].revents) delete_closed_macvtaps();
            for (std::size_t i = 5; i < first_unread; ++i) {
                auto it = conns_.find(p[i].fd);
                if (!p[i].revents || it == conns_.end()) continue;
                Conn& c = it->second;
                if (!c.parked) {
                    on_readable(c, p[i].revents);
                } else {  // gone while it waited: nothing is made for it
                    if (c.polkit_id) polkit_.forget(*c.polkit_id);
                    c.parked.reset();
                    c.deadline = Clock::time_point::min();
                }
            }
            for (std::size_t i = first_unread; i < first_tied; ++i)
                if (p[i].revents) on_unread_event(p[i].fd);
            for (std::size_t i = first_tied; i < bus; ++i)
                if (p[i].revents) end_tied(p[i].fd);
            // Answered connections go now, before accepting: a client that
            // got its reply and asks again must not find its own finished
            // connection still counted against its uid.
            expire();
            if (p[0].revents) accept_all();
        }
        if (cfg_.macvtaps && cfg_.macvtaps->next_look() <= Clock::now()) delete_closed_macvtaps();
        on_polkit();
        expire_leases();
        if (std::any_of(leases_.begin(), leases_.end(), [](const auto& kv) { return kv.second.recheck; }))
            ask_lease_groups();
        retry_parked();
        expire();
        log_refusals();
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
    log_refusals(Clock::time_point::max());
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
    SubUids subuids = UB_TRY(load_subuids(config));
    NsId own = UB_TRY(own_netns());
    Server s(std::move(listener), config, std::move(policy), std::move(subuids), std::move(sigfd),
             std::move(monitor), own);
    return s.run();
}

}  // namespace ub::daemon
