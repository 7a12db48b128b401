#!/bin/bash
# userbridged's user database process: names it does not know (a caller
# with no passwd entry, an ACL naming unknown users), the process stuck
# (with a request that waits for an account's groups, too), continued,
# and gone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon
UDB=$(pgrep -P "$DAEMON_PID")
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
check "...which say user=? once their time is up" \
    within 5 bash -c "grep 'event=grant' '$SYSLOG' | tail -n2 | grep -c 'user=? uid=$ALICE ' | grep -qx 2"
check "...the tap's expiry after its grant" \
    soon bash -c "grep -n 'tap=$second ' '$SYSLOG' | cut -d: -f2- | grep -o 'event=[a-z]*' | tr '\n' ' ' |
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
hups=$(grep -c 'SIGHUP' "$SYSLOG" || true)
kill -HUP "$DAEMON_PID"
sleep 0.5  # time passes: the reload gets to its lookups (no event marks it)
kill -CONT "$UDB"
within 5 bash -c "[ \$(grep -c SIGHUP '$SYSLOG') -gt $hups ]"
check "a name that came while a reload waited is its record's" \
    within 5 bash -c "grep 'event=grant' '$SYSLOG' | tail -n1 | grep -q 'user=ubalice uid=$ALICE '"
acl 'allow br0\n'
reload_daemon

# With a rule the account's groups in the group database bear on (a deny
# naming a group), a request waits for them: with the process stopped it
# is refused once the wait is over, fail-closed, and nothing is made;
# continued, the next is decided.
acl 'allow br0\ndeny br1 group=ubvm\n'
reload_daemon
kill -STOP "$UDB"
refused "user database stopped: a request its groups bear on is refused" \
    "did not answer within 2000 ms" as_bob "$TT" daemon grant $D
check "...and no tap is left" no_taps
kill -CONT "$UDB"
check "...continued: the next is granted" grep -q '^tap=' <(as_bob "$TT" daemon grant $D)

# A reload's own lookups (here the subordinate uids' owners) read the
# answers that come meanwhile, a waiting request's groups among them, which
# must still reach it: a cold review saw it refused once its 2 s were up.
printf 'ubbob:200000:65536\nubalice:300000:65536\n' >"$T/subids"
mount --bind "$T/subids" /etc/subuid
acl 'deny br0\n' other.conf 0640 root:ubvm
acl 'include other.conf\nallow br0\n'
reload_daemon
kill -STOP "$UDB"
as_bob "$TT" daemon grant $D >"$T/bob" 2>&1 &
bob=$!
sleep 0.3  # his request waits for his groups (no event marks it)
kill -HUP "$DAEMON_PID"
sleep 0.3  # the reload waits for its lookups
kill -CONT "$UDB"
wait $bob || true
check "a request that waited for its groups through a reload is granted ($(head -n1 "$T/bob"))" \
    grep -q '^tap=' "$T/bob"
umount /etc/subuid
rm -f /etc/qemu/other.conf
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

finish
