#!/bin/bash
# What the audit records say, and how they get out: values from outside
# (a user name from NSS, a VM name) are escaped the same way in the
# helper's records, the daemon's and its journald fields, so that none can
# forge a key or a record; the pids they carry say what they are; a
# journald record too large for a datagram goes out through libsystemd's
# memfd path under the daemon's seccomp filter; the daemon's own socket
# (--socket) gets its mode without a chmod by path that a symlink could
# redirect.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0\n'
TT=$T/bin/ub-testtool
setuid=$T/bin/setuid-helper
client=$T/bin/userbridge-client
# eventually CMD...: CMD succeeds within 5 s.
eventually() {
    for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done
    return 1
}

# A journald of our own: the daemon sends its records there.
journal_sink

# --- Review item Also-1: a record too large for a datagram -------------------
# libsystemd sends such a record as a sealed memfd passed with SCM_RIGHTS
# (prctl(PR_GET_NAME) for the memfd's name, memfd_create, fcntl seals). The
# tool sends one under the daemon's own filter, as the daemon would.
# In sanitizer builds LeakSanitizer would stop the world at exit with
# clone, which the filter kills, as it is off in the daemon itself
# (privilege/asan_options.cpp); elsewhere the option does nothing.
rc=0
ASAN_OPTIONS=detect_leaks=0 "$TT" journal-record 10000000 2>"$T/err" || rc=$?
check "a 10 MB journald record goes out under the daemon's seccomp filter (exit $rc)" test $rc -eq 0
check "...and journald gets it whole, through the fd" eventually \
    bash -c "awk 'length(\$0) >= 10000008 && /^MESSAGE=xxx/' '$JOURNAL' | grep -q ."

# --- Review item Also-2: one escaping of values from outside -----------------
# A user whose name (as an LDAP directory could hold it) has a quote, spaces,
# '=', a non-UTF-8 byte and a control character: unescaped, it would forge
# "uid=0 event=grant" into the record.
EVIL=4713
evil_name=$'ub" uid=0 event=grant x=\xff\x1b y'
printf '%s:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' "$evil_name" $EVIL $EVIL >>"$T/passwd"
as_evil() { setpriv --reuid=$EVIL --regid=$EVIL --clear-groups -- "$@"; }
want='user="ub\" uid=0 event=grant x=\xff\x1b y" uid=4713 '
# keys RECORD: the keys of a record's key=value pairs, parsed as a shell
# would split it (quotes and backslash escapes), one per line.
keys() {
    python3 -c 'import shlex, sys
try:
    for tok in shlex.split(sys.argv[1]): print(tok.split("=", 1)[0])
except ValueError: print("unparsable")' "$1"
}
# The text of the evil user's grant record: the helper's from syslog, the
# daemon's from journald (where it goes while journald listens).
helper_record() { grep -a "userbridge-helper\[[0-9]*\]: event=grant .*uid=$EVIL .*vm=$1" "$SYSLOG" | tail -n1 | sed 's/^[^]]*\]: //' || true; }
daemon_record() { grep -a "^MESSAGE=event=grant .*uid=$EVIL .*vm=$1" "$JOURNAL" | tail -n1 | sed 's/^MESSAGE=//' || true; }
as_evil "$TT" call stream -- "$setuid" --vm=evil --fd=3 --br=br0 >/dev/null
start_daemon
as_evil "$TT" call stream -- "$client" --vm=evil --fd=3 --br=br0 >/dev/null
soon grep -qa "^MESSAGE=event=grant .*uid=$EVIL .*vm=evil" "$JOURNAL" || true
helper_line=$(helper_record evil)
daemon_line=$(daemon_record evil)
check "helper: the hostile user name is one quoted, escaped value" grep -qF "$want" <<<"$helper_line"
check "daemon: the same name, escaped identically" grep -qF "$want" <<<"$daemon_line"
for who in helper daemon; do
    line=${who}_line
    check "$who: its record parses to one event= and one uid= ($(keys "${!line}" | tr '\n' ' '))" \
        test "$(keys "${!line}" | grep -cxE 'event|uid')" -eq 2
done
check "no raw control or non-UTF-8 byte reaches syslog or the journal" \
    bash -c "! LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f-\xff]' '$SYSLOG' '$JOURNAL'"
check "journald's USERBRIDGE_USER is the same escaped value" \
    grep -qxF 'USERBRIDGE_USER=ub\" uid=0 event=grant x=\xff\x1b y' "$JOURNAL"
as_alice "$TT" call stream -- "$client" --vm=db --fd=3 --br=br0 >/dev/null
check "plain values stay as they were (user=ubalice, vm=db, bridge=\"br0\")" \
    soon grep -qE "^MESSAGE=event=grant user=ubalice uid=$ALICE .*bridge=\"br0\" .*vm=db " "$JOURNAL"
check "the daemon still serves" kill -0 "$DAEMON_PID"

