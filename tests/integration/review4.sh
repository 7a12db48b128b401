#!/bin/bash
# Fourth outside review, item 23-5 (docs/SECURITY.md): every bridge port
# userbridge makes gets bpdu_guard as it is made (item 22-3), but a lease
# is a persistent tap that outlives the userbridged that made it, for up to
# a year. One an older release made has no guard, and the userbridged that
# adopts it as it starts must guard it: else its guest's BPDU makes it the
# root bridge of a bridge that runs STP, as before item 22-3. A lease of
# the release before is made here as it made one: its bpdu_guard off.
# Then the other ports: a veth pair's host end is guarded as it is made.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0 user=ubalice lease=1h\n'
UB=$T/bin/userbridge
# guarded PORT: the bridge shows bpdu_guard on for PORT.
guarded() { command bridge -d link show dev "$1" | grep -q "guard on"; }

start_daemon
check "alice leases fc0 on br0" bash -c '[ "$("$@")" = fc0 ]' _ "${AS_ALICE[@]}" "$UB" lease --br=br0 --name=fc0 --for=10m
check "a new lease is guarded" guarded fc0
# The release before item 22-3 made it so; then the daemon is upgraded.
ip link set dev fc0 type bridge_slave guard off
stop_daemon
start_daemon
check "the adopted lease of an older release is guarded once userbridged starts" soon guarded fc0

# The attack: alice's VMM opens her lease by name, and its guest claims to
# be the root bridge (priority 0) with one configuration BPDU.
# A fixed address, so that the lease's tap, whose random address may sort
# lower, cannot change the bridge's own id (review3_stp.sh says more).
ip link set br0 address 02:00:00:00:00:01
ip link set br0 type bridge stp_state 1
id=0000525400123456  # priority 0, then the MAC
bpdu="4242030000000000${id}00000000${id}80010000140002000f00"
before=$(cat /sys/class/net/br0/bridge/root_id)
# Twenty BPDUs in 2 s, then the lease is held 2 s more: the bridge forgets
# what a port told it once the port goes (its holder gone, no carrier).
as_alice "$T/bin/ub-testtool" tap-by-name fc0 "bpdu=$bpdu" hold=2000 >"$T/vmm" 2>&1 &
vmm=$!
sleep 3
after=$(cat /sys/class/net/br0/bridge/root_id)
wait $vmm || true
echo "    root bridge before: $before, after the lease's BPDU: $after ($(head -c 200 "$T/vmm"))"
check "attack: an adopted lease's guest does not make itself the root bridge" test "$after" = "$before"
ip link set br0 type bridge stp_state 0

# The other bridge ports are guarded from the start too (review3_stp.sh
# shows taps): a veth pair's host end, into a namespace of alice's.
hold_ns ns "${AS_ALICE[@]}"
check "alice gets a veth pair into her namespace" as_alice "$UB" netns --br=br0 --netns=/proc/$ns/ns/net
host_end=$(ip -o link show master br0 type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^ubv' | head -1)
check "its host end (${host_end:-none}) is guarded" guarded "${host_end:-none}"
kill $ns
wait $ns 2>/dev/null || true
check "the pair goes with the namespace" soon bash -c '! ip -o link show type veth | grep -q ": ubv"'
check "alice releases her lease" as_alice "$UB" release fc0
check "nothing left behind" soon bash -c '! ip link show fc0 >/dev/null 2>&1'
stop_daemon

finish
