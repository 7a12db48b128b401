#!/bin/bash
# max-taps under 16 concurrent requests, through the setuid and the
# file-capability helper: exactly the quota granted, the rest refused with a
# clear message and logged, and room again once a holder's fds close.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# --- max-taps=2 under 16 concurrent requests ------------------------------
on_br0() { ip -o link show master br0 type tun 2>/dev/null | grep -c . || true; }
quota_round() {
    local helper=$1 tag=$2 i
    rm -f "$T"/q.*
    local pids=()
    for i in $(seq 16); do
        as_alice "$T/bin/ub-testtool" call stream --hold=2500 -- "$helper" --fd=3 --br=br0 \
            >"$T/q.$i.out" 2>"$T/q.$i.err" &
        pids+=($!)
    done
    local most=0 n
    for _ in $(seq 60); do
        n=$(on_br0)
        if [ "$n" -gt "$most" ]; then most=$n; fi
        sleep 0.05
    done
    wait "${pids[@]}" || true
    local granted denied
    granted=$(cat "$T"/q.*.out | grep -c 'tap=tap' || true)
    denied=$(cat "$T"/q.*.err "$T"/q.*.out | grep -c 'quota reached: you hold' || true)
    check "$tag: exactly 2 of 16 concurrent requests granted (got $granted)" test "$granted" -eq 2
    check "$tag: the other 14 denied with a clear message (got $denied)" test "$denied" -eq 14
    check "$tag: never more than 2 taps on br0 (most seen: $most)" test "$most" -le 2
    check "$tag: all gone when the holders exit" test -z "$(taps)"
}
quota_round "$setuid" "setuid"
quota_round "$fcap" "fcap"
check "quota denials are logged" \
    grep -qE 'event=deny user=ubalice .* bridge="br0" rule="/etc/qemu/bridge.conf:1" via=helper detail="quota reached' "$SYSLOG"

# Two held; a third is refused; once one holder's fds close, there is room.
as_alice "$T/bin/ub-testtool" call stream --hold=4000 -- "$setuid" --fd=3 --br=br0 >/dev/null &
h1=$!
as_alice "$T/bin/ub-testtool" call stream --hold=1500 -- "$setuid" --fd=3 --br=br0 >/dev/null &
h2=$!
sleep 0.7
refused_keep() { "$@" >"$T/out" 2>"$T/err" && return 1; grep -q 'quota reached' "$T/err"; }
check "a third tap while two are held is refused" \
    refused_keep as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0
wait $h2
check "after one holder exits, the quota has room again" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0)
wait $h1

finish
