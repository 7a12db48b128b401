#!/bin/bash
# The grantee races her own helper for a tap without a record (review item
# 21-6). ubalice asks the production helper (setuid, then the
# file-capability copy) for a two-queue tap on br0, running it at
# SCHED_IDLE on her own CPU (scheduling policy and affinity survive a
# setuid or fcap exec). Her process watches rtnetlink; the moment the tap
# is hers on br0 (attach) or up on it (up), the wake-up preempts the helper
# inside that request, she joins a queue of the tap (she is its owner:
# tun_not_capable lets her) and SIGKILLs the helper. Its grant must be on
# record already: the tap is root's, and she cannot join it, until just
# before it comes up, after its record (review item 33-4).
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 max-queues=4\n'

# race HELPER up|attach MARKER: ubalice's race; her queue's name in $tap.
race() {
    local rc=0
    as_alice "$T/bin/ub-testtool" call stream --queues=2 --join-kill-on="$2" --send="$3" -- \
        "$T/bin/$1" --queues=2 --fd=3 --br=br0 >"$T/out" 2>"$T/err" || rc=$?
    tap=$(sed -n 's/^joined=//p' "$T/out")
    echo "    $1, $2: call exit $rc; $(tr '\n' ' ' <"$T/out") $(head -c 200 "$T/err")"
}

# listen_for_race: a new marker in $marker, and a listener on br0's peer
# for it (6 s), its pid in $listener.
listen_for_race() {
    marker=race$RANDOM$RANDOM
    "$T/bin/ub-testtool" listen br0-peer "$marker" 6000 >"$T/listener" &
    listener=$!
    listening "$T/listener"
}

for helper in setuid-helper fcap-helper; do
    before=$(wc -l <"$SYSLOG")
    got=$(as_alice "$T/bin/ub-testtool" call stream --queues=2 -- "$T/bin/$helper" --queues=2 --fd=3 --br=br0 |
        sed -nE 's/^tap=([^ ]+).*/\1/p')
    check "control, $helper: a grant ($got) is on record" \
        soon grep -q "event=grant .*tap=$got " <(tail -n +$((before + 1)) "$SYSLOG")

    listen_for_race
    before=$(wc -l <"$SYSLOG")
    race "$helper" up "$marker"
    check "$helper, up: she holds a queue of her tap, up on br0, and killed the helper ($tap)" test -n "$tap"
    check "$helper, up: the frames she writes into it cross br0" wait $listener
    check "$helper, up: her tap ($tap) is on record" \
        soon grep -q "event=grant .*tap=$tap " <(tail -n +$((before + 1)) "$SYSLOG")
    check "$helper, up: no tap left once she closed it" soon no_taps

    # Attached but not up: the tap is root's until the helper gives it to
    # her, after its record and just before it comes up (review item 33-4),
    # so she cannot hold a queue of it before its record, however the race
    # goes. (Before, she joined it there, and her kill left a tap on br0
    # with no grant on record.)
    early=""
    for try in 1 2 3; do
        listen_for_race
        before=$(wc -l <"$SYSLOG")
        race "$helper" attach "$marker"
        sleep 0.3  # the record, if the helper sent one, reaches the sink
        if [ -n "$tap" ] && ! grep -q "event=grant .*tap=$tap " <(tail -n +$((before + 1)) "$SYSLOG"); then
            early="$early $try"
        fi
        kill $listener 2>/dev/null || true
        wait $listener 2>/dev/null || true
        soon no_taps || true
    done
    check "$helper, attach: she never held a queue of her tap before its record (tries:${early:- none})" \
        test -z "$early"
    check "$helper, attach: no tap left once she closed it" soon no_taps
done

finish
