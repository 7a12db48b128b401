#!/bin/bash
# userbridged: grants through the daemon decide exactly as the helper does
# (one table, run both ways), socket activation, abuse of every kind while
# well-behaved clients keep being served, 1000 sequential and 16-way
# concurrent grants with nothing leaked, SIGHUP reload, the unprivileged
# ways in: userbridge-client (QEMU's helper protocol), userbridge run,
# libuserbridge; tap names from the daemon's counter.
source "$(dirname "$0")/lib.sh"

for b in br0 br1 br2; do bridge $b; done
D=/run/userbridge.sock
acl 'allow br0\n'
start_daemon
check "daemon socket is there, mode 0666" test "$(stat -c %a $D)" = 666
check "daemon runs under its seccomp filter" grep -qP '^Seccomp:\t2$' /proc/$DAEMON_PID/status
check "daemon has no-new-privs" grep -qP '^NoNewPrivs:\t1$' /proc/$DAEMON_PID/status
check "daemon keeps CAP_NET_ADMIN only effective" grep -qP '^CapEff:\t0000000000001000$' /proc/$DAEMON_PID/status
# Permitted: CAP_NET_ADMIN (12), and for the moments that need them (see
# acl_perms.sh) CAP_SETUID (7), CAP_SETGID (6), CAP_DAC_READ_SEARCH (2).
check "...those and CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH permitted; an empty bounding set" \
    bash -c "grep -qP '^CapPrm:\t00000000000010c4$' /proc/$DAEMON_PID/status && grep -qP '^CapBnd:\t0{16}$' /proc/$DAEMON_PID/status"
TT=$T/bin/ub-testtool

# --- Its user database process ---------------------------------------------
# NSS runs in a child that keeps nothing: its own system user (not nobody:
# userdb_kill.sh), no capabilities, only its socket to the daemon.
UDB=$(pgrep -P "$DAEMON_PID")
check "one user database process, the daemon's child" test "$(wc -w <<<"$UDB")" -eq 1
check "...as $USERDB_USER, with no-new-privs" \
    bash -c "grep -qP '^Uid:\t$USERDB_UID\t$USERDB_UID\t$USERDB_UID\t$USERDB_UID$' /proc/$UDB/status &&
             grep -qP '^Gid:\t(\d+)\t\1\t\1\t\1$' /proc/$UDB/status && grep -qP '^Groups:\s*$' /proc/$UDB/status &&
             grep -qP '^NoNewPrivs:\t1$' /proc/$UDB/status"
check "...and no capability in any set" \
    bash -c "! grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/$UDB/status | grep -qEv ':\s0{16}$'"
check "...and no fd but stdio and its socket" \
    test "$(ls /proc/$UDB/fd | sort -n | tr '\n' ' ')" = "0 1 2 $(ls /proc/$UDB/fd | sort -n | tail -n1) "
# A name that /etc/passwd does not know goes on to systemd's NSS module,
# which lists /run/systemd/userdb (getdents64, which the daemon's filter
# does not allow): that killed the daemon with SIGSYS when it looked the
# name up itself. Here /run is the test's own tmpfs.
mkdir -p /run/systemd/userdb
acl 'allow all\n'
reload_daemon
as_nobody_listed() { setpriv --reuid=4242 --regid=4242 --clear-groups -- "$@"; }
check "a caller with no passwd entry is granted" grep -q '^tap=' <(as_nobody_listed "$TT" daemon grant $D)
check "...the daemon lives on" kill -0 "$DAEMON_PID"
check "...and its record says user=? uid=4242" grep -q 'event=grant user=? uid=4242 ' "$SYSLOG"
acl 'allow br0 user=ubnosuchuser\nallow br1 group=ubnosuchgroup\n'
reload_daemon
check "an ACL naming unknown users and groups loads, with warnings" grep -q 'SIGHUP: ACL reloaded' "$SYSLOG"
check "...the daemon lives on" kill -0 "$DAEMON_PID"
acl 'allow br0\ndeny br1 user=ubnosuchuser\n'
reload_daemon
check "a deny naming an unknown user refuses the ACL" \
    grep -q 'new ACL refused, keeping the old one: .*user ubnosuchuser does not exist' "$SYSLOG"
