#!/bin/bash
# The unprivileged ways in: userbridge run picks the daemon when it is
# there; libuserbridge's client checks what a daemon gives it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon

# --- userbridge run and libuserbridge pick the daemon when it is there ------
before=$(grep -c 'via=daemon' "$SYSLOG" || true)
check "userbridge run --via=auto uses the daemon" \
    grep -q '^tap' <(as_alice "$T/bin/userbridge" run -- echo '{ifname}')
check "...as the log shows" soon bash -c "[ \$(grep -c via=daemon '$SYSLOG') -gt $before ]"
check "userbridge run --via=helper still runs the helper" \
    grep -q '^tap' <(as_alice "$T/bin/userbridge" run --via=helper --helper="$T/bin/setuid-helper" -- echo '{ifname}')
stop_daemon
refused "--via=daemon with no daemon" "cannot connect to userbridged at /run/userbridge.sock" \
    as_alice "$T/bin/userbridge" run --via=daemon -- true

# --- A daemon that lies: the client checks what it is given ----------------
# Only root can put a socket at the daemon's path; these stand in for a
# socket a VMM was pointed at by mistake, and for bugs of our own.
fake() {
    "$TT" fake-daemon "$T/work/fake.sock" "$1" &
    BACKGROUND+=($!)
    for _ in $(seq 100); do [ -S "$T/work/fake.sock" ] && break; sleep 0.02; done
}
lied() {
    local name=$1 mode=$2 want=$3 rc=0
    wanted "$name" || return 0
    fake "$mode"
    as_alice "$TT" daemon grant "$T/work/fake.sock" >/dev/null 2>"$T/err" || rc=$?
    wait "${BACKGROUND[-1]}" 2>/dev/null || true
    for _ in $(seq 100); do [ -z "$(taps)" ] && break; sleep 0.02; done
    if [ $rc -eq 1 ] && grep -qF -- "$want" "$T/err" && [ -z "$(taps)" ]; then pass "$name: $(cat "$T/err")"
    else fail "$name: exit $rc, $(cat "$T/err"), taps: $(taps | tr '\n' ' ')"; fi
}
lied "a daemon that says more than its reply is refused" extra "userbridged sent more than its reply"
lied "a daemon that sends /dev/null for a tap is refused" notap "userbridged sent an fd that is not a tap device"
lied "a daemon of another release is refused" oldrelease \
    "reply is in protocol version 1; this client speaks 2 (userbridged and its clients must be of one release)"
lied "a daemon whose reply names another tap than it sent is refused" othername \
    "userbridged's reply names another tap than it sent"

finish
