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
// - A client connection is closed at once, in the serving thread: queued
//   on the threads, a flood of refused connections filled the daemon's fd
//   table behind one account's stuck closes (a cold review's find). Its
//   close calls no flush (a unix socket has none), but releases the fds
//   still waiting unread in it, and the last reference to a lingering
//   socket among them would linger: it is shut down first, so nothing more
//   comes, and a timer signal (SIGALRM) ends any such wait, as a signal
//   ends a linger. (A file's release, unlike its flush, does not wait on a
//   FUSE server: only a close(2) of an fd we hold flushes.)
//
// Should: take a sent fd without ever waiting. Must not: close a sent fd
// in the serving thread; let one account's closes take every thread.
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
    // Closes the client connection `fd` here and now, bounded as above.
    static void close_connection(int fd);

private:
    struct Item {
        uid_t account;
        int fd;
    };
    Closer() = default;
    void work();

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