acl 'allow br0\ndeny br1 user=ubbob\n'
reload_daemon
refused "names the database knows resolve: deny br1 user=ubbob holds" "access to bridge br1 denied" \
    as_bob "$TT" daemon grant $D br1
rmdir /run/systemd/userdb

# --- The shared table: the same ACL, the same callers, both ways ----------
# way: "helper" (setuid helper) or "daemon" (userbridge-client, QEMU's way)
decides() {
    local who=$1 br=$2 way=$3 h=$T/bin/setuid-helper
    [ "$way" = daemon ] && h=$T/bin/userbridge-client
    if $who "$T/bin/ub-testtool" call stream -- "$h" --use-vnet --fd=3 --br="$br" >/dev/null 2>"$T/err"; then
        echo allow
    else
        echo deny
    fi
}
case_() {
    local name=$1 who=$2 br=$3 want=$4 h d
    h=$(decides "$who" "$br" helper)
    d=$(decides "$who" "$br" daemon)
    if [ "$h" = "$want" ] && [ "$d" = "$want" ]; then pass "$name: both $want"; else
        fail "$name: expected $want, helper: $h, daemon: $d ($(cat "$T/err"))"; fi
    [ -z "$(taps)" ] || fail "$name: taps left behind"
}
table() {
    acl "$1"
    [ -n "${2:-}" ] && acl "$2" vm.conf 0640 root:ubvm
    reload_daemon
}
table 'allow br0\n'
case_ "allow br0" as_alice br0 allow
case_ "default deny" as_alice br1 deny
table 'allow all\ndeny br1\n'
case_ "deny wins over allow all" as_bob br1 deny
case_ "allow all" as_bob br2 allow
table 'allow br0\ninclude /etc/qemu/vm.conf\n' 'allow br1\n'
case_ "group include: member (ubvm)" as_alice br1 allow
case_ "group include: non-member" as_bob br1 deny
case_ "group include: main rules for all" as_bob br0 allow
table 'include /etc/qemu/vm.conf\nallow br2\n' 'deny all\n'
case_ "group deny all: member denied" as_alice br2 deny
case_ "group deny all: non-member allowed" as_bob br2 allow
# Group membership is the groups the caller's process runs with (the
# kernel's, SO_PEERGROUPS for the daemon), not what the group database says:
# ubalice is listed in ubvm but runs without it here, ubbob is not listed
# but runs with it.
as_alice_ungrouped() { setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- "$@"; }
as_bob_in_vm() { setpriv --reuid=$BOB --regid=$BOB --groups=$VMGROUP -- "$@"; }
case_ "group deny all: listed in the database, not running with it" as_alice_ungrouped br2 allow
case_ "group deny all: running with the group, not listed" as_bob_in_vm br2 deny
table 'allow br0\ninclude /etc/qemu/vm.conf\n' 'allow br1\n'
case_ "group include: listed in the database, not running with it" as_alice_ungrouped br1 deny
case_ "group include: running with the group, not listed" as_bob_in_vm br1 allow
table 'deny br2 group=ubvm\nallow all\n'
case_ "deny group=: running with the group, not listed" as_bob_in_vm br2 deny
case_ "deny group=: listed in the database, not running with it" as_alice_ungrouped br2 allow
table 'allow br0\n' ''
chmod 0600 /etc/qemu/bridge.conf
reload_daemon
case_ "ACL unreadable by the caller" as_alice br0 deny
table 'allow br0\n'

# --- What the daemon answers, and what it logs -----------------------------
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --use-vnet --fd=3 --br=br0)
check "userbridge-client hands over a vnet_hdr tap" grep -q 'tap=tap[0-9]* vnet_hdr=1' <<<"$out"
check "daemon grants are logged with via=daemon" \
    grep -qE 'userbridged\[[0-9]+\]: event=grant user=ubalice uid=4711 peer_pid=[0-9]+ bridge="br0" tap=tap[0-9]+ mac=fe:[0-9a-f:]+ rule="[^"]+" via=daemon' "$SYSLOG"
refused "daemon denial, with the helper's words" "userbridge-client: userbridged: access to bridge br1 denied: no rule allows it" \
    as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br1
table 'allow br0\nallow br9\n'
refused "bridge missing" "userbridged: bridge br9 does not exist" \
    as_alice "$TT" daemon grant $D br9
