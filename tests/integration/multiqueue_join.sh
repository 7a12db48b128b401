#!/bin/bash
# Review item 1: a third party joins a victim's multiqueue tap. A new
# multiqueue tap has no owner until TUNSETOWNER, and the kernel lets anyone
# attach a queue to an unowned one (drivers/net/tun.c, tun_not_capable). An
# attacker the ACL denies (ubbob) spins TUNSETIFF IFF_MULTI_QUEUE on the
# names the daemon and the helper use next, and on every tap rtnetlink
# announces, while ubalice takes multiqueue taps. It must never hold a queue
# of a granted tap: each grant either leaves it out or fails, deleting the
# tap, with nothing left behind.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 group=ubvm max-queues=4\n'
TT=$T/bin/ub-testtool

# attack NAME ROUNDS PREDICT CMD...: the attacker runs while ubalice runs
# `ub-testtool call stream CMD...` ROUNDS times; then what it got, and what
# the grants did.
attack() {
    local name=$1 rounds=$2
    rm -f "$T"/g.*
    start_attacker 120000 "$3"
    shift 3
    for i in $(seq "$rounds"); do
        as_alice "$TT" call stream "$@" >"$T/g.$i.out" 2>"$T/g.$i.err" || true
    done
    sleep 0.5  # time passes: the attacker settles what it holds: up, deleted, or never up
    # Taps are looked at while the attacker still runs: a queue it holds
    # would keep a tap alive that our own fds' close did not remove.
    check "$name: no tap left" test -z "$(taps)"
    stop_attacker
    local joined granted intruded
    joined=$( (grep '^JOINED' "$T/attacker" || true) | sort -u | wc -l)
    granted=$(cat "$T"/g.*.out | grep -c '^tap=' || true)
    intruded=$(cat "$T"/g.*.err | grep -c 'another process hol' || true)
    echo "    $name: $granted of $rounds granted, $intruded refused for an intruder;" \
        "the attacker got $(grep -c '^JOINED\|^EVICTED\|^HELD' "$T/attacker" || true) queue(s)"
    (grep -v ready "$T/attacker" || true) | sort | uniq -c | head -5 | sed 's/^/    attacker: /'
    check "$name: the attacker held a queue of no granted tap ($joined of $rounds)" test "$joined" -eq 0
    check "$name: every grant was whole or refused for the intruder" \
        test $((granted + intruded)) -eq "$rounds"
    (cat "$T"/g.*.err | grep -v 'another process hol' || true) | sed 's/^/    other error: /'
}

start_daemon
attack "daemon" 12 daemon:0 --queues=2 -- "$T/bin/userbridge-client" --queues=2 --fd=3 --br=br0
stop_daemon
attack "setuid helper" 12 helper --queues=4 -- "$T/bin/setuid-helper" --queues=4 --fd=3 --br=br0
attack "fcap helper" 12 helper --queues=2 -- "$T/bin/fcap-helper" --queues=2 --fd=3 --br=br0

# The refusal path, for certain: the fault-injection builds pause 2 s
# between making a multiqueue tap and setting its owner, and the attacker
# joins it then, from rtnetlink's announcement. The grant must fail, and
# the tap go although the attacker still holds a queue of it.
start_attacker 120000 daemon:9999999
refused "helper: a tap joined before its owner was set is deleted" \
    "another process holds 1 queue(s) of tap" \
    as_alice env UB_FAULT=pause@before-owner "$TT" call stream --queues=2 -- \
    "$T/bin/faulty-helper" --queues=2 --fd=3 --br=br0
UB_FAULT=pause@before-owner DAEMON_BIN=$T/bin/faulty-daemon start_daemon
refused "daemon: a tap joined before its owner was set is deleted" \
    "another process holds 1 queue(s) of tap" \
    as_alice "$TT" call stream --queues=2 -- "$T/bin/userbridge-client" --queues=2 --fd=3 --br=br0
stop_daemon
check "the attacker lost its queues of both taps to the deletion, and kept none" \
    soon bash -c "test \"\$(grep '^EVICTED' '$T/attacker' | sort -u | wc -l)\" -eq 2 && ! grep -q '^JOINED\|^HELD' '$T/attacker'"
stop_attacker

check "grants refused for an intruder are logged as errors" \
    bash -c "grep 'another process hol' '$SYSLOG' | grep -q 'event=error' &&
             ! grep 'another process hol' '$SYSLOG' | grep -qv 'event=error'"
finish
