#!/bin/bash
# Second outside review: attacks on the fixes of the first.
#
# A queue holder's changes outlive its queue. Between TUNSETIFF and
# TUNSETOWNER a new multiqueue tap has no owner and anyone may attach a
# queue (review item 1). The grant counts queues after TUNSETOWNER and
# deletes a tap another process still holds; but whoever attached and let
# go before that count changed the whole device on its way, as any queue's
# holder may without privilege (drivers/net/tun.c, __tun_chr_ioctl): its MAC
# (SIOCSIFHWADDR), a classic BPF filter on every queue (TUNATTACHFILTER),
# the receive filter (TUNSETTXFILTER). Those stay when its queue is closed.
# Here ubbob, whom the ACL denies, does that to ubalice's tap, in the
# fault-injection builds' two-second pause before TUNSETOWNER. The grant
# must either fail (the tap deleted) or hand ubalice a tap carrying nothing
# of ubbob's: frames from the wire reach her "VM", and the tap's port MAC
# is not one ubbob chose.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 group=ubvm max-queues=4\n'
TT=$T/bin/ub-testtool

# victim NAME CMD...: ubalice's grant (CMD, with --fd=3) while ubbob
# attacks; frames from the wire are sent to it meanwhile.
victim() {
    local name=$1 marker="to-alice-$RANDOM"
    shift
    start_attacker 60000 daemon:9999999 leave
    # A frame every 0.5 s while the attack runs: time passes.
    ( for _ in $(seq 16); do sleep 0.5; "$TT" send br0-peer "$marker" >/dev/null 2>&1; done ) &
    local sender=$!
    # Held 3 s after its frame came: long enough for the MAC to be read
    # below on a slow machine.
    as_alice "$TT" call stream --queues=2 --expect="$marker" --hold=3000 -- "$@" >"$T/victim" 2>&1 &
    local call=$!
    local tap=""
    for _ in $(seq 150); do
        tap=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/victim")
        [ -n "$tap" ] && break
        sleep 0.05
    done
    local mac=""
    # (|| true: were the tap gone already, errexit would end the script
    # here without a word; the check below then fails on the empty MAC.)
    [ -n "$tap" ] && mac=$(ip -o link show "$tap" 2>/dev/null | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2 || true)
    local rc=0
    wait $call || rc=$?
    kill $sender 2>/dev/null || true
    wait $sender 2>/dev/null || true
    stop_attacker
    echo "    $name: grant exit $rc, tap ${tap:-none}, port MAC ${mac:-?}; attacker: $(grep -v ready "$T/attacker" | sort | uniq -c | tr -s ' \n' ' ')"
    sed 's/^/    victim: /' "$T/victim"
    check "$name: ubbob let go of a queue of the tap before its owner was set" grep -q '^LEFT' "$T/attacker"
    if [ -n "$tap" ]; then
        check "$name: the tap's port MAC is not the one ubbob chose" test -n "$mac" -a "$mac" != "fe:de:ad:be:ef:01"
        check "$name: frames from the wire reach ubalice's VM (no filter of ubbob's)" test "$rc" -eq 0
    else
        check "$name: the grant was refused, and said why" grep -q 'another process' "$T/victim"
    fi
    check "$name: no tap left" test -z "$(taps)"
}

victim "helper" /usr/bin/env UB_FAULT=pause@before-owner "$T/bin/faulty-helper" --queues=2 --fd=3 --br=br0
UB_FAULT=pause@before-owner DAEMON_BIN=$T/bin/faulty-daemon start_daemon
victim "daemon" "$T/bin/userbridge-client" --queues=2 --fd=3 --br=br0
stop_daemon

# The same race without the pause: ubbob on the daemon's next names while
# ubalice takes 20 four-queue taps (on the code before, 5 of 18 granted
# taps had the port MAC ubbob chose).
start_daemon
start_attacker 60000 daemon:0 leave
for i in $(seq 20); do
    as_alice "$TT" call stream --queues=4 -- "$T/bin/userbridge-client" --queues=4 --fd=3 --br=br0 \
        >>"$T/race.out" 2>>"$T/race.err" || true