# More groups than the daemon's first buffer holds (64): it asks the kernel
# again with room for all, and a rule for the last one decides.
table 'allow br0 group=4990\n'
many=$(seq -s, 4901 4990)
check "a caller in 90 groups is decided by its 90th" \
    grep -q '^tap=' <(setpriv --reuid=$BOB --regid=$BOB --groups="$many" -- "$TT" daemon grant $D br0)
refused "...and without it, denied" "access to bridge br0 denied" \
    setpriv --reuid=$BOB --regid=$BOB --groups="$(seq -s, 4901 4989)" -- "$TT" daemon grant $D br0
table 'allow br0\n'
# A caller whose user entry the daemon cannot read in full (past the
# lookups' 1 MiB): their groups come from the kernel, not the database, so
# nothing is decided on a guess; only the audit record lacks their name.
# The file is bound over /etc/passwd, so it is restored in place.
cp "$T/passwd" "$T/passwd.saved"
printf 'ubhuge:x:4799:4799:%s:/nonexistent:/usr/sbin/nologin\n' "$(head -c 1100000 /dev/zero | tr '\0' x)" >>"$T/passwd"
out=$(setpriv --reuid=4799 --regid=4799 --clear-groups -- "$TT" daemon grant $D br0 2>&1) || true
cat "$T/passwd.saved" >"$T/passwd"
check "a caller whose user entry is past the lookup bound is served" grep -q '^tap=' <<<"$out"
check "...and logged without a name" grep -qF 'event=grant user=? uid=4799' "$SYSLOG"
table 'allow br0\n'
refused "userbridge-client: bad --fd, nothing asked" "--fd=3 is a pipe, not a unix socket" \
    as_alice "$T/bin/ub-testtool" call pipe -- "$T/bin/userbridge-client" --fd=3 --br=br0

# --- Abuse ------------------------------------------------------------------
watch_links
refused "bad magic" "bad request: request has a bad magic" as_alice "$TT" daemon bad-magic $D
refused "unknown version" "protocol version 9 is not supported" as_alice "$TT" daemon bad-version $D
refused "oversized request" "bad request: request is longer than 96 bytes" as_alice "$TT" daemon oversize $D
check "truncated request, then gone" as_alice "$TT" daemon truncated $D
no_tap_ever
check "request sent, client gone before the reply: no tap leaks" as_alice "$TT" daemon grant-drop $D
sleep 0.3
check "...none" test -z "$(taps)"

stop_daemon
start_daemon --deadline-ms=1500 --max-per-uid=4
as_alice "$TT" daemon slow $D >"$T/slow" &
slow=$!
idle=()
for i in 1 2 3; do as_bob "$TT" daemon idle $D & idle+=($!); done
sleep 0.3
out=$(as_alice "$TT" daemon grant $D)
check "served while a slow client and idle clients hang on" grep -q '^tap=' <<<"$out"
as_bob "$TT" daemon idle $D & idle+=($!)
sleep 0.3
refused "per-uid connection cap" "too many open connections for uid 4712" as_bob "$TT" daemon grant $D
check "another uid is still served at the cap" grep -q '^tap=' <(as_alice "$TT" daemon grant $D)
wait $slow
check "the slow client was dropped at its deadline" grep -q 'dropped after [12] s' "$T/slow"
kill "${idle[@]}" 2>/dev/null || true
wait "${idle[@]}" 2>/dev/null || true
sleep 1.6  # the idle connections expire

# --- Faults inside the daemon's request path (test-only build) -------------
stop_daemon
for point in after-create after-setup after-no-ipv6 after-attach after-up; do
    UB_FAULT=fail@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    refused "daemon fail@$point" "userbridged: injected failure at $point" as_alice "$TT" daemon grant $D
    stop_daemon
    UB_FAULT=kill@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    refused "daemon killed at $point" "userbridged closed the connection without a full reply" \
        as_alice "$TT" daemon grant $D
    check "...the daemon is gone and its half-made tap with it" \
        bash -c "! kill -0 $DAEMON_PID 2>/dev/null && test -z \"\$(ip -o link show type tun)\""
    stop_daemon
done
# The kernel will not give the caller's groups: nothing is decided on a
# guess; the connection is closed, logged, and the daemon serves on.
UB_FAULT=fail@peer-groups DAEMON_BIN=$T/bin/faulty-daemon start_daemon
# The client finds the connection closed while sending or while reading,
# and says so in the same words either way.
refused "daemon: no caller groups, no answer" "userbridged closed the connection without a full reply" \
    as_alice "$TT" daemon grant $D
