#include "daemon/closer.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <thread>

namespace ub::daemon {

namespace {
extern "C" void on_alarm(int) {}
}  // namespace

Closer& Closer::start() {
    auto* c = new Closer;  // never deleted: see the header
    // No SA_RESTART: the signal is to end the wait it interrupts.
    struct sigaction alarm {};
    alarm.sa_handler = on_alarm;
    sigemptyset(&alarm.sa_mask);
    sigaction(SIGALRM, &alarm, nullptr);
    // Threads take their signal mask from the thread that makes them.
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &before);
    for (unsigned i = 0; i < kThreads; ++i) std::thread([c] { c->work(); }).detach();
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    // A thread's own start-up (set_robust_list, rseq) is done before it
    // first waits: that must be before the filter, which forbids those.
    std::unique_lock lock(c->mutex_);
    c->ready_.wait(lock, [c] { return c->waiting_ == kThreads; });
    return *c;
}

void Closer::close(uid_t account, int fd) {
    if (fd < 0) return;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({account, fd});
        ++pending_[account];
    }
    // Any thread may be the one free to take it (the others may be held
    // by the account's limit): all look.
    ready_.notify_all();
}

std::size_t Closer::pending(uid_t account) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(account);
    return it == pending_.end() ? 0 : it->second;
}

void Closer::work() {
    std::unique_lock lock(mutex_);
    if (++waiting_ == kThreads) ready_.notify_all();
    for (;;) {
        auto next = queue_.begin();
        while (next != queue_.end() && closing_[next->account] >= kPerAccount) ++next;
        if (next == queue_.end()) {
            ready_.wait(lock);
            continue;
        }
        Item item = *next;
        queue_.erase(next);
        ++closing_[item.account];
        lock.unlock();
        ::close(item.fd);  // may wait on the fd's maker, here only
        lock.lock();
        if (--closing_[item.account] == 0) closing_.erase(item.account);
        if (--pending_[item.account] == 0) pending_.erase(item.account);
        // The account's next fd, held by its limit, may go now.
        ready_.notify_all();
    }
}

std::size_t Closer::queued() {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void Closer::close_connection(uid_t account, int fd) {
    // Shut down, nothing more can be queued in it (unix_stream_sendmsg
    // checks under the peer's lock); every fd in flight rides on a byte.
    ::shutdown(fd, SHUT_RDWR);
    int unread = 0;
    if (ioctl(fd, SIOCINQ, &unread) == 0 && unread == 0) {
        ::close(fd);  // releases nothing of the client's
        return;
    }
    if (queued() < kMaxQueued) {
        close(account, fd);
        return;
    }
    // The threads are far behind: here, as bounded as a signal bounds it.
    itimerval guard{{0, 0}, {0, kConnectionCloseUs}};
    setitimer(ITIMER_REAL, &guard, nullptr);
    ::close(fd);
    itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
}

void ClientFd::reset() {
    int fd = std::exchange(fd_, -1);
    if (fd < 0) return;
    if (!closer_) ::close(fd);
    else if (kind_ == Kind::Connection) closer_->close_connection(account_, fd);
    else closer_->close(account_, fd);
}

}  // namespace ub::daemon
