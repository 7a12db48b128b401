#!/bin/bash
# max-taps= is userbridged's (userbridge-acl(5)): the helper refuses every
# request a max-taps= rule decides, as it refuses the traffic filters, and
# never falls through to a less specific rule; userbridged keeps the quota
# under 16 concurrent requests (exactly the quota granted, the rest refused
# with a clear message and logged, room again once a holder's fds close).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"
quota_acl

# --- the helper refuses a max-taps= rule --------------------------------------
# Before max-taps= was daemon-only, the helper counted quotas itself, under
# a lock any of its callers could stop it holding.
watch_links
for helper in "$setuid" "$fcap"; do
    refused "the helper refuses allow br0 max-taps=2 ($(basename "$helper"))" \
        "/etc/qemu/bridge.conf:1 asks for max-taps=, which only userbridged does: use userbridge-client" \
        as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0
    st=0
    as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0 >/dev/null 2>&1 || st=$?
    check "...with the exit status of a refusal that needs userbridged (13, got $st)" test "$st" -eq 13
done
# Fail closed: the most specific rule decides, and its quota is not dropped
# for a looser rule that would grant without one.
acl 'allow br0 user=ubalice max-taps=1\nallow all\nallow br0 group=ubvm\n'
refused "the helper does not fall through to a less specific rule" "asks for max-taps=" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0
no_tap_ever
check "the helper never takes a quota lock" test -z "$(grep ubq "$T/monitor" || true)"
check "the refusal is logged" \
    grep -qE 'event=deny user=ubalice .* bridge="br0" rule="/etc/qemu/bridge.conf:1" via=helper detail=".*asks for max-taps=' "$SYSLOG"
# A value that swallowed the next option (a comma for a space) is no value,
# in every program: the rule's user= is never lost.
acl 'allow br0 max-taps=1,user=ubbob\n'
refused "a max-taps= value with '=' in it is a parse error" "not a value (a space missing" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0
quota_acl

# --- max-taps=2 under 16 concurrent requests, through userbridged -----------
start_daemon --max-per-uid=32  # all 16 at once: the quota, not the connection bound, refuses
on_br0() { ip -o link show master br0 type tun 2>/dev/null | grep -c . || true; }
rm -f "$T"/q.*
pids=()
for i in $(seq 16); do
    as_alice "$T/bin/ub-testtool" call stream --hold=2500 -- "$client" --fd=3 --br=br0 \
        >"$T/q.$i.out" 2>"$T/q.$i.err" &
    pids+=($!)
done
most=0
for _ in $(seq 60); do
    n=$(on_br0)
    if [ "$n" -gt "$most" ]; then most=$n; fi
    sleep 0.05  # a sample every 50 ms while the requests race: time passes
done
wait "${pids[@]}" || true
granted=$(cat "$T"/q.*.out | grep -c 'tap=tap' || true)
denied=$(cat "$T"/q.*.err "$T"/q.*.out | grep -c 'quota reached: you hold' || true)
check "daemon: exactly 2 of 16 concurrent requests granted (got $granted)" test "$granted" -eq 2
check "daemon: the other 14 denied with a clear message (got $denied)" test "$denied" -eq 14
check "daemon: never more than 2 taps on br0 (most seen: $most)" test "$most" -le 2
check "daemon: all gone when the holders exit" soon no_taps
check "quota denials are logged" soon \
    grep -qE 'event=deny user=ubalice .* bridge="br0" rule="/etc/qemu/bridge.conf:1" via=daemon detail="quota reached' "$SYSLOG"

# Two held; a third is refused; once one holder's fds close, there is room.
as_alice "$T/bin/ub-testtool" call stream --hold=4000 -- "$client" --fd=3 --br=br0 >"$T/h1" &
h1=$!
as_alice "$T/bin/ub-testtool" call stream --hold=1500 -- "$client" --fd=3 --br=br0 >"$T/h2" &
h2=$!
granted "$T/h1" && granted "$T/h2"
refused_keep() { "$@" >"$T/out" 2>"$T/err" && return 1; grep -q 'quota reached' "$T/err"; }
check "a third tap while two are held is refused" \
    refused_keep as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0
wait $h2
check "after one holder exits, the quota has room again" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0)
wait $h1

# --- links made outside userbridged an instant before a grant count -------
# userbridged counts against its index of live links, which follows the
# kernel's link events and reads every queued one before a grant's checks.
# Another process (root here, in a helper's steps: label, bridge, up, each
# its own request) makes a link, and the grant follows with no pause.
outside() {  # NAME BRIDGE LABEL
    ip link add "$1" type veth peer name "$1p" && ip link set "$1" alias "$3" &&
        ip link set "$1" master "$2" && ip link set "$1" up
}
outside ubx0 br0 "userbridge uid=$ALICE queues=1"
outside ubx1 br0 "userbridge uid=$ALICE queues=1"
check "two links labelled ubalice's on br0 just before: her grant there is refused" \
    refused_keep as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0
ip link del ubx1
check "...and granted the instant one is deleted" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0)
outside ubx2 br2 "userbridge uid=$ALICE vm=old mac=$pinned queues=1"
refused "a guest MAC pinned to a link made just before is refused" "guest MAC $pinned is already pinned to ubx2" \
    as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br3
ip link del ubx0
ip link del ubx2
check "...and granted the instant that link is deleted" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br3)
stop_daemon

finish