check "...logged" grep -q 'closed a connection whose caller the kernel would not name: injected failure at peer-groups' "$SYSLOG"
check "...and the daemon still runs" kill -0 "$DAEMON_PID"
stop_daemon
# A client that sent its request and closed before the daemon read it (held
# up here in accepting it) could take no reply: no tap is made for it, not
# even for a moment.
UB_FAULT=pause@peer-groups DAEMON_BIN=$T/bin/faulty-daemon start_daemon
watch_links
check "daemon: request sent, client gone before it was read" as_alice "$TT" daemon grant-drop $D
sleep 2.5  # the daemon's pause, then the request
no_tap_ever
stop_daemon
# Its seccomp profile: an exec in the request path kills the daemon (SIGSYS).
UB_FAULT=exec@after-create DAEMON_BIN=$T/bin/faulty-daemon start_daemon
refused "exec in the daemon's request path" "userbridged closed the connection without a full reply" \
    as_alice "$TT" daemon grant $D
rc=0
wait "$DAEMON_PID" || rc=$?
check "...killed by SIGSYS (exit $rc), no tap left" bash -c "[ $rc -eq 159 ] && [ -z \"\$(ip -o link show type tun)\" ]"
rm -f /run/userbridge.sock
UB_FAULT=kill@before-send DAEMON_BIN=$T/bin/faulty-daemon start_daemon
refused "daemon killed before sending" "userbridged closed the connection without a full reply" \
    as_alice "$TT" daemon grant $D
stop_daemon
UB_FAULT=kill@after-send DAEMON_BIN=$T/bin/faulty-daemon start_daemon
as_alice "$TT" daemon grant $D >/dev/null 2>&1 || true
check "daemon killed after sending: no tap once the client is gone" test -z "$(taps)"
stop_daemon
# The daemon holds its copies of the fds for 2 s after sending them: the
# client waits for its EOF, which comes after they are closed, so the
# client's own close is the tap's last and removes it (its teardown is
# never left to the daemon's serving thread).
UB_FAULT=pause@before-close DAEMON_BIN=$T/bin/faulty-daemon start_daemon
out=$(as_alice "$TT" daemon grant $D)
check "a client's close removes its tap: it waited for the daemon to close its copies" \
    grep -q 'gone-on-close=1' <<<"$out"
stop_daemon
start_daemon --max-per-uid=16

# --- Load: 1000 sequential, 16-way concurrent, memory flat ------------------
stop_daemon
start_daemon --max-per-uid=16
rss() { awk '/VmRSS/ {print $2}' /proc/$DAEMON_PID/status; }
as_alice "$T/bin/ub-bench" daemon $D br0 100 1 >/dev/null
rss100=$(rss)
check "1000 sequential grants, zero failures" as_alice "$T/bin/ub-bench" daemon $D br0 1000 1 >/dev/null
check "1000 grants from 16 concurrent clients, zero failures" \
    as_alice "$T/bin/ub-bench" daemon $D br0 1000 16 >/dev/null
rss2100=$(rss)
echo "    daemon RSS: $rss100 KiB after 100 grants, $rss2100 KiB after 2100"
if ldd "$T/bin/userbridged" | grep -q libasan; then
    echo "    (ASan build: its quarantine keeps freed memory, so flatness is checked in the ci build)"
else
    check "daemon memory flat (within 512 KiB)" test $((rss2100 - rss100)) -lt 512
fi
sleep 0.5
check "zero leaked taps" test -z "$(taps)"

# --- SIGSTOP and SIGCONT (job control, a debugger, a cgroup freeze) -------
# The kernel resumes the daemon's poll, which has a timeout, through
# restart_syscall: its seccomp filter must allow that.
kill -STOP $DAEMON_PID
sleep 0.3
kill -CONT $DAEMON_PID
sleep 0.3
check "SIGSTOP then SIGCONT: the daemon lives on" kill -0 $DAEMON_PID
check "...and grants" grep -q '^tap=' <(as_alice "$TT" daemon grant $D)

