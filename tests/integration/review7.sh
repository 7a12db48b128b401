#!/bin/bash
# Seventh outside review (docs/SECURITY.md, items 29-N). 29-1: a client
# hands userbridged an fd whose close waits on the client: a loopback TCP
# socket with SO_LINGER and data queued behind a peer that never reads.
# Closed in the daemon's one serving thread, it stopped every other user's
# grant for as long as the linger lasted; now what clients hand the daemon
# is closed by threads of its own (daemon/closer.h).
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^linger' .
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
D=/run/userbridge.sock
bridge br0
acl 'allow br0\n'
start_daemon

# grant_within SECONDS: ubalice's grant through userbridged comes in time.
grant_within() { as_alice timeout "$1" "$TT" daemon grant $D | grep -q '^tap='; }
# stalling HOW COUNT: ubbob hands the daemon COUNT lingering sockets (HOW:
# one with each request, or many copies at once) and keeps them lingering
# for 20 s, in the background ($stall); "sent=N" in $T/stall.
stalling() {
    # setpriv itself, not as_bob: a function in the background is a
    # subshell of its own, and $! would be that.
    setpriv --reuid=$BOB --regid=$BOB --clear-groups -- "$TT" stall-close $D "$1" "$2" 20 >"$T/stall" 2>&1 &
    stall=$!
    soon grep -q '^sent=' "$T/stall"
}
# stalled_done: ubbob's sockets let go (his process gone), and the daemon
# has closed them: he is granted again.
bob_granted() { as_bob "$TT" daemon grant $D | grep -q '^tap='; }
stalled_done() {
    kill $stall 2>/dev/null || true
    wait $stall 2>/dev/null || true
    within 10 bob_granted
}

if wanted "linger"; then
    check "linger: control: ubalice is granted at once" grant_within 3
    stalling one 1
    check "linger: while a socket ubbob sent lingers, ubalice is still granted at once" grant_within 3
    check "...and the daemon still takes SIGHUP" bash -c "kill -HUP $DAEMON_PID"
    check "linger: ...and once it is let go, ubbob is granted too" stalled_done
fi

# More fds in one message than a request takes (it takes one): those the
# daemon's buffer had no room for, the kernel closed in the daemon's thread.
if wanted "many"; then
    stalling many 1
    check "many: twenty lingering copies in one message stop no one" grant_within 3
    check "many: ...and once they are let go, ubbob is granted" stalled_done
fi

# One account's stuck closes take at most two of the threads, and while
# 64 of its fds wait, its new connections are refused (closer.h); other
# accounts are served throughout.
if wanted "bound"; then
    stalling one 80
    check "bound: ubbob's 80 lingering sockets stop no one else" grant_within 3
    check "bound: ...his own connections are refused while 64 of his wait" \
        grep -q "too many fds from uid $BOB are still closing" <(as_bob "$TT" daemon grant $D 2>&1)
    check "bound: ...the daemon runs one thread and eight closing ones" \
        test "$(ls /proc/$DAEMON_PID/task | wc -l)" -eq 9
    check "bound: ...and once they are let go, ubbob is granted" stalled_done
fi

stop_daemon
check "no tap left" no_taps
finish
