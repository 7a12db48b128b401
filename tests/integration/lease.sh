#!/bin/bash
# Leases (issue 23, part 3): `userbridge lease` makes a persistent tap owned
# by its caller on a bridge, for a VMM that opens a tap by name
# (Firecracker); `userbridge release`, its expiry, or the end of its
# COMMAND ends it. Attacks: ubbob opens ubalice's leased tap by name (the
# kernel's owner check must refuse him), releases it, leases with no lease=
# rule; ubalice leases beyond max-taps, under the name of an existing
# interface or of a quota lock, gives her lease away (TUNSETOWNER: the
# daemon must remove it), and her COMMAND-mode CLI is SIGKILLed (the lease
# must end with it).
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob\n'
UB=$T/bin/userbridge
TT=$T/bin/ub-testtool
start_daemon

lease_of() { ip -d link show "$1" 2>/dev/null; }
gone() { ! ip link show "$1" >/dev/null 2>&1; }
record() { grep -E "$1" "$SYSLOG"; }

# --- a lease, and a VMM that opens it by name ----------------------------------
check "alice leases fc0 on br0" bash -c '[ "$("$@")" = fc0 ]' _ "${AS_ALICE[@]}" "$UB" lease --br=br0 --name=fc0 --for=10m
info=$(lease_of fc0 || true)
# tun_flags: IFF_TAP 0x0002, IFF_NO_PI 0x1000, IFF_VNET_HDR 0x4000, IFF_PERSIST 0x0800.
sysfs() { cat "/sys/class/net/$1/$2" 2>/dev/null || echo none; }
check "fc0 is a persistent tap, IFF_NO_PI|IFF_VNET_HDR" test "$(sysfs fc0 tun_flags)" = 0x5802
check "fc0 is owned by uid $ALICE, no group" test "$(sysfs fc0 owner) $(sysfs fc0 group)" = "$ALICE -1"
check "fc0 is on br0" grep -q "master br0" <<<"$info"
sleep 0.5  # the link monitor has seen every event of the grant by now
check "the link monitor leaves a lease alone" ip link show fc0
check "the grant is audited as a lease" soon record "event=grant .*tap=fc0.*leased until"
check "status lists the lease with its expiry" bash -c '"$@" | grep -E "^  fc0  bridge br0 .*lease until [0-9-]+ [0-9:]+ UTC"' _ "${AS_ALICE[@]}" "$UB" status

"$TT" listen br0-peer FROMFC 5000 >"$T/listen" 2>&1 &
lp=$!
listening "$T/listen" || true
"$TT" send br0-peer TOFC >/dev/null 2>&1 &
sp=$!
as_alice "$TT" tap-by-name fc0 send=FROMFC expect=TOFC:3000 >"$T/fc" 2>&1 && fc=0 || fc=$?
wait $lp && heard=yes || heard=no
kill $sp 2>/dev/null || true; wait $sp 2>/dev/null || true
echo "    tap-by-name: exit $fc; $(tr '\n' ' ' <"$T/fc" | head -c 300)"
check "alice opens fc0 by name as Firecracker does" grep -qx "opened fc0" "$T/fc"
check "a frame from the tap reaches the bridge's peer" test $heard = yes
check "a frame from the peer reaches the tap" test $fc = 0
check "fc0 stays once its opener exits" ip link show fc0

