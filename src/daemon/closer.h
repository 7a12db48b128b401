// What clients hand userbridged, closed off its one serving thread
// (review item 29-1).
//
// A close can wait on whoever made the file: a FUSE file's flush waits for
// its server to answer (every close(2), not only the last), a TCP socket
// with SO_LINGER for its peer to take what is queued (the last). Closed in
// the serving thread, one such fd a client sent stopped every grant for as
// long as its maker liked. So:
//
// - An fd a client sends us is closed by a small pool of threads, each
//   account's at most kPerAccount at a time, so that one account's stuck
//   closes hold no other account's; the server refuses an account's new
//   connections while kMaxPending of its fds wait.
// - A client connection's close calls no flush (a unix socket has none),
//   but releases whatever still waits unread in it, and some releases
//   wait without end or heed no signal (a lingering socket; a packet
//   socket's, an RCU grace period each: thousands in one connection held
//   a first version of this for seconds, a cold review found). So it is
//   shut down first, so that nothing more comes, and closed at once only
//   when nothing waits in it, which is every connection that sent no more
//   than its request; one with something unread goes to the threads as a
//   sent fd does. (Queued on the threads whatever they held, a flood of
//   refused connections filled the fd table behind one account's stuck
//   closes, the same review found.) Only when kMaxQueued wait is one
//   closed here, a timer signal (SIGALRM) ending a linger's wait.
//
// Should: take a sent fd without ever waiting. Must not: close in the
// serving thread what a client sent, but past kMaxQueued; let one
// account's closes take every thread.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>

#include "base/fd.h"

namespace ub::daemon {

class Closer {
public:
    static constexpr unsigned kThreads = 8;
    static constexpr unsigned kPerAccount = 2;
    static constexpr std::size_t kMaxPending = 64;
    static constexpr std::size_t kMaxQueued = 4096;

    // How long a connection's close may wait on what it releases.
    static constexpr long kConnectionCloseUs = 20'000;

    // Starts the threads, every signal blocked in them (SIGTERM and SIGHUP
    // are the serving thread's, through its signalfd, and SIGALRM, below),
    // and gives SIGALRM a handler that does nothing, so that it ends a wait
    // in the kernel. Call it before the seccomp filter, which is installed
    // for every thread. Never destroyed: its threads wait on it until the
    // process exits.
    static Closer& start();

    // Takes `fd`, received from (or a connection of) `account`, and closes
    // it on one of the threads.
    void close(uid_t account, int fd);
    // `account`'s fds queued or being closed.
    std::size_t pending(uid_t account);
    // Closes the client connection `fd` of `account`, as above.
    void close_connection(uid_t account, int fd);

private:
    struct Item {
        uid_t account;
        int fd;
    };
    Closer() = default;
    void work();
    std::size_t queued();

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Item> queue_;
    std::map<uid_t, unsigned> closing_;       // being closed now
    std::map<uid_t, std::size_t> pending_;    // queued or being closed
    unsigned waiting_ = 0;                    // threads started
};

// An fd a client handed us (Sent: closed by the Closer's threads) or a
// connection of one (Connection: Closer::close_connection), when it goes.
// Without a Closer (unit tests), closed here.
class ClientFd {
public:
    enum class Kind { Sent, Connection };
    ClientFd() = default;
    ClientFd(UniqueFd fd, Closer* closer, uid_t account, Kind kind)
        : fd_(fd.release()), closer_(closer), account_(account), kind_(kind) {}
    ClientFd(ClientFd&& o) noexcept : fd_(o.fd_), closer_(o.closer_), account_(o.account_), kind_(o.kind_) {
        o.fd_ = -1;
    }
    ClientFd& operator=(ClientFd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.fd_, closer_ = o.closer_, account_ = o.account_, kind_ = o.kind_;
            o.fd_ = -1;
        }
        return *this;
    }
    ClientFd(const ClientFd&) = delete;
    ClientFd& operator=(const ClientFd&) = delete;
    ~ClientFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    // Whose it is, once the kernel has said (SO_PEERCRED).
    void set_account(uid_t account) { account_ = account; }
    void reset();

private:
    int fd_ = -1;
    Closer* closer_ = nullptr;
    uid_t account_ = static_cast<uid_t>(-1);
    Kind kind_ = Kind::Sent;
};

}  // namespace ub::daemon
