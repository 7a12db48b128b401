#!/bin/bash
# Past one host: an EVPN fabric, as docs/MULTI-HOST.md sets it up. Hosts
# A, B and C are network namespaces on one underlay (veths to a bridge,
# 192.168.77.0/24); each host's br0 has a VXLAN port (VNI 42) with no
# static flood list and no learning: FRR's zebra and bgpd, started by this
# test in each host's namespace with files of its own (never the system
# service), exchange where every MAC is over iBGP EVPN, host A being the
# route reflector. Each host runs its own userbridged, with its own ACL,
# and ubalice's fake guests get their taps from it:
#   - the fabric comes up: each host floods to the two others (type-3);
#   - a guest MAC pinned by the policy is in the other hosts' forwarding
#     tables before the guest sent a frame (userbridged's static FDB entry,
#     advertised as a type-2 route), with its ip= address (the neighbour
#     entry); both go when the tap goes, also through a daemon restart;
#     the times are printed;
#   - frames cross the fabric between guests on different hosts, and a
#     frame to a silent pinned guest reaches its host only, where one to a
#     silent unpinned guest is flooded to every host; an ARP request for a
#     pinned guest's address is answered by the asker's own bridge;
#   - a QEMU guest on A pings host C's bridge across the fabric;
#   - a pinned MAC the bridge knows already on another port stays there.
source "$(dirname "$0")/lib.sh"

use_guest
FRR=/usr/lib/frr
[ -x $FRR/bgpd ] && [ -x $FRR/zebra ] || { echo "SKIP: FRR is not installed (Debian's frr)"; exit 77; }
# FRR keeps each daemon's crash log under /var/tmp/frr: ours go with the test.
mount -t tmpfs -o mode=1777 tmpfs /var/tmp

# in_host HOST CMD...: CMD on HOST, in its network namespace and with a
# /run of its own, where its userbridged's socket is (the clients' path).
# (Not a function for what runs in the background: $! would be a subshell's.)
OWN_RUN=(unshare --mount --propagation private sh -c 'mount --bind "$0" /run && exec "$@"')
in_host() { local h=$1; shift; ip netns exec "$h" "${OWN_RUN[@]}" "$T/run-$h" "$@"; }
alice_in() { local h=$1; shift; in_host "$h" "${AS_ALICE[@]}" "$@"; }
call_in() {  # HOST CALL-OPTIONS...: a fake guest of ubalice's on HOST, from its userbridged
    local h=$1
    shift
    alice_in "$h" "$T/bin/ub-testtool" call stream "$@" -- "$T/bin/userbridge-client" --br=br0 --fd=3
}
vtysh_in() { local h=$1; shift; ip netns exec "$h" vtysh --vty_socket "$T/frr-$h" -c "$*"; }

# host NAME N: underlay address 192.168.77.N, br0 with its VXLAN port,
# FRR's configuration, userbridged's ACL (mac= pinned to ...:0N, ip= 10.99.0.N).
host() {
    local h=$1 n=$2
    ip netns add "$h"
    ip link add "ul-$h" type veth peer name eth0 netns "$h"
    ip link set "ul-$h" master underlay up
    ip -n "$h" link set lo up
    ip -n "$h" addr add "192.168.77.$n/24" dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" link add br0 type bridge
    # No IPv6 on the bridges: their own router solicitations and
    # multicast reports would cross the overlay and blur its counts.
    ip netns exec "$h" sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
    # nolearning and no remote: FRR tells the VXLAN port every remote MAC
    # and where to flood (the all-zero entries).
    ip -n "$h" link add vx42 type vxlan id 42 local "192.168.77.$n" dstport 4789 dev eth0 nolearning
    ip -n "$h" link set vx42 master br0 up
    ip -n "$h" link set vx42 type bridge_slave learning off neigh_suppress on
    ip -n "$h" link set br0 up
    mkdir -m 755 "$T/run-$h" "$T/frr-$h"
    chown frr:frr "$T/frr-$h"
    printf 'hostname %s\nlog file %s/zebra.log\n' "$h" "$T/frr-$h" >"$T/frr-$h/zebra.conf"
    acl "allow br0 user=ubalice mac=52:54:00:00:00:0$n ip=10.99.0.$n\nallow br0 user=ubbob\n" "$h.conf"
}
ip link add underlay type bridge
ip link set underlay up
host hosta 1
host hostb 2
host hostc 3
ip -n hosta link add br1 type bridge  # host A's second, local bridge (the last case)
ip -n hosta link set br1 up
acl "allow br0 user=ubalice mac=52:54:00:00:00:01 ip=10.99.0.1\nallow br0 user=ubbob
allow br1 user=ubalice\nallow br1 user=ubbob mac=52:54:00:00:00:a1\n" hosta.conf

