#!/bin/bash
# Faults inside the daemon's request path (the test-only build): failures
# and kills at every stage leave no tap; its seccomp profile kills an exec.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"

# --- Faults inside the daemon's request path (test-only build) -------------
for point in after-create after-setup after-no-ipv6 after-attach after-guard after-up; do
    UB_FAULT=fail@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    refused "daemon fail@$point" "userbridged: injected failure at $point" as_alice "$TT" daemon grant $D
    stop_daemon
    UB_FAULT=kill@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    refused "daemon killed at $point" "userbridged closed the connection without a full reply" \
        as_alice "$TT" daemon grant $D
    check "...the daemon is gone and its half-made tap with it" \
        soon bash -c "! kill -0 $DAEMON_PID 2>/dev/null && test -z \"\$(ip -o link show type tun)\""
    stop_daemon
done
# The same with a quota: the count is a step too.
acl 'allow br0\nallow br2 max-taps=3\n'
for point in after-create after-quota after-up; do
    UB_FAULT=fail@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    refused "quota rule: daemon fail@$point" "userbridged: injected failure at $point" \
        as_alice "$TT" daemon grant $D br2
    check "...no tap left" no_taps
    stop_daemon
    UB_FAULT=kill@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    refused "quota rule: daemon killed at $point" "userbridged closed the connection without a full reply" \
        as_alice "$TT" daemon grant $D br2
    check "...the daemon is gone and its tap with it" \
        soon bash -c "! kill -0 $DAEMON_PID 2>/dev/null && test -z \"\$(ip -o link show type tun)\""
    stop_daemon
done
acl 'allow br0\n'
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
sleep 2.5  # time passes: the daemon's injected 2 s pause, then the request
no_tap_ever
stop_daemon
# Its seccomp profile: an exec in the request path kills the daemon (SIGSYS).
UB_FAULT=exec@after-create DAEMON_BIN=$T/bin/faulty-daemon start_daemon
if wanted "exec in the daemon's request path"; then
    refused "exec in the daemon's request path" "userbridged closed the connection without a full reply" \
        as_alice "$TT" daemon grant $D
    rc=0
    wait "$DAEMON_PID" || rc=$?
    check "...killed by SIGSYS (exit $rc), no tap left" bash -c "[ $rc -eq 159 ] && [ -z \"\$(ip -o link show type tun)\" ]"
    rm -f /run/userbridge.sock
else
    stop_daemon  # another case alone (UB_CASE): nothing asked, nothing killed it
fi
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

# A lease whose tap could not be deleted as it ended is tried again a
# minute later, for the same reason, not at its own expiry an hour on (a
# cold review's finding: an unguarded pinned lease so outlived its end).
acl 'allow br0 lease=1h\n'
UB_FAULT=fail-once@end-lease DAEMON_BIN=$T/bin/faulty-daemon start_daemon
"${AS_ALICE[@]}" "$T/bin/userbridge" lease --br=br0 --name=fc5 --for=1h -- true >/dev/null 2>&1 || true
check "a lease whose deletion failed as its COMMAND ended is logged" \
    soon grep -q "could not end the lease fc5 (its connection closed): injected failure at end-lease" "$SYSLOG"
check "...the lease is still there" ip link show fc5
check "...the lease ended again within 70 s, not at its expiry an hour on" within 70 bash -c '! ip link show fc5 2>/dev/null'
check "...the lease's record gives the first reason" \
    soon grep -qE "event=expire .*tap=fc5.*the tap is gone \(its connection closed\)" "$SYSLOG"
stop_daemon
acl 'allow br0\n'

# A filtered rule: the tap's elements go in before it joins the bridge
# (after-pin). A failure after that leaves no tap, and the link monitor
# removes the elements with it; a daemon killed there leaves them to the
# next daemon's start.
acl 'allow br0 mac=52:54:00:12:34:56 servers=no rate=10mbit\n'
only_vlan_elements() {
    ! nft list sets bridge 2>/dev/null | sed -n '/^table bridge userbridge {/,/^}/p' | grep -v 8021q |
        grep -q 'elements = '
}
UB_FAULT=fail@after-pin DAEMON_BIN=$T/bin/faulty-daemon start_daemon
refused "daemon fail@after-pin, a filtered rule" "userbridged: injected failure at after-pin" \
    as_alice "$TT" daemon grant $D
check "...its elements went with the tap" soon only_vlan_elements
stop_daemon
UB_FAULT=kill@after-pin DAEMON_BIN=$T/bin/faulty-daemon start_daemon
refused "daemon killed at after-pin, a filtered rule" "userbridged closed the connection without a full reply" \
    as_alice "$TT" daemon grant $D
check "...no tap" soon test -z "$(taps)"
check "...its elements outlive it" fails only_vlan_elements
stop_daemon
start_daemon
check "...until the next daemon starts" only_vlan_elements
stop_daemon
nft delete table bridge userbridge 2>/dev/null || true  # none when a case ran alone

finish