# --- SIGHUP with a bad ACL keeps the old one --------------------------------
acl 'allow br0\nbogus\n'
reload_daemon
check "bad new ACL refused and logged" grep -q 'new ACL refused, keeping the old one: /etc/qemu/bridge.conf:2' "$SYSLOG"
check "old ACL still in force" grep -q '^tap=' <(as_alice "$TT" daemon grant $D)
acl 'allow br0\n'

# --- The user database process stuck, then gone -----------------------------
# Stopped, it answers nothing: the client has its tap at once (the name is
# asked for after the reply), and so does the next (the daemon waits on no
# name); the records say user=? once their time is up, in the order they
# were made (a tap's expiry after its grant); after that, a lookup waits
# only 0.1 s until it answers again (a reload must not hold the daemon for a
# timeout per name). Continued, its late answers are told from the next
# one's.
UDB=$(pgrep -P "$DAEMON_PID")
kill -STOP "$UDB"
grants_before=$(grep -c 'event=grant' "$SYSLOG" || true)
check "user database process stopped: the client still has its tap" \
    grep -q '^tap=' <(as_alice "$TT" daemon grant $D)
second=$(as_alice "$TT" daemon grant $D | sed -n 's/^tap=\([a-z0-9]*\).*/\1/p')
check "...and so does the next client" test -n "$second"
check "...with neither record written yet" \
    test "$(grep -c 'event=grant' "$SYSLOG" || true)" -eq "$grants_before"
sleep 2.5
check "...which say user=? once their time is up" \
    bash -c "grep 'event=grant' '$SYSLOG' | tail -n2 | grep -c 'user=? uid=$ALICE ' | grep -qx 2"
check "...the tap's expiry after its grant" \
    bash -c "grep -n 'tap=$second ' '$SYSLOG' | cut -d: -f2- | grep -o 'event=[a-z]*' | tr '\n' ' ' |
             grep -qx 'event=grant event=expire '"
acl 'allow br0\nallow br1 user=ubalice\nallow br1 user=ubbob\nallow br1 group=ubvm\n'
reload_daemon
check "...an ACL reload then waits the full time for none of its names: each 'is not answering'" \
    bash -c "grep -q 'ACL: .*user ubalice: the user database is not answering' '$SYSLOG' &&
             grep -q 'ACL: .*user ubbob: the user database is not answering' '$SYSLOG' &&
             grep -q 'ACL: .*group ubvm: the user database is not answering' '$SYSLOG'"
acl 'allow br0\n'
kill -CONT "$UDB"
reload_daemon
as_bob "$TT" daemon grant $D >/dev/null
check "continued: the next record names its own caller, not the late answer's" \
    bash -c "grep 'event=grant' '$SYSLOG' | tail -n1 | grep -q 'user=ubbob uid=$BOB '"

# A record's name that comes while an ACL reload waits for its own lookups
# is read by the reload, and still the record's.
kill -STOP "$UDB"
as_alice "$TT" daemon grant $D >/dev/null
acl 'allow br0\nallow br1 user=ubbob\n'
kill -HUP "$DAEMON_PID"
sleep 0.5
kill -CONT "$UDB"
sleep 2.5
check "a name that came while a reload waited is its record's" \
    bash -c "grep 'event=grant' '$SYSLOG' | tail -n1 | grep -q 'user=ubalice uid=$ALICE '"
acl 'allow br0\n'
reload_daemon

# --- The user database process gone ----------------------------------------
# Nothing is decided without it: the daemon stops, non-zero, and its unit
# starts it again (userdb_kill.sh, with a request waiting meanwhile).
kill -KILL "$(pgrep -P "$DAEMON_PID")"
rc=timeout
for _ in $(seq 150); do kill -0 "$DAEMON_PID" 2>/dev/null || { rc=0; break; }; sleep 0.02; done
[ $rc = timeout ] || wait "$DAEMON_PID" || rc=$?
check "user database process killed: the daemon stops, non-zero" bash -c "[ $rc != timeout ] && [ $rc -ne 0 ]"
check "...saying why" grep -q 'the user database process is gone: stopping' "$SYSLOG"
stop_daemon
start_daemon