# --- Review item Also-3: the pids records carry -------------------------------
# The helper's parent is whoever exec'd it, the caller's choice: the record
# names it parent_pid, not a caller. The daemon's is the pid that connected,
# as the kernel saw it at connect() (SO_PEERCRED): peer_pid.
# (AS_ALICE, not the function: a function in the background is a subshell
# of its own, and $! would be that.)
"${AS_ALICE[@]}" "$TT" call stream -- "$setuid" --vm=pids --fd=3 --br=br0 >/dev/null &
parent=$!
wait $parent
check "helper records say parent_pid= (the pid that ran it: $parent)" \
    grep -qE "userbridge-helper\[[0-9]+\]: event=grant .* parent_pid=$parent .*vm=pids" "$SYSLOG"
"${AS_ALICE[@]}" "$TT" daemon grant /run/userbridge.sock br0 >/dev/null &
peer=$!
wait $peer
check "daemon records say peer_pid= (the pid that connected: $peer)" \
    soon grep -qE "^MESSAGE=event=grant .* peer_pid=$peer " "$JOURNAL"
check "...and journald's field USERBRIDGE_PEER_PID" grep -qx "USERBRIDGE_PEER_PID=$peer" "$JOURNAL"
check "no record calls any pid caller_pid" bash -c "! grep -qa 'caller_pid\|CALLER_PID' '$SYSLOG' '$JOURNAL'"
stop_daemon

# --- Review item Also-4: --socket in a directory another user controls -------
# ubbob owns the directory; between the daemon's bind() and the moment the
# socket gets its mode (held open 2 s by the faulty build), he renames a
# symlink to a root-owned file over the socket's path. A chmod by path
# would follow it and make that file 0666.
dir=$T/work/bobdir
install -d -o $BOB -g $BOB -m 0755 "$dir"
install -m 0600 /dev/null "$T/work/root-only"
UB_FAULT=pause@after-bind "$T/bin/faulty-daemon" --socket="$dir/ub.sock" 2>>"$T/daemon.err" &
DAEMON_PID=$!
BACKGROUND+=($DAEMON_PID)
for _ in $(seq 100); do [ -S "$dir/ub.sock" ] && break; sleep 0.02; done
as_bob ln -s "$T/work/root-only" "$dir/swap"
as_bob mv -T "$dir/swap" "$dir/ub.sock"
for _ in $(seq 150); do grep -qP '^Seccomp:\t2$' /proc/$DAEMON_PID/status 2>/dev/null && break; sleep 0.02; done
check "a symlink swapped in after bind does not redirect the socket's mode (root-only is $(stat -c %a "$T/work/root-only"))" \
    test "$(stat -c %a "$T/work/root-only")" = 600
check "...though the symlink did replace the socket" test -L "$dir/ub.sock"
stop_daemon
rm -rf "$dir" "$T/work/root-only"

# The daemon's whole start, traced: the socket's mode is set on the socket
# itself before it has a name, never by path.
strace -f -qq -o "$T/strace" -e trace=chmod,fchmodat,fchmod,umask \
    "$T/bin/userbridged" --socket="$T/work/ub.sock" 2>>"$T/daemon.err" &
DAEMON_PID=$!
BACKGROUND+=($DAEMON_PID)
for _ in $(seq 100); do [ -S "$T/work/ub.sock" ] && break; sleep 0.05; done
soon grep -qE 'fchmod\(' "$T/strace" || true  # strace has written the start
check "--socket: the socket is there, mode 0666" test "$(stat -c %a "$T/work/ub.sock" 2>&1)" = 666
check "--socket: no chmod or fchmodat by path at any moment" \
    bash -c "! grep -qE '(^|\] |^[0-9]+ +)(chmod|fchmodat)\(' '$T/strace'"
check "--socket: its mode is set by fchmod on the socket before bind" grep -qE 'fchmod\([0-9]+, 0666\)' "$T/strace"
kill "$(pgrep -P $DAEMON_PID)" 2>/dev/null || true  # the daemon, strace's child
wait $DAEMON_PID 2>/dev/null || true
rm -f "$T/work/ub.sock"

# --- Review item 32-3: the caller's argv[0] as the record's tag ------------
# A helper that failed before its log was opened (a --fd that is no
# socket) was recorded under glibc's default tag, the program's name as
# its caller gave it: a forged grant, and with a newline a line of its own.
forged=$'userbridge-helper[777]: event=grant user=ubalice uid=4711 bridge="br1" tap=tap777 via=helper\nevent=grant uid=0'
fd=97
for h in setuid fcap; do
    fd=$((fd + 1))
    as_bob bash -c 'exec -a "$1" "$2" --fd=$3 --br=br0' _ "$forged" "$T/bin/$h-helper" $fd 2>/dev/null || true
    check "argv0: the $h helper's record of a bad --fd is under its own name" \
        soon grep -qaE "userbridge-helper\[[0-9]+\]: event=error user=\? uid=$BOB .*--fd=$fd is not" "$SYSLOG"
    check "argv0: ...and no record carries ubbob's words for a tag" \
        bash -c "! grep -qa 'tap777\|event=grant uid=0' '$SYSLOG'"
done

check "no tap left behind" test -z "$(taps)"
finish