refused_keep() {  # NAME WANT CMD...: refused, with fc0 (and only fc0) still there
    local name=$1 want=$2 rc=0
    shift 2
    wanted "$name" || return 0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ $rc -ne 0 ] && grep -qF -- "$want" "$T/err" && [ "$(taps | tr '\n' ' ')" = "$KEEP" ]; then
        pass "$name: $(head -n1 "$T/err")"
    else fail "$name: rc=$rc, taps: $(taps | tr '\n' ' '), stderr: $(cat "$T/err")"; fi
}
# --- attacks by another user ------------------------------------------------------
as_bob "$TT" tap-by-name fc0 >"$T/bob" 2>&1 || true
check "attack: bob cannot open alice's lease by name" grep -q "refused: Operation not permitted" "$T/bob"
wanted "attack: bob cannot release alice's lease" && {
    as_bob "$UB" release fc0 >"$T/out" 2>"$T/err" && rc=0 || rc=$?
    if [ $rc -ne 0 ] && grep -q "not your lease" "$T/err" && ip link show fc0 >/dev/null 2>&1; then
        pass "attack: bob cannot release alice's lease: $(cat "$T/err")"
    else fail "attack: bob cannot release alice's lease: rc=$rc $(cat "$T/err")"; fi
}
KEEP="fc0 "
refused_keep "attack: bob's rule has no lease=: refused" "gives no leases" as_bob "$UB" lease --br=br0 --name=bobs

# --- attacks by the lessee ---------------------------------------------------------
refused_keep "attack: a lease named as an existing interface" "an interface named br0-peer exists already" \
    as_alice "$UB" lease --br=br0 --name=br0-peer
refused_keep "attack: a lease named as bob's quota lock" "quota locks' prefix" \
    as_alice "$UB" lease --br=br0 --name=ubq$BOB
refused_keep "attack: a lease whose name the kernel would pick (%d)" "other than letters" \
    as_alice "$UB" lease --br=br0 --name='fc%d'
refused_keep "a lease longer than lease= allows" "gives at most 1h" \
    as_alice "$UB" lease --br=br0 --for=2h
second=$(as_alice "$UB" lease --br=br0 --for=10m 2>"$T/err") || true
check "a second lease within max-taps=2 ($second)" ip link show "$second"
KEEP="$(taps | tr '\n' ' ')"
refused_keep "attack: a third lease beyond max-taps=2" "quota" as_alice "$UB" lease --br=br0 --name=fc9
refused_keep "leases count against max-taps: a plain grant is refused too" "quota" \
    as_alice "$TT" daemon grant /run/userbridge.sock br0
as_alice "$UB" release "$second" >/dev/null 2>&1 || true

as_alice "$TT" tap-by-name fc0 owner=$BOB hold=300 >"$T/tamper" 2>&1 || true
check "attack: alice gives her lease to bob (TUNSETOWNER): it is removed" soon gone fc0
check "the removal is audited" soon record "event=revoke .*tap=fc0.*owner changed to uid $BOB"


# --- release and expiry -------------------------------------------------------------
as_alice "$UB" lease --br=br0 --name=fc1 >/dev/null || true
check "alice releases her lease" as_alice "$UB" release fc1
check "released: fc1 is gone" gone fc1
check "the release is audited" soon record "event=release .*tap=fc1"
mq=$(as_alice "$UB" lease --br=br0 --queues=2 --for=1m 2>/dev/null || true)
# IFF_MULTI_QUEUE 0x0100 besides the flags above.
check "a multiqueue lease (${mq:-none}) is IFF_MULTI_QUEUE" test "$(sysfs "${mq:-none}" tun_flags)" = 0x5902
check "alice opens its queue by name with IFF_MULTI_QUEUE" \
    bash -c '"$@" | grep -q "^opened"' _ "${AS_ALICE[@]}" "$TT" tap-by-name "${mq:-none}" mq
[ -z "$mq" ] || as_alice "$UB" release "$mq" >/dev/null 2>&1 || true
as_alice "$UB" lease --br=br0 --name=fc2 --for=2s >/dev/null || true
check "a lease of 2 s is there" ip link show fc2
check "and gone once it expired" within 5 gone fc2
check "the expiry is audited" soon record "event=expire .*tap=fc2.*the lease expired"