# --- Expiry records: one per tap, once it is gone ---------------------------
# The kernel also says RTM_DELLINK (family AF_BRIDGE) when a port leaves its
# bridge: that is not the tap going away.
expiries() { grep -c 'event=expire' "$SYSLOG" || true; }
before=$(expiries)
as_alice "$TT" daemon grant $D >/dev/null
sleep 0.3
check "a daemon-granted tap, closed: one expiry record" test $(($(expiries) - before)) -eq 1
before=$(expiries)
as_alice "$TT" call stream -- "$T/bin/setuid-helper" --vm=expiry --fd=3 --br=br0 >/dev/null
sleep 0.3
check "a helper-granted tap, closed: one expiry record" test $(($(expiries) - before)) -eq 1
before=$(expiries)
as_alice "$TT" call stream --hold=1500 -- "$T/bin/userbridge-client" --fd=3 --br=br0 >/dev/null &
holder=$!
for _ in $(seq 50); do [ -n "$(taps)" ] && break; sleep 0.02; done
ip link set "$(taps | head -n1)" nomaster
sleep 0.3
check "a daemon-granted tap taken off its bridge while held: no expiry record" test "$(expiries)" -eq "$before"
wait $holder
sleep 0.3
check "...and one once it is closed" test $(($(expiries) - before)) -eq 1

# --- userbridge run and libuserbridge pick the daemon when it is there ------
before=$(grep -c 'via=daemon' "$SYSLOG")
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

# --- Socket activation -------------------------------------------------------
# With systemd's notify socket too (the unit is Type=notify): a datagram
# socket of ours stands in for it, and must hear READY=1.
"$TT" syslog-sink "$T/work/notify" "$T/notified" &
BACKGROUND+=($!)
for _ in $(seq 50); do [ -S "$T/work/notify" ] && break; sleep 0.02; done
start_activated_daemon -E NOTIFY_SOCKET="$T/work/notify" "$T/bin/userbridged"
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0)
check "socket-activated daemon grants" grep -q '^tap=' <<<"$out"
check "...from the socket systemd passed" grep -q 'userbridged\[[0-9]*\]: event=grant' "$SYSLOG"
check "...and told systemd it is ready (READY=1 on NOTIFY_SOCKET)" grep -qx 'READY=1' "$T/notified"
stop_daemon

# --- Without root: its four capabilities (root-owned 0644 ACL files) --------
caps=+net_admin,+setuid,+setgid,+dac_read_search
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=$caps --ambient-caps=$caps \
    "$T/bin/userbridged" --socket="$T/work/ub.sock" 2>>"$T/daemon.err" &
nonroot=$!
BACKGROUND+=($nonroot)
for _ in $(seq 100); do [ -S "$T/work/ub.sock" ] && break; sleep 0.05; done
check "daemon as nobody with only its four capabilities grants" grep -q '^tap=' <(as_alice "$TT" daemon grant "$T/work/ub.sock")
check "...its user database process has no capability left" \
    bash -c "! grep -E '^Cap(Inh|Prm|Eff|Amb):' /proc/$(pgrep -P $nonroot)/status | grep -qEv ':\s0{16}$'"
kill $nonroot 2>/dev/null || true
wait $nonroot 2>/dev/null || true
refused "without CAP_SETUID it will not start: it could not read as its callers" \
    "needs CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID and CAP_DAC_READ_SEARCH" \
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin \
    "$T/bin/userbridged" --socket="$T/work/ub2.sock"
rm -f "$T/work/ub2.sock"

# --- Tap names: the daemon's own counter, never an existing interface -------
# tap0 is taken by a veth and tap1 by root's persistent tap: the daemon must
# skip both (IFF_TUN_EXCL), never attach to root's tap, and not hand out a
# name again soon after its tap is gone.
ip link add tap0 type veth peer name tap0-peer
ip tuntap add dev tap1 mode tap
start_daemon
out=$(as_alice "$TT" daemon grant $D br0)
check "the daemon names its first tap tap2, skipping tap0 (a veth) and tap1 (root's tap)" \
    grep -q '^tap=tap2 ' <<<"$out"
check "...root's persistent tap1 is untouched: not on a bridge, not ubalice's" \
    bash -c "! ip -d link show tap1 | grep -qE 'master|user ubalice|user $ALICE'"
out=$(as_alice "$TT" daemon grant $D br0)
check "the next tap is tap3: tap2's name is not reused at once" grep -q '^tap=tap3 ' <<<"$out"
stop_daemon
ip link del tap0
ip link del tap1
check "no tap left at the end" test -z "$(taps)"
finish