# iBGP in AS 65000, l2vpn evpn only. Host A reflects: it accepts any host
# of the underlay as a client (bgp listen range), so a new host is
# configured on itself alone; B and C peer with A only.
cat >"$T/frr-hosta/bgpd.conf" <<EOF
frr defaults datacenter
hostname hosta
log file $T/frr-hosta/bgpd.log
router bgp 65000
 bgp router-id 192.168.77.1
 no bgp default ipv4-unicast
 bgp cluster-id 192.168.77.1
 neighbor fabric peer-group
 neighbor fabric remote-as internal
 bgp listen range 192.168.77.0/24 peer-group fabric
 address-family l2vpn evpn
  neighbor fabric activate
  neighbor fabric route-reflector-client
  advertise-all-vni
 exit-address-family
EOF
for leaf in hostb:2 hostc:3; do
    h=${leaf%:*} n=${leaf#*:}
    cat >"$T/frr-$h/bgpd.conf" <<EOF
frr defaults datacenter
hostname $h
log file $T/frr-$h/bgpd.log
router bgp 65000
 bgp router-id 192.168.77.$n
 no bgp default ipv4-unicast
 neighbor 192.168.77.1 remote-as internal
 neighbor 192.168.77.1 timers connect 1
 address-family l2vpn evpn
  neighbor 192.168.77.1 activate
  advertise-all-vni
 exit-address-family
EOF
done

# The daemons, in the foreground (so that we hold their pids), as FRR's
# own user; no TCP vty (-P 0); every path under the host's directory.
FRR_PIDS=()
frr_daemon() {  # HOST DAEMON
    local d=$T/frr-$1
    ip netns exec "$1" $FRR/"$2" -f "$d/$2.conf" -i "$d/$2.pid" -z "$d/zserv.api" --vty_socket "$d" -P 0 \
        >>"$d/$2.out" 2>&1 &
    FRR_PIDS+=($!)
    BACKGROUND+=($!)
}
for h in hosta hostb hostc; do frr_daemon $h zebra; done
for h in hosta hostb hostc; do within 5 test -S "$T/frr-$h/zserv.api"; done
for h in hosta hostb hostc; do frr_daemon $h bgpd; done

declare -A DAEMON  # each host's userbridged
start_host_daemon() {
    ip netns exec "$1" "${OWN_RUN[@]}" "$T/run-$1" "$T/bin/userbridged" --config="/etc/qemu/$1.conf" \
        2>>"$T/daemon-$1.err" &
    DAEMON[$1]=$!
    BACKGROUND+=($!)
}
# serving HOST: its userbridged is past its start-up (the seccomp filter
# is its last step before serving).
serving() { grep -qP '^Seccomp:\t2$' "/proc/${DAEMON[$1]}/status" 2>/dev/null; }
for h in hosta hostb hostc; do start_host_daemon $h; done
for h in hosta hostb hostc; do
    within 5 serving $h || { echo "userbridged on $h:"; cat "$T/daemon-$h.err"; }
done

flood_list() { ip netns exec "$1" bridge fdb show dev vx42 | grep -c '^00:00:00:00:00:00 dst' || true; }
fabric_up() { for h in hosta hostb hostc; do [ "$(flood_list $h)" -eq 2 ] || return 1; done; }
up=0
within 30 fabric_up && up=1
check "the fabric is up: each host floods to the two others (EVPN type-3 routes)" test $up -eq 1
[ $up -eq 1 ] || { tail -n 20 "$T"/frr-*/*.log "$T"/frr-*/*.out; vtysh_in hosta 'show bgp l2vpn evpn summary'; }

# --- A pinned guest is known on the other hosts before it speaks -------------
c_knows_b() { ip -n hostc neigh show dev br0 | has '^10.99.0.2 lladdr 52:54:00:00:00:02 .*extern_learn'; }
mac_at() { ip netns exec "$1" bridge fdb show dev vx42 | has "^$2 dst"; }  # HOST MAC: a remote entry
now_ms() { echo $(($(date +%s%N) / 1000000)); }
times=() gone=()
for i in 1 2 3 4 5; do
    t0=$(now_ms)
    call_in hostb --hold=$([ $i -eq 1 ] && echo 2000 || echo 400) >"$T/b.out" 2>&1 &  # the first: time for the checks
    b=$!
    within 5 mac_at hostc 52:54:00:00:00:02 && times+=($(($(now_ms) - t0)))
    [ $i -gt 1 ] || {
        check "B's pinned guest MAC is a static FDB entry on its tap's port" \
            grep -qE '^52:54:00:00:00:02 dev tap[0-9]+ master br0 static' <(ip netns exec hostb bridge fdb show br br0)
        check "...and its ip= address a neighbour entry on B's bridge" \
            grep -q '^10.99.0.2 lladdr 52:54:00:00:00:02 PERMANENT' <(ip -n hostb neigh show dev br0)
        check "C's zebra knows B's guest's address" \
            grep -q '10.99.0.2 .*remote .*52:54:00:00:00:02 *192.168.77.2' <(vtysh_in hostc 'show evpn arp-cache vni 42')
        check "...and put it in C's bridge's neighbour table, whence neigh_suppress answers ARP" soon c_knows_b
    }
    wait $b || true
    t1=$(now_ms)
    within 5 fails mac_at hostc 52:54:00:00:00:02 && gone+=($(($(now_ms) - t1)))
done
echo "    grant to B's guest MAC in C's FDB (ms): ${times[*]}"
echo "    tap gone to the MAC gone from C's FDB (ms): ${gone[*]}"
check "a pinned guest's MAC reached the other hosts' FDB, through the reflector, 5 times of 5" test ${#times[@]} -eq 5
check "...and left it when the tap went, 5 times of 5" test ${#gone[@]} -eq 5
check "the neighbour entry went with the tap" \
    fails grep -q '^10.99.0.2 ' <(ip -n hostb neigh show dev br0)
check "...and so did the FDB entry" fails grep -q '^52:54:00:00:00:02' <(ip netns exec hostb bridge fdb show br br0)

# A daemon that starts finds the neighbour entries an earlier one left:
# those of a live tap it removes when the tap goes, those of a tap that
# died meanwhile at once.
neighbour_b() { grep -q '^10.99.0.2 ' <(ip -n hostb neigh show dev br0); }
restart_b() {
    kill -KILL "${DAEMON[hostb]}"
    wait "${DAEMON[hostb]}" 2>/dev/null || true
    [ -z "${1:-}" ] || "$@"
    start_host_daemon hostb
    within 5 serving hostb
}
call_in hostb --hold=2000 >"$T/b.out" 2>&1 &
b=$!
granted "$T/b.out"
restart_b
wait $b || true
check "a restarted daemon removed a live tap's neighbour entry when the tap went" soon fails neighbour_b
call_in hostb --hold=300 >"$T/b.out" 2>&1 &
b=$!
granted "$T/b.out"
restart_b wait $b
check "a restarted daemon removed the neighbour entry of a tap that died while none ran" soon fails neighbour_b

# --- Guests on different hosts reach each other ----------------------------
call_in hostc --src=52:54:00:00:00:03 --ip4=10.99.0.3 --send=from-c --expect=from-a >"$T/c.out" 2>&1 &
c=$!
rc=0
call_in hosta --src=52:54:00:00:00:01 --ip4=10.99.0.1 --send=from-a --expect=from-c >"$T/a.out" 2>&1 || rc=$?
check "a frame from C's guest reached A's guest across the fabric" test $rc -eq 0
rc=0
wait $c || rc=$?
check "a frame from A's guest reached C's guest" test $rc -eq 0
[ $rc -eq 0 ] || cat "$T/a.out" "$T/c.out"

# --- A real guest ------------------------------------------------------------
# QEMU on A, its tap from A's userbridged (`userbridge run`; {mac} is the
# MAC the ACL pins), pings host C's bridge across the fabric.
ip -n hostc addr add 10.99.0.100/24 dev br0
rc=0
alice_in hosta env GUEST_IP=10.99.0.1/24 GUEST_PING=10.99.0.100 timeout 120 "$T/bin/userbridge" run -- \
    "$T/bin/qemu" -netdev tap,id=n0,fd={fd} -device virtio-net-pci,netdev=n0,mac={mac},host_mtu={mtu},romfile= \
    >"$T/console-a" 2>&1 || rc=$?
grep '^guest:' "$T/console-a" | sed 's/^/    A /' || true
check "a QEMU guest on A, its tap from A's userbridged, pinged host C's bridge across the fabric" \
    grep -q UB-GUEST-PING-OK "$T/console-a"
check "...and QEMU exited cleanly" test $rc -eq 0
[ $rc -eq 0 ] || tail -n 20 "$T/console-a"
announced_01() { grep -E 'event=grant user=ubalice .*guest_mac=52:54:00:00:00:01' "$SYSLOG" | has -v 'not announced'; }
check "...its grant pinned the guest MAC, and announced it" soon announced_01

# --- Flooding: a remote guest's first frames to a silent one ----------------
# (ip= lets only IPv4, ARP and IPv6 out of the pinned taps: UDP datagrams;
# the sender's 20, over 2 s.)
# count_on HOST MARKER: frames carrying MARKER the host's VXLAN port
# receives from the fabric in 3 s (started in the background; its output
# in $T/count-HOST).
count_on() { : >"$T/count-$1"; in_host "$1" "$T/bin/ub-testtool" count vx42 "$2" 3000 >"$T/count-$1" & COUNTER=$!; listening "$T/count-$1"; }
# ub-testtool call --send writes its frame this many times.
SENDS=10
# B's pinned guest, silent, waits for C's frames (and holds its tap while
# they come); A counts what it gets.
call_in hostb --expect=to-pinned --hold=2500 >"$T/b.out" 2>&1 &
b=$!
granted "$T/b.out"
within 5 mac_at hostc 52:54:00:00:00:02 || true  # (the check below fails without it)
count_on hosta to-pinned
call_in hostc --src=52:54:00:00:00:03 --ip4=10.99.0.3 --dst=52:54:00:00:00:02 --send=to-pinned >/dev/null
rc=0
wait $b || rc=$?
wait $COUNTER
check "C's guest's first frame reached B's silent pinned guest" test $rc -eq 0
check "...and none was flooded to another host (A: $(tail -n1 "$T/count-hosta"))" grep -qx 'count=0' "$T/count-hosta"
# The same to ubbob's guest on B, which no rule pins: no host knows its MAC.
in_host hostb setpriv --reuid=$BOB --regid=$BOB --clear-groups -- "$T/bin/ub-testtool" call stream \
    --expect=to-unpinned --hold=2500 -- "$T/bin/userbridge-client" --br=br0 --fd=3 >"$T/b.out" 2>&1 &
b=$!
granted "$T/b.out"
count_on hosta to-unpinned
call_in hostc --src=52:54:00:00:00:03 --ip4=10.99.0.3 --dst=52:54:00:00:00:b0 --send=to-unpinned >/dev/null
rc=0
wait $b || rc=$?
wait $COUNTER
check "C's guest's first frame reached B's silent unpinned guest" test $rc -eq 0
check "...flooded to A too (A: $(tail -n1 "$T/count-hosta")): what pinning saves" grep -qx "count=$SENDS" "$T/count-hosta"

# ARP: C's guest asks for B's silent pinned guest's address, which C's
# bridge answers itself (neigh_suppress), and for an address no one has.
call_in hostb --hold=4000 >"$T/b.out" 2>&1 &
b=$!
granted "$T/b.out"
within 5 c_knows_b || true  # (the check below fails without it)
count_on hosta arp-pinned
call_in hostc --src=52:54:00:00:00:03 --arp=10.99.0.3 --arp-target=10.99.0.2 --send=arp-pinned >/dev/null
wait $COUNTER
check "an ARP request for a pinned guest's address crossed to no host (A: $(tail -n1 "$T/count-hosta"))" \
    grep -qx 'count=0' "$T/count-hosta"
count_on hosta arp-unknown
call_in hostc --src=52:54:00:00:00:03 --arp=10.99.0.3 --arp-target=10.99.0.77 --send=arp-unknown >/dev/null
wait $COUNTER
check "...one for an unknown address reached every host (A: $(tail -n1 "$T/count-hosta"))" \
    grep -qx "count=$SENDS" "$T/count-hosta"
wait $b || true

# --- A MAC the bridge knows on another port stays there --------------------
# ubalice's unpinned guest on A's br1 speaks from 52:54:00:00:00:a1; then
# ubbob gets a tap on br1 whose rule pins that very MAC. His tap must not
# take her MAC's entry (her unicast traffic would go to him).
on_br1() { ip netns exec hosta bridge fdb show br br1 | has "^52:54:00:00:00:a1 dev $1 "; }
in_host hosta "${AS_ALICE[@]}" "$T/bin/ub-testtool" call stream --src=52:54:00:00:00:a1 --send=alice-here \
    --hold=8000 -- "$T/bin/userbridge-client" --br=br1 --fd=3 >"$T/alice.out" 2>&1 &
alice=$!
granted "$T/alice.out"
alice_tap=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/alice.out")
within 3 on_br1 "$alice_tap"
in_host hosta setpriv --reuid=$BOB --regid=$BOB --clear-groups -- "$T/bin/ub-testtool" call stream --hold=500 \
    -- "$T/bin/userbridge-client" --br=br1 --fd=3 >"$T/bob.out" 2>&1 &
bob=$!
granted "$T/bob.out"
check "ubbob's pinned tap did not take the MAC ubalice's guest uses" on_br1 "$alice_tap"
on_br1 "$alice_tap" || { ip netns exec hosta bridge fdb show br br1; cat "$T/alice.out" "$T/bob.out"; }
wait $bob || true
check "...and his grant's record says why it announced nothing" \
    soon grep -q 'user=ubbob .*not announced to the bridge: .*File exists' "$SYSLOG"
wait $alice || true

# --- Stopped: nothing left ---------------------------------------------------
for p in "${DAEMON[@]}" "${FRR_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${DAEMON[@]}" "${FRR_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
# Any zebra, bgpd or userbridged in the hosts' network namespaces.
left() {
    local p
    for p in $(pgrep -x 'zebra|bgpd|userbridged'); do
        ip netns identify "$p" 2>/dev/null | has -x 'host[abc]' && echo "$p"
    done
}
check "no FRR daemon or userbridged left running" test -z "$(left)"
for h in hosta hostb hostc; do ip netns del $h; done
finish
