#!/bin/bash
# Review of item 21-6 (the helper records its grant before the hand-over):
# a working tap on the bridge with no record, taken by the grantee herself.
# ubalice asks the production helper (setuid, then file-capability copy)
# for a two-queue tap on br0, running it at SCHED_IDLE on her own CPU (the
# scheduling policy and affinity survive a setuid or fcap exec). Her
# process watches rtnetlink; the moment the helper sets the tap up on br0,
# the wake-up preempts the helper inside that request, she joins a queue
# of the tap (she is its owner: tun_not_capable lets her) and SIGKILLs the
# helper, which had not yet reached audit::record. She then writes frames
# into her queue. The last check of each pair fails while the attack works.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 max-queues=4\n'

for helper in setuid-helper fcap-helper; do
    # Control: a grant let through records its tap.
    before=$(wc -l <"$SYSLOG")
    got=$(as_alice "$T/bin/ub-testtool" call stream --queues=2 -- "$T/bin/$helper" --queues=2 --fd=3 --br=br0 |
        sed -nE 's/^tap=([^ ]+).*/\1/p')
    check "control, $helper: a grant ($got) is on record" \
        soon grep -q "event=grant .*tap=$got " <(tail -n +$((before + 1)) "$SYSLOG")
    marker=race$RANDOM$RANDOM
    "$T/bin/ub-testtool" listen br0-peer "$marker" 6000 >"$T/listener" &
    listener=$!
    listening "$T/listener"
    before=$(wc -l <"$SYSLOG")
    rc=0
    as_alice "$T/bin/ub-testtool" call stream --queues=2 --join-kill-on-up --send="$marker" -- \
        "$T/bin/$helper" --queues=2 --fd=3 --br=br0 >"$T/out" 2>"$T/err" || rc=$?
    tap=$(sed -n 's/^joined=//p' "$T/out")
    echo "    $helper: call exit $rc; $(tr '\n' ' ' <"$T/out") $(head -c 200 "$T/err")"
    check "$helper: she holds a queue of her tap, up on br0, and killed the helper ($tap)" test -n "$tap"
    check "$helper: the frames she writes into it cross br0" wait $listener
    sleep 0.3  # the syslog sink
    echo "    $helper: records since: $(tail -n +$((before + 1)) "$SYSLOG" | grep -c . || true)"
    tail -n +$((before + 1)) "$SYSLOG" | sed 's/^/    syslog: /'
    check "$helper: her tap ($tap) is on record" \
        grep -q "tap=$tap " <(tail -n +$((before + 1)) "$SYSLOG")
    check "$helper: no tap left once she closed it" soon no_taps
done

finish