done
stop_attacker
stop_daemon
echo "    race: ubbob left $(grep -c '^LEFT' "$T/attacker") tap(s); $(grep -c '^tap=' "$T/race.out") of 20 granted," \
    "$(grep -c 'another process' "$T/race.err") refused for an intruder"
check "race: no granted tap has the port MAC ubbob chose" \
    bash -c "! grep 'event=grant' '$SYSLOG' | grep -q 'fe:de:ad:be:ef:01'"
check "race: no tap left" test -z "$(taps)"

# One user holds the daemon's connection limit through subordinate uids.
# Debian gives each account 65,536 of them (/etc/subuid); with newuidmap
# (package uidmap) its processes run as any of them in a user namespace it
# makes, and SO_PEERCRED names each to the daemon as a uid of its own.
# ubbob's 40 subordinate uids open 8 idle connections each (320, above the
# limit of 256 for everyone), and ubalice asks for her tap meanwhile.
if command -v newuidmap >/dev/null && [ -e /etc/subuid ] && unshare --help | grep -- --map-auto >/dev/null; then
    printf 'ubbob:200000:65536\nubalice:300000:65536\n' >"$T/subids"
    mount --bind "$T/subids" /etc/subuid
    [ -e /etc/subgid ] && mount --bind "$T/subids" /etc/subgid
    start_daemon
    cat >"$T/subflood.sh" <<EOF2
for u in \$(seq 1 40); do
    for k in \$(seq 8); do
        setpriv --reuid=\$u --regid=\$u --clear-groups -- $TT daemon idle /run/userbridge.sock >/dev/null 2>&1 &
    done
done
wait
EOF2
    as_bob timeout 10 unshare --user --map-auto --map-root-user -- bash "$T/subflood.sh" &
    SUBFLOOD=$!
    BACKGROUND+=($SUBFLOOD)
    # Once one is refused, ubbob's subordinate uids hold all he may.
    within 5 grep -q "refused a connection from uid $BOB: too many open connections" "$SYSLOG" || true
    check "subuids: ubalice is granted her tap while ubbob's subordinate uids hold connections" \
        as_alice "$TT" daemon grant /run/userbridge.sock br0
    check "subuids: ubbob's subordinate uids were refused as ubbob (uid $BOB)" \
        grep -q "refused a connection from uid $BOB: too many open connections" "$SYSLOG"
    wait $SUBFLOOD 2>/dev/null || true
    stop_daemon

    # Their processes keep her groups (group=ubvm), so the ACL allows each
    # subordinate uid of ubalice's; its quota must still be hers.
    acl 'allow br0 group=ubvm max-taps=1\n'
    start_daemon
    as_alice "$TT" call stream --hold=4000 -- "$T/bin/userbridge-client" --fd=3 --br=br0 >"$T/held" &
    HOLDER=$!
    granted "$T/held"
    cat >"$T/subquota.sh" <<EOF2
for u in 1 2 3; do
    setpriv --reuid=\$u --regid=\$u --keep-groups -- $TT call stream --hold=2500 -- \\
        $T/bin/userbridge-client --fd=3 --br=br0 >/dev/null 2>&1 &
done
wait
EOF2
    as_alice timeout 8 unshare --user --map-auto --map-root-user -- bash "$T/subquota.sh" &
    SUBQUOTA=$!
    sleep 1.5  # time passes: the subordinate uids ask, and would be granted within it
    check "subuids: ubalice holds no more than max-taps=1 tap through her subordinate uids ($(taps | wc -l) live)" \
        test "$(taps | wc -l)" -eq 1
    wait $SUBQUOTA $HOLDER 2>/dev/null || true
    stop_daemon
    check "subuids: no tap left" test -z "$(taps)"
else
    echo "    subuids: skipped (needs newuidmap, /etc/subuid and unshare --map-auto)"
fi
finish
