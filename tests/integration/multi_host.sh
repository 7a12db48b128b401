#!/bin/bash
# More than one host on one L2 segment, as docs/MULTI-HOST.md sets it up:
# hosts A and B are network namespaces joined by a veth "underlay"
# (192.168.77.0/24); each host's br0 has a VXLAN port (VNI 42, UDP 4789,
# unicast to the other host). On each host ubalice gets her taps from that
# host's helper, and:
#   - the taps get the overlay's MTU (1450), not the underlay's 1500;
#   - a frame written into her tap on A arrives on her tap on B, and back,
#     through the VXLAN ports;
#   - a guest on B pings host A's bridge, then a guest on A (started with
#     `userbridge run`, host_mtu={mtu}) pings the guest on B.
source "$(dirname "$0")/lib.sh"

use_guest
acl 'allow br0\n'

on() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
alice_on() { local ns=$1; shift; ip netns exec "$ns" "${AS_ALICE[@]}" "$@"; }
# host NS UNDERLAY-DEV ADDR PEER-ADDR: the recipe's per-host steps.
host() {
    local ns=$1 dev=$2 addr=$3 peer=$4
    ip netns add "$ns"
    ip link set "$dev" netns "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev "$dev"
    ip -n "$ns" link set "$dev" up
    ip -n "$ns" link add br0 type bridge
    ip -n "$ns" link add vx42 type vxlan id 42 local "$addr" remote "$peer" dstport 4789 dev "$dev"
    ip -n "$ns" link set vx42 master br0 up
    ip -n "$ns" link set br0 up
}
ip link add ul-a type veth peer name ul-b
host hosta ul-a 192.168.77.1 192.168.77.2
host hostb ul-b 192.168.77.2 192.168.77.1
vx_packets() { on "$1" cat "/sys/class/net/vx42/statistics/$2_packets"; }
ports() { ip -n "$1" -o link show master br0 type tun; }
wait_port() { for _ in $(seq 200); do [ -n "$(ports "$1")" ] && return 0; sleep 0.05; done; return 1; }

check "each bridge takes the overlay's MTU" \
    bash -c "ip -n hosta -o link show br0 | grep -q 'mtu 1450' && ip -n hostb -o link show br0 | grep -q 'mtu 1450'"

# Frames, both ways: B's tap first, then A's; each sends its marker for 2 s
# and then waits for the other's.
tx_a=$(vx_packets hosta tx)
alice_on hostb "$T/bin/ub-testtool" call stream --send=from-host-b --expect=from-host-a -- \
    "$T/bin/fcap-helper" --br=br0 --fd=3 >"$T/b.out" 2>&1 &
b=$!
check "host B's helper put ubalice's tap on B's bridge" wait_port hostb
check "...with the overlay's MTU" grep -q 'mtu 1450' <(ports hostb)
rc=0
alice_on hosta "$T/bin/ub-testtool" call stream --send=from-host-a --expect=from-host-b -- \
    "$T/bin/setuid-helper" --br=br0 --fd=3 >"$T/a.out" 2>&1 || rc=$?
check "a frame from B's tap reached A's tap" test $rc -eq 0
rc=0
wait $b || rc=$?
check "a frame from A's tap reached B's tap" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/    B: /' "$T/b.out" "$T/a.out"
check "...through A's VXLAN port" test "$(vx_packets hosta tx)" -gt "$tx_a"
check "no tap left on either host" test -z "$(ports hosta)$(ports hostb)"

# Guests. Host A's bridge gets an address for B's guest to ping; B's guest
# stays up for A's guest to ping it. Each guest has its own MAC (QEMU's
# default is the same for every guest).
on hosta ip addr add 10.99.0.1/24 dev br0
# (timeout is outermost: it signals its whole process group, QEMU included,
# when killed)
timeout 150 ip netns exec hostb "${AS_ALICE[@]}" \
    env GUEST_IP=10.99.0.3/24 GUEST_PING=10.99.0.1 GUEST_STAY=60 \
    "$T/bin/qemu" -netdev bridge,id=n0,br=br0,helper="$T/bin/fcap-helper" \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0b,romfile= >"$T/console-b" 2>&1 &
guest_b=$!
BACKGROUND+=($guest_b)
for _ in $(seq 900); do grep -q UB-GUEST-PING "$T/console-b" && break; sleep 0.1; done
grep '^guest:' "$T/console-b" | sed 's/^/    B /' || true
check "the guest on B pinged host A's bridge across the overlay" grep -q UB-GUEST-PING-OK "$T/console-b"

rc=0
alice_on hosta env GUEST_IP=10.99.0.2/24 GUEST_PING=10.99.0.3 timeout 120 \
    "$T/bin/userbridge" run --helper="$T/bin/setuid-helper" -- "$T/bin/qemu" -netdev tap,id=n0,fd={fd} \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:0a,host_mtu={mtu},romfile= \
    >"$T/console-a" 2>&1 || rc=$?
grep '^guest:' "$T/console-a" | sed 's/^/    A /' || true
check "the guest on A pinged the guest on B across the overlay" grep -q UB-GUEST-PING-OK "$T/console-a"
check "...and QEMU on A exited cleanly" test $rc -eq 0
check "...and the guest on A was told the overlay's MTU (host_mtu={mtu})" \
    grep -q '^guest: eth0 .* mtu 1450 ' "$T/console-a"
kill $guest_b 2>/dev/null || true
wait $guest_b 2>/dev/null || true
for _ in $(seq 100); do [ -z "$(ports hostb)" ] && break; sleep 0.1; done
check "no tap left on either host" test -z "$(ports hosta)$(ports hostb)"
finish
