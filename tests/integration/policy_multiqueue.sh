#!/bin/bash
# Multiqueue taps whose every queue carries frames, max-queues, and requests
# refused before anything is made (--queues=0, a bad VM name).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# --- multiqueue -------------------------------------------------------------
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    marker="mq-$mode-$RANDOM"
    pids=()
    for q in 0 1 2 3; do
        "$T/bin/ub-testtool" listen br0-peer "$marker-q$q" 6000 >/dev/null &
        pids+=($!)
    done
    sleep 0.3
    out=$(as_alice "$T/bin/ub-testtool" call stream --queues=4 --send="$marker" -- \
        "$helper" --use-vnet --queues=4 --fd=3 --br=br0)
    check "$mode: --queues=4 gives 4 fds of one multiqueue tap" grep -q 'queues=4' <<<"$out"
    for q in 0 1 2 3; do
        check "$mode: a frame through queue $q reaches the wire" wait "${pids[$q]}"
    done
done
refused "more queues than the rule's max-queues=4" \
    "access to bridge br0 denied: asked for 5 queues; /etc/qemu/bridge.conf:1 allows at most 4" \
    as_alice "$T/bin/ub-testtool" call stream --queues=5 -- "$setuid" --queues=5 --fd=3 --br=br0
refused "--queues=0 is refused before anything is made" "--queues=0: expected 1 to 64" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --queues=0 --fd=3 --br=br0
refused "a VM name with a space is refused" "may hold only letters, digits" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" "--vm=a b" --fd=3 --br=br0
check "multiqueue grants are logged with queues=4" \
    grep -qE 'event=grant user=ubalice .* queues=4 rule=' "$SYSLOG"

finish
