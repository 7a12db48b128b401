// The helper's last close of its nf_tables netlink socket, handed to a
// child so that QEMU does not wait for it.
//
// When the last reference to a netlink socket that committed an nf_tables
// transaction goes, the kernel first finishes destroying the committed
// transactions, which waits for an RCU grace period (20 to 30 ms on our
// test machines). The helper's exit would pay it, and QEMU waits for that
// exit: a guarded grant took 26 ms against 2 ms for a plain one. The daemon
// keeps its socket for its lifetime and never pays it.
//
// defer_netfilter_release() forks a child that shares the socket. The
// child closes every other fd (the tun fds not yet made into taps, the
// syslog socket, the caller's socket), gives up its capabilities, installs
// `filter` (read, close, exit), says it is ready, and waits until the
// helper's end of a socket pair closes, which is when the helper exits; its
// own exit is then the socket's last close, and the wait is its own. It
// inherits the helper's non-dumpable state, so the caller cannot ptrace it
// or reach its fds; it reads nothing but that end of file. Call after the
// privilege drop and before the sandbox (whose filter forbids fork), with
// no thread running. Best effort: if anything fails, the helper keeps the
// wait.
#pragma once

#include <linux/filter.h>

#include <cstddef>

namespace ub::privilege {

void defer_netfilter_release(const sock_filter* filter, std::size_t len);

}  // namespace ub::privilege
