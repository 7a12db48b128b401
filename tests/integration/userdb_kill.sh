#!/bin/bash
# Review item 9: userbridged's user database process (daemon/userdb.h) ran
# as the shared uid nobody, so any process running as nobody could kill it;
# the daemon then served on without names: records said user=?, a reload
# adding a named deny was refused (the older, more permissive ACL stayed)
# and named allows stopped matching. Now:
#   - it runs as a system user of its own ($USERDB_USER), which nothing else
#     runs as: nobody's kill is refused by the kernel (EPERM);
#   - its death (root can still kill it) stops the daemon, non-zero, saying
#     why: nothing is decided without names, and the service manager starts
#     a new daemon (Restart=on-failure), which serves the requests that
#     waited on the socket meanwhile, with the ACL as it is then;
#   - without its user the daemon does not start at all.
source "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
TT=$T/bin/ub-testtool
D=/run/userbridge.sock
bridge br0
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
# exited PID: whether PID is gone within 3 s.
exited() {
    for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.02; done
    return 1
}
# serving PID: waits until PID is under its seccomp filter (serving).
serving() {
    for _ in $(seq 150); do
        grep -qP '^Seccomp:\t2$' "/proc/$1/status" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}

# --- nobody against it ---------------------------------------------------------
acl 'allow br0\n'
start_daemon
UDB=$(pgrep -P "$DAEMON_PID")
check "the user database process runs as $USERDB_USER ($USERDB_UID), not nobody" \
    grep -qP "^Uid:\t$USERDB_UID\t$USERDB_UID\t$USERDB_UID\t$USERDB_UID$" "/proc/$UDB/status"
# soon: the user database process of an earlier test's daemon, stopped
# just before, may still be on its way out.
check "...a uid no other process has" soon bash -c "[ \$(ps -e -o uid= | grep -cx ' *$USERDB_UID') -eq 1 ]"
rc=0
as_nobody kill -KILL "$UDB" 2>"$T/err" || rc=$?
check "a process running as nobody cannot kill it (EPERM)" \
    bash -c "[ $rc -ne 0 ] && grep -q 'Operation not permitted' '$T/err'"
sleep 0.3  # time passes: a daemon that reacted wrongly would be gone
check "...the daemon serves on" kill -0 "$DAEMON_PID"
acl 'allow br0\ndeny br0 user=ubalice\n'
reload_daemon
refused "...a named deny added by a reload holds" "access to bridge br0 denied" \
    as_alice "$TT" daemon grant $D
as_bob "$TT" daemon grant $D >/dev/null || true
check "...and records name their caller" grep -q "event=grant user=ubbob uid=$BOB " "$SYSLOG"

# --- killed by root, the daemon its own listener ----------------------------
acl 'allow br0\n'
reload_daemon
fds=$(ls /proc/$DAEMON_PID/fd | wc -l)
as_bob "$TT" daemon mute $D >"$T/mute.out" 2>&1 &
mute=$!
soon daemon_holds $((fds + 1))  # the daemon holds the connection
kill -KILL "$(pgrep -P "$DAEMON_PID")"
rc=0
if exited "$DAEMON_PID"; then wait "$DAEMON_PID" || rc=$?; else rc=running; fi
check "killed by root: the daemon stops" test "$rc" != running
check "...with a non-zero exit status" bash -c "[ $rc != running ] && [ $rc -ne 0 ] && [ $rc -ne 127 ]"
check "...saying why" grep -q 'userbridged.*the user database process is gone.*stopping' "$SYSLOG"
wait $mute || true
check "...telling a connection it held to try again" \
    grep -q 'busy: userbridged is restarting (its user database process is gone); try again' "$T/mute.out"
rc=0
as_alice "$TT" daemon grant $D >"$T/out" 2>"$T/err" || rc=$?
check "...while it is down, a request is not granted" bash -c "[ $rc -ne 0 ] && ! grep -q '^tap=' '$T/out'"
check "...and leaves no tap" test -z "$(taps)"
stop_daemon

# --- killed by root, the socket the service manager's ----------------------
# The decision that needs a name, asked while the user database is down:
# the daemon is held (SIGSTOP) while its user database process is killed,
# a reload adding a named deny is asked for and ubalice connects, so that
# it sees all three at once.
check "the shipped unit restarts the daemon when it fails" \
    grep -qx 'Restart=on-failure' "$SRC/packaging/systemd/userbridged.service"
acl 'allow br0\n'
"$TT" supervise $D -- "$T/bin/userbridged" 2>>"$T/daemon.err" &
SUP=$!
BACKGROUND+=($SUP)
for _ in $(seq 100); do FIRST=$(pgrep -P $SUP) && break; sleep 0.02; done
serving "$FIRST"
acl 'allow br0\ndeny br0 user=ubalice\n'
kill -STOP "$FIRST"
kill -KILL "$(pgrep -P "$FIRST")"
kill -HUP "$FIRST"
as_alice "$TT" daemon grant $D >"$T/out" 2>"$T/err" &
alice=$!
soon queued 1  # asked while the daemon is down
kill -CONT "$FIRST"
rc=0
wait $alice || rc=$?
check "a request asked while it is down, that a named deny refuses, is refused, not granted" \
    bash -c "[ $rc -ne 0 ] && grep -q 'access to bridge br0 denied' '$T/err'"
sed 's/^/    /' "$T/out" "$T/err"
check "...and leaves no tap" test -z "$(taps)"
SECOND=$(pgrep -P $SUP || true)
check "the daemon was started again" bash -c "[ -n '$SECOND' ] && [ '$SECOND' != '$FIRST' ]"
serving "$SECOND" || true
check "...with a user database process of its own, as $USERDB_USER" \
    grep -qP "^Uid:\t$USERDB_UID\t" "/proc/$(pgrep -P "$SECOND")/status"
as_bob "$TT" daemon grant $D >/dev/null || true
check "...which grants, and names its caller" grep -q "event=grant user=ubbob uid=$BOB " "$SYSLOG"
kill "$SUP"
wait "$SUP" 2>/dev/null || true

# --- no user of its own, no daemon ------------------------------------------
cp "$T/passwd" "$T/passwd.keep"
grep -v "^$USERDB_USER:" "$T/passwd.keep" >"$T/passwd.new"
cat "$T/passwd.new" >"$T/passwd"  # in place: /etc/passwd is a bind mount of it
rc=0
timeout 5 "$T/bin/userbridged" --socket="$T/work/nouser.sock" 2>"$T/err" || rc=$?
cat "$T/passwd.keep" >"$T/passwd"
check "without $USERDB_USER, the daemon does not start" test $rc -ne 0 -a $rc -ne 124
check "...and says why" grep -q "user $USERDB_USER does not exist" "$T/err"
sed 's/^/    /' "$T/err"
rm -f "$T/work/nouser.sock"
check "no tap left" test -z "$(taps)"
finish
