#!/bin/bash
# userbridged under denial-of-service attacks by one user (ubbob) while
# another (ubalice) asks for a tap: what bob does must not delay or fail
# alice's grant.
#   - bob stops a helper of his mid-grant, then asks the daemon for taps
#     on a bridge with max-taps (review item 5); the helper takes no quota
#     lock (max-taps= is userbridged's), so it holds nothing the daemon's
#     requests wait for;
#   - bob leaves many replies, with their tap fds, unread (item 6);
#   - bob floods the socket with connections (item 8).
source "$(dirname "$0")/lib.sh"

for b in br0 br1 br2; do bridge $b; done
D=/run/userbridge.sock
TT=$T/bin/ub-testtool
acl 'allow br0 max-taps=2\nallow br1\nallow br2\n'
# systemd's default for services: a soft limit of 1024 open files, the
# limit on the fds the daemon may have in flight (unread by their receiver).
DAEMON_BIN=prlimit start_daemon --nofile=1024:$(ulimit -Hn) "$T/bin/userbridged"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# timed_grant NAME BRIDGE: alice's grant through the daemon; must be granted
# within MS ms (a few ms when nobody competes).
timed_grant() {
    local name=$1 br=$2 ms=$3 t0 t1 rc=0
    t0=$(now_ms)
    as_alice "$TT" daemon grant $D "$br" >"$T/alice.out" 2>&1 || rc=$?
    t1=$(now_ms)
    echo "    alice's grant on $br: $((t1 - t0)) ms: $(head -n1 "$T/alice.out")"
    check "$name: alice is granted" test $rc -eq 0
    check "$name: ...within $ms ms" test $((t1 - t0)) -lt "$ms"
}

timed_grant "nobody attacks" br0 500

# --- Item 5: a stopped helper of bob's --------------------------------------
# On br0 (max-taps=2) his helper refuses at once, before its first step:
# it counts no quota, and so takes no quota lock (the device ubq4712).
rc=0
setpriv --reuid=$BOB --regid=$BOB --clear-groups -- env UB_FAULT=pause@after-create \
    "$TT" call stream -- "$T/bin/faulty-helper" --fd=3 --br=br0 >"$T/bobh.out" 2>&1 || rc=$?
check "bob's helper refuses br0's max-taps= rule at once (exit $rc)" grep -q 'asks for max-taps=' "$T/bobh.out"
check "...and takes no quota lock" test ! -e /sys/class/net/ubq$BOB
# On br1 the fault-injection helper pauses 2 s once its tap exists;
# stopped then, it holds that tap until it is killed.
# (setpriv itself, not as_bob, whose $! would be a subshell: $! is then the
# caller, the helper's parent.)
setpriv --reuid=$BOB --regid=$BOB --clear-groups -- env UB_FAULT=pause@after-create \
    "$TT" call stream -- "$T/bin/faulty-helper" --fd=3 --br=br1 >/dev/null 2>&1 &
CALLER=$!
within 3 bash -c 'test -n "$(ip -o link show type tun)"' || true
HELPER=$(pgrep -P $CALLER -x faulty-helper || true)
BACKGROUND+=($HELPER)
check "bob's helper is stopped mid-grant" test -n "$HELPER"
kill -STOP $HELPER
# bob's own requests on br0, up to his connection limit of them at once:
# the quota is counted without waiting for anything of his helper's.
BOBS=()
t0=$(now_ms)
for i in $(seq 8); do
    as_bob "$TT" daemon grant $D br0 >"$T/bob$i.out" 2>&1 &
    BOBS+=($!)
done
timed_grant "bob's helper stopped, 8 of his requests asking" br0 500
timed_grant "...and on another bridge" br1 500
wait "${BOBS[@]}" 2>/dev/null || true
echo "    bob's requests ended after $(($(now_ms) - t0)) ms: $(head -n1 "$T/bob1.out")"
check "...bob's own requests are answered, none waits on a lock" \
    fails grep -q 'quota lock' "$T"/bob*.out
check "...within 2 s" test $(($(now_ms) - t0)) -lt 2000
kill -KILL $HELPER
wait $CALLER 2>/dev/null || true
check "...no tap of bob's is left" soon no_taps
check "...and never a quota lock of his" test ! -e /sys/class/net/ubq$BOB

# --- Item 6: replies left unread --------------------------------------------
# 140 replies of 8 fds each, unread: more in flight than the daemon's soft
# limit of open files.
setpriv --reuid=$BOB --regid=$BOB --clear-groups -- "$TT" daemon hold-replies $D br1 140 8 60000 \
    >"$T/held" 2>&1 &
HOLDER=$!
BACKGROUND+=($HOLDER)
for _ in $(seq 600); do [ -s "$T/held" ] && break; sleep 0.05; done
echo "    bob's unread replies: $(cat "$T/held")"
check "bob cannot leave more than 64 tap fds unread" \
    bash -c "grep -qE '^granted=[0-8] ' '$T/held'"
timed_grant "bob's replies unread" br1 500
kill $HOLDER 2>/dev/null || true
wait $HOLDER 2>/dev/null || true
check "...and once his client is gone, bob is granted again" grep -q '^tap=' <(as_bob "$TT" daemon grant $D br1)

# --- Item 8: a connection flood ---------------------------------------------
lines_before=$(wc -l <"$SYSLOG")
FLOODS=()
for i in 1 2 3; do
    as_bob "$TT" daemon connect-flood $D 5000 >"$T/flood$i" 2>&1 &
    FLOODS+=($!)
done
sleep 1  # time passes: the flood is under way
timed_grant "bob floods the socket" br1 5000
wait "${FLOODS[@]}"
echo "    bob's floods: $(cat "$T/flood"* | tr '\n' ' ')"
sleep 0.3  # time passes: the daemon logs what the flood's last connections made it log
lines=$(($(wc -l <"$SYSLOG") - lines_before))
echo "    syslog lines during the flood: $lines"
check "the flood is logged in a bounded number of lines" test "$lines" -lt 50

# A reply whose client has gone is not delivered, and no grant is recorded:
# the fault-injection daemon pauses 2 s before it sends, and bob's client,
# which stayed until its request was read (one gone before gets no tap at
# all), has closed by then.
stop_daemon
export UB_FAULT=pause@before-send
DAEMON_BIN=$T/bin/faulty-daemon start_daemon
unset UB_FAULT
as_bob "$TT" daemon grant-late-drop $D br2
within 5 grep -qE 'event=error .*uid=4712 .*bridge="?br2' "$SYSLOG" || true
grep -E 'uid=4712 .*bridge="?br2' "$SYSLOG" | sed 's/^/    /'
check "an undelivered reply is not recorded as a grant" \
    fails grep -qE 'event=grant .*uid=4712 .*bridge="?br2' "$SYSLOG"
check "...but as an error" grep -qE 'event=error .*uid=4712 .*bridge="?br2.*not delivered' "$SYSLOG"

stop_daemon
check "no tap left ($(taps | tr '\n' ' '))" soon no_taps
finish