# --- COMMAND mode ---------------------------------------------------------------------
out=$(as_alice "$UB" lease --br=br0 --name=fc3 -- sh -c 'cat /sys/class/net/$USERBRIDGE_TAP/tun_flags' 2>&1) || true
echo "$out"
check "COMMAND runs while the lease exists, with USERBRIDGE_TAP" test "$out" = "$(printf "fc3\n0x5802")"
check "the lease ends when COMMAND exits" soon gone fc3
setpriv --reuid=$ALICE --regid=$ALICE --groups=$VMGROUP -- "$UB" lease --br=br0 --name=fc4 -- sleep 30 >"$T/cmd" 2>&1 &
cli=$!
BACKGROUND+=($cli)
soon ip link show fc4 >/dev/null 2>&1 || true
child=$(pgrep -P $cli || true)
kill -KILL $cli 2>/dev/null || true
wait $cli 2>/dev/null || true
check "attack: COMMAND-mode CLI SIGKILLed: the lease ends" soon gone fc4
[ -z "$child" ] || kill "$child" 2>/dev/null || true

# --- a daemon restart ----------------------------------------------------------------
# (Run alone, a case skips the checks above that wait for their leases to go.)
for gone_lease in fc2 fc3 fc4; do within 5 gone $gone_lease || true; done
as_alice "$UB" lease --br=br0 --name=fc5 --for=10m >/dev/null || true
# fc6 ends 4 s after its grant: time for the daemon to stop first (slow
# under sanitizers and load; a 1 s lease was sometimes ended by the daemon
# as it stopped), then the wait for its expiry, by its label.
as_alice "$UB" lease --br=br0 --name=fc6 --for=4s >/dev/null || true
label5=$(ip -d link show fc5 2>/dev/null | grep -o 'alias .*' || true)
expiry6=$(ip -d link show fc6 2>/dev/null | sed -n 's/.* lease=\([0-9]*\).*/\1/p' || true)
stop_daemon
# fc5 as a release before review item 32-4 left it: the host's IP stack on.
echo 0 >/proc/sys/net/ipv6/conf/fc5/disable_ipv6 || true
echo 0 >/proc/sys/net/ipv4/conf/fc5/rp_filter || true
while [ -n "$expiry6" ] && [ "$(date +%s)" -le "$expiry6" ]; do sleep 0.2; done
check "with no daemon, an expired lease stays until one starts" ip link show fc6
start_daemon
check "at start-up, the expired lease is removed" soon gone fc6
check "the other survives the restart with its expiry" bash -c '[ "$(ip -d link show fc5 | grep -o "alias .*")" = "$1" ]' _ "$label5"
check "...and the host's IP stack is taken off it as the daemon starts" \
    test "$(cat /proc/sys/net/ipv6/conf/fc5/disable_ipv6 /proc/sys/net/ipv4/conf/fc5/rp_filter 2>&1 | paste -sd' ')" = "1 1"
as_alice "$UB" lease --br=br0 --name=fc7 --for=10m >/dev/null || true
stop_daemon
start_daemon
as_alice "$TT" tap-by-name fc7 owner=$BOB hold=300 >"$T/tamper" 2>&1 || true
check "an adopted lease given to bob is removed" soon gone fc7
# Only userbridged makes leases: its record is not the helper's.
check "...on record as a daemon's" soon record "event=revoke .*tap=fc7.* via=daemon .*owner changed to uid $BOB"

# --- Review item 32-5: a reload decides each lease again -------------------
# fc5 is a lease adopted from the daemon before the restart, fc8 one this
# daemon made: both are alice's, allowed by her group ubvm. (Run alone,
# the case finds the leases of the cases before it: root releases them.)
for other in $(taps); do [ "$other" = fc5 ] || "$UB" release "$other" >/dev/null 2>&1 || true; done
as_alice "$UB" lease --br=br0 --name=fc8 --for=10m >/dev/null || true
reload_daemon
sleep 0.5  # time for the group database's answer, and the decisions
check "reload: leases the ACL still allows are kept (fc5, adopted; fc8)" \
    bash -c 'ip link show fc5 && ip link show fc8' >/dev/null
acl 'deny br0 user=ubalice\nallow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob\n'
reload_daemon
check "reload: a reload that denies alice br0 ends her leases, fc8 and the adopted fc5" \
    soon bash -c '! ip link show fc8 && ! ip link show fc5' 2>/dev/null
check "reload: ...and their records say why" \
    soon record "event=expire .*tap=fc8.*the ACL was reloaded: denied by /etc/qemu/bridge.conf:1"
