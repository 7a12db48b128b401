#!/bin/bash
# Review item 21-5: a failed grant leaves no tap. Once a multiqueue tap has
# its owner, the kernel lets the owner's uid attach a queue of its own
# (drivers/net/tun.c, tun_not_capable), and that queue keeps the tap alive
# when our fds close. ubalice, the grantee, makes her own grant fail after
# the tap is made (she hangs up before the hand-over, which the
# fault-injection builds hold back 2 s) and joins the tap meanwhile
# (`ub-testtool join-own`). Nothing of the request may be left: no tap, on
# the bridge or off it, a record that says event=error, and (userbridged,
# which counts quotas) her quota of one tap still free.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 group=ubvm max-queues=2\n'  # the helper's; userbridged's adds max-taps=1
TT=$T/bin/ub-testtool
install -m 0755 "$UB_BUILD_DIR/userbridge-helper-faulty" "$T/bin/faulty-fcap"
setcap cap_net_admin+ep "$T/bin/faulty-fcap"

# failed_grant NAME AGAIN -- CMD...: CMD, a grant of 2 queues that fails
# after its tap is made, while ubalice's joiner runs; AGAIN, a command
# taking one tap for her (under userbridged the quota is one), must still
# be granted.
# grant_then_error BEFORE: the records of the queues=2 request after line
# BEFORE of the syslog are a grant, then an error, for one tap.
grant_then_error() {
    tail -n +$(($1 + 1)) "$SYSLOG" | grep 'queues=2' |
        sed -nE 's/.*event=([a-z]+) .* tap=(tap[0-9]+) .*/\1 \2/p' >"$T/events"
    [ "$(cut -d' ' -f1 "$T/events" | tr '\n' ' ')" = "grant error " ] &&
        [ "$(cut -d' ' -f2 "$T/events" | uniq | wc -l)" = 1 ]
}
failed_grant() {
    local name=$1 again=$2 rc=0 before
    shift 3
    before=$(wc -l <"$SYSLOG")
    start_tool_as $ALICE join-own 30000
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    # The daemon's record is written once the user database named her.
    within 5 bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep -q 'queues=2'" || true
    tail -n +$((before + 1)) "$SYSLOG" | grep 'queues=2' | sed 's/^/    /'
    echo "    the caller: exit $rc $(head -c 200 "$T/err")"
    check "$name: ubalice joined its tap meanwhile ($(tr '\n' ' ' <"$T/attacker"))" grep -q '^JOINED tap' "$T/attacker"
    # Looked at while her queue is still held: it alone would keep the tap.
    check "$name: no tap of the request left in /sys/class/net ($(taps | tr '\n' ' '))" \
        test -z "$(ls /sys/class/net | grep '^tap' || true)"
    check "$name: nothing on br0" fails on_bridge br0
    check "$name: recorded as event=error" \
        bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep 'queues=2' | grep -q 'event=error'"
    # The helpers record a grant before the fds go (their caller could kill
    # them right after: helper_faults.sh), so the error record follows it,
    # for the same tap; the daemon, which no caller can kill, records only
    # what it handed over.
    case $name in
    faulty-*)
        check "$name: the grant recorded before the hand-over is followed by an error for its tap" \
            grant_then_error "$before" ;;
    *)
        check "$name: not recorded as a grant" \
            fails bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep 'queues=2' | grep -q 'event=grant'" ;;
    esac
    check "$name: her quota of one tap is not consumed" $again
    stop_attacker
    check "$name: no tap left" soon no_taps
}

# The helpers: the caller closes its socket after 1 s; the faulty build
# pauses 2 s before it sends, then finds the socket closed.
for bin in faulty-helper faulty-fcap; do
    failed_grant "$bin" "as_alice $TT call stream -- $T/bin/setuid-helper --fd=3 --br=br0" -- \
        as_alice env UB_FAULT=pause@before-send "$TT" call stream --close-after=1000 --queues=2 -- \
        "$T/bin/$bin" --queues=2 --fd=3 --br=br0
done

# ATTACK (review of item 21-5; fails until the helper deletes the tap
# before it reports a failed hand-over): the real setuid and fcap helpers,
# no fault build, no race. ubalice hands the helper a socket she has shut
# down for writing (its send fails with EPIPE; check_socket sees no
# POLLHUP) and, as stderr, a pipe she filled and never reads. run() records
# event=error, then blocks in fail()'s write to stderr, before `granted`
# (and with it TapUndo) goes: the labelled tap stays on br0, up. She joins
# it and, as its uid, SIGKILLs the helper: she keeps the tap, under a
# record that says event=error.
# stuck_helper HELPER: prints the helper's pid; holds the pipe and her
# other end for 20 s.
stuck_helper() {
    as_alice perl -MSocket -MFcntl -MPOSIX -e '
        $^F = 255;  # no close-on-exec: fd 3 is $s itself
        socketpair(my $s, my $peer, AF_UNIX, SOCK_STREAM, 0) or die "socketpair: $!";
        shutdown($s, 1) or die "shutdown: $!";
        pipe(my $r, my $w) or die "pipe: $!";
        my $fl = fcntl($w, F_GETFL, 0);
        fcntl($w, F_SETFL, $fl | O_NONBLOCK);
        1 while syswrite($w, "x" x 4096);
        1 while syswrite($w, "x");
        fcntl($w, F_SETFL, $fl);
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            POSIX::dup2(fileno($s), 3); POSIX::dup2(fileno($w), 2);
            exec(@ARGV) or POSIX::_exit(127);
        }
        $| = 1; print "helper=$pid\n";
        sleep 20;' -- "$@"
}
# dead PID: PID has exited (a zombie holds no fds).
dead() { local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -z "$s" ] || [ "$s" = Z ]; }
for bin in setuid-helper fcap-helper; do
    before=$(wc -l <"$SYSLOG")
    start_tool_as $ALICE join-own 30000
    stuck_helper "$T/bin/$bin" --queues=2 --fd=3 --br=br0 >"$T/stuck" 2>&1 &
    launcher=$!
    within 5 bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep 'queues=2' | grep -q 'event=error'" || true
    within 3 grep -q '^JOINED tap' "$T/attacker" || true
    hpid=$(sed -n 's/^helper=//p' "$T/stuck")
    tail -n +$((before + 1)) "$SYSLOG" | grep 'queues=2' | sed 's/^/    /'
    echo "    helper $hpid: $(cat /proc/$hpid/wchan 2>/dev/null), taps: $(taps | tr '\n' ' '), ubalice: $(tr '\n' ' ' <"$T/attacker")"
    check "stuck $bin: recorded as event=error" \
        bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep 'queues=2' | grep -q 'event=error'"
    check "stuck $bin: no tap on br0 once event=error is recorded" fails on_bridge br0
    [ -z "$hpid" ] || as_alice kill -KILL "$hpid" 2>/dev/null || true
    within 3 dead "$hpid" || true
    check "stuck $bin: no tap on br0 after ubalice killed her helper ($(taps | tr '\n' ' '))" \
        fails on_bridge br0
    stop_attacker
    kill "$launcher" 2>/dev/null || true
    wait "$launcher" 2>/dev/null || true
    check "stuck $bin: no tap left" soon no_taps
done

# A refusal after the tap is made is one too: with her one tap held, the
# quota count refuses a second, which she tries to join while the faulty
# daemon pauses after labelling it (the engine's code; only userbridged
# counts quotas). It is root's until its filters are in and it is given to
# her, just before it comes up (review item 33-4): she cannot.
acl 'allow br0 group=ubvm max-queues=2 max-taps=1\n'
UB_FAULT=pause@after-setup DAEMON_BIN=$T/bin/faulty-daemon start_daemon
as_alice "$TT" call stream --hold=8000 -- "$T/bin/userbridge-client" --fd=3 --br=br0 >"$T/held" 2>&1 &
holder=$!
within 5 grep -q '^tap=' "$T/held" || true
held=$(taps)
start_tool_as $ALICE join-own 30000
as_alice "$TT" call stream --queues=2 -- \
    "$T/bin/userbridge-client" --queues=2 --fd=3 --br=br0 >"$T/out" 2>"$T/err" || true
check "quota refusal: refused ($(head -c 120 "$T/err"))" grep -q 'quota reached' "$T/err"
check "quota refusal: ubalice could not join the tap, still root's ($(tr '\n' ' ' <"$T/attacker"))" \
    fails grep -q '^JOINED tap' "$T/attacker"
check "quota refusal: only her granted tap is left ($(taps | tr '\n' ' '))" test "$(taps)" = "$held"
stop_attacker
wait "$holder"
check "quota refusal: no tap left" soon no_taps
stop_daemon

# userbridged: the client leaves half a second after its request; the
# faulty daemon pauses 2 s before it sends the reply, which then fails.
UB_FAULT=pause@before-send DAEMON_BIN=$T/bin/faulty-daemon start_daemon
failed_grant "userbridged" "as_alice $TT call stream -- $T/bin/userbridge-client --fd=3 --br=br0" -- \
    as_alice "$TT" daemon grant-late-drop /run/userbridge.sock br0 2
stop_daemon
finish