check "reload: ...so no process of hers opens fc8 by name" \
    bash -c '"$@" | grep -q "^refused"' _ "${AS_ALICE[@]}" "$TT" tap-by-name fc8
acl 'allow br0 group=ubvm max-taps=2\nallow br0 user=ubbob\n'
reload_daemon
as_bob "$UB" lease --br=br0 --name=fc9 --for=10m >/dev/null 2>&1 || true
check "reload: ...bob's lease under a rule without lease= was refused" fails ip link show fc9
acl 'allow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
reload_daemon
as_bob "$UB" lease --br=br0 --name=fc9 --for=10m >/dev/null 2>&1 || true
acl 'allow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob\n'
reload_daemon
check "reload: a rule that no longer allows leases ends bob's" soon gone fc9
check "reload: ...saying so" soon record "event=expire .*tap=fc9.*allows no lease"
# A new daemon decides the leases it adopts under the ACL it starts with.
acl 'allow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
reload_daemon
as_alice "$UB" lease --br=br0 --name=fc11 --for=10m >/dev/null 2>&1 || true
stop_daemon
acl 'deny br0 user=ubalice\nallow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
start_daemon
check "restart: a daemon that starts with an ACL denying alice br0 ends her lease fc11" soon gone fc11
# A lease with more time left than its rule's lease= now allows ends.
acl 'allow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
reload_daemon
as_alice "$UB" lease --br=br0 --name=fc12 --for=30m >/dev/null 2>&1 || true
acl 'allow br0 group=ubvm max-taps=2 lease=10m\nallow br0 user=ubbob lease=1h\n'
reload_daemon
check "reload: a lease with 30 min left under a rule now of lease=10m ends" soon gone fc12
check "reload: ...saying so" soon record "event=expire .*tap=fc12.*s left are more than the 600 s its rule now allows"
# The bridge a lease is on now is the one decided for: br5 renamed brsec,
# which the ACL denies, and another br5 made.
bridge br5
acl 'allow br5 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
reload_daemon
as_alice "$UB" lease --br=br5 --name=fc13 --for=10m >/dev/null 2>&1 || true
ip link set br5 down
ip link set br5 name brsec
ip link add br5 type bridge
acl 'deny brsec\nallow br5 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
reload_daemon
check "reload: alice's lease on br5, renamed brsec and denied, ends" soon gone fc13
ip link del brsec 2>/dev/null || true
ip link del br5 2>/dev/null || true
# A lease whose making stopped half-way (the daemon killed after the tap
# was made persistent, before it was given to its caller and came up) is
# root's: no user may open it by name; and the daemon that starts next
# ends it (review item 33-4).
stop_daemon
acl 'allow br0 group=ubvm max-taps=2 lease=1h\nallow br0 user=ubbob lease=1h\n'
UB_FAULT=kill@after-attach DAEMON_BIN=$T/bin/faulty-daemon start_daemon
as_alice "$UB" lease --br=br0 --name=fc14 --for=10m >/dev/null 2>&1 || true
stop_daemon
check "half-made: fc14 is left persistent, root's, down" \
    test "$(sysfs fc14 owner) $(sysfs fc14 tun_flags) $(sysfs fc14 operstate)" = "0 0x5802 down"
as_bob "$TT" tap-by-name fc14 >"$T/bob" 2>&1 || true
check "half-made: bob cannot open it by name" grep -q "refused: Operation not permitted" "$T/bob"
as_alice "$TT" tap-by-name fc14 >"$T/alice" 2>&1 || true
check "half-made: nor alice" grep -q "refused: Operation not permitted" "$T/alice"
start_daemon
check "half-made: the next daemon ends it" soon gone fc14
check "half-made: ...saying so" soon record "event=expire .*tap=fc14.*its making stopped before it was handed over"
as_bob "$UB" lease --br=br0 --name=fc10 --for=10m >/dev/null 2>&1 || true
check "root may release anyone's lease" "$UB" release fc10
check "nothing left behind" soon no_taps

finish
