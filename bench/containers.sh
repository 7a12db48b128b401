#!/bin/bash
# Containers: TCP throughput (iperf3) from an unprivileged user's network
# namespace to a peer, through each way such a namespace gets a network, in
# one interleaved run: a veth pair userbridged makes (`userbridge netns`),
# without a filter and under a pinned MAC, pasta, slirp4netns, and a veth
# pair root makes by hand (the limit).
#
#   bench/containers.sh            full run; rewrites the containers section
#                                  of docs/PERFORMANCE.md and
#                                  docs/perf/containers*.csv
#   bench/containers.sh --smoke --out DIR   one short round of every path
#
# Run as root, after a build (UB_BUILD_DIR, default build/), inside the
# integration tests' throwaway namespaces (everything it makes goes with
# them, on failure too). Needs iperf3, pasta (passt) and slirp4netns
# (scripts/install-deps.sh). Rates are reported, never asserted.
#
# The peer: one iperf3 server in a namespace of its own behind br0's veth,
# at 10.31.0.2; br0 has 10.31.0.1 in the sandbox's host namespace. The two
# veth paths reach it across br0 (bridged); pasta and slirp4netns end the
# container's TCP connection in their process and open their own from the
# host namespace, whose route to the peer is br0 too. So every path ends in
# the same server, through the same bridge port.
source "$(dirname "$0")/enter.sh" "$@"

for tool in iperf3 pasta slirp4netns jq; do
    command -v "$tool" >/dev/null ||
        { echo "bench: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
# SECS: each iperf3 run's measured seconds, after OMIT seconds of start
# (slow start, which iperf3 leaves out of its figures).
if [ $smoke = 1 ]; then ROUNDS=1 SECS=1 OMIT=0; else ROUNDS=6 SECS=3 OMIT=1; fi
PEER=10.31.0.2
UB=$T/bin/userbridge

# br_netfilter, where some other program loaded it, would hand the bridged
# paths' frames to the IP hooks too (bench/datapath.sh). In this namespace
# only.
for f in /proc/sys/net/bridge/bridge-nf-call-{iptables,ip6tables,arptables}; do
    [ ! -e "$f" ] || echo 0 >"$f"
done

bridge br0
ip addr add 10.31.0.1/24 dev br0
# pasta copies the address and gateway of the host's interface with the
# default route into the namespace: a gateway no one answers for, so that
# the peer's address is no gateway (pasta maps connections to the gateway to
# the host itself).
ip route add default via 10.31.0.254 dev br0
ip netns add ct-peer
ip link set br0-peer netns ct-peer
ip -n ct-peer addr add $PEER/24 dev br0-peer
ip -n ct-peer link set br0-peer up
ip -n ct-peer link set lo up
ip -n ct-peer route add default via 10.31.0.1
ip netns exec ct-peer iperf3 -s -B $PEER >"$T/server.out" 2>&1 &
BACKGROUND+=($!)
within 5 eval "ip netns exec ct-peer ss -Htln 'sport = :5201' | grep . >/dev/null" ||
    { echo "bench: the iperf3 server did not start:"; cat "$T/server.out"; exit 1; }

# ubbob's veth is pinned (mac=): its host end has the nftables rules and
# the checksum guard of every pinned port.
PINNED_MAC=52:54:00:31:00:0c
acl "allow br0 user=ubbob mac=$PINNED_MAC\nallow br0\n"
start_daemon

# hold_ns PATH [bob]: ubalice's (or ubbob's) namespace for PATH, a user and
# network namespace of theirs (`unshare -rn`, as a rootless container
# runtime makes one), held by a sleep whose pid goes in NS[PATH].
declare -A NS OWNER
hold_ns() {
    OWNER[$1]=${2:-alice}
    local as=("${AS_ALICE[@]}")
    [ "${OWNER[$1]}" = alice ] || as=(setpriv --reuid=$BOB --regid=$BOB --clear-groups --)
    "${as[@]}" unshare -rn sleep infinity &
    local pid=$!
    BACKGROUND+=($pid)
    within 5 eval '[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ]' ||
        { echo "bench: no namespace for $1"; exit 1; }
    NS[$1]=$pid
}
# as_container PATH CMD...: CMD as PATH's owner, root of PATH's namespace.
as_container() {
    local pid=${NS[$1]} owner=${OWNER[$1]}
    shift
    "as_$owner" nsenter -t "$pid" -U -n --preserve-credentials "$@"
}
# configured PATH: PATH's namespace has an IPv4 address besides loopback's.
configured() { nsenter -t "${NS[$1]}" -n ip -4 -o addr show scope global | grep -q inet; }
# address PATH ADDR: ubalice gives eth0 in PATH's namespace ADDR on br0's subnet.
address() {
    as_container "$1" sh -c "ip addr add $2/24 dev eth0 && ip link set eth0 up && ip link set lo up"
}

hold_ns userbridge-veth
as_alice "$UB" netns --br=br0 --netns=/proc/${NS[userbridge-veth]}/ns/net >/dev/null
address userbridge-veth 10.31.0.10

hold_ns pinned-veth bob
as_bob "$UB" netns --br=br0 --netns=/proc/${NS[pinned-veth]}/ns/net >/dev/null
address pinned-veth 10.31.0.12
nsenter -t "${NS[pinned-veth]}" -n ip -o link show dev eth0 | grep -q "link/ether $PINNED_MAC" ||
    { echo "bench: ubbob's veth end does not have the pinned MAC"; exit 1; }

hold_ns root-veth
ip link add ctroot type veth peer name eth0 netns "${NS[root-veth]}"
ip link set ctroot master br0 up
address root-veth 10.31.0.11

# pasta as rootless Podman runs it, joining the namespace by pid; in the
# foreground (-f), so that its pid is ours to end. No port forwarding: the
# traffic under test goes out.
hold_ns pasta
"${AS_ALICE[@]}" pasta -f -q --config-net -i br0 -t none -u none -T none -U none \
    "${NS[pasta]}" >"$T/pasta.out" 2>&1 &
BACKGROUND+=($!)
within 5 configured pasta || { echo "bench: pasta did not configure its namespace:"; cat "$T/pasta.out"; exit 1; }

# slirp4netns as its manual and rootless Podman run it.
hold_ns slirp4netns
"${AS_ALICE[@]}" slirp4netns --configure --mtu=65520 --disable-host-loopback \
    "${NS[slirp4netns]}" tap0 >"$T/slirp.out" 2>&1 &
BACKGROUND+=($!)
within 5 configured slirp4netns ||
    { echo "bench: slirp4netns did not configure its namespace:"; cat "$T/slirp.out"; exit 1; }

PATHS=(userbridge-veth pinned-veth root-veth pasta slirp4netns)
for p in "${PATHS[@]}"; do
    nsenter -t "${NS[$p]}" -n ip -o link show | awk -v p="$p" '$2 != "lo:" { sub(/[@:].*/, "", $2); print "bench: " p ": " $2 " mtu " $5 }'
done
raw=$out/containers.csv
echo "direction,path,round,mbps,retransmits" >"$raw"
# measure PATH DIRECTION: one iperf3 run from PATH's namespace, to the peer
# or (-R) from it; a row with the receiver's rate.
measure() {
    local path=$1 dir=$2 reverse=()
    [ "$dir" = to-peer ] || reverse=(-R)
    if ! as_container "$path" timeout $((SECS + OMIT + 30)) \
        iperf3 -c $PEER -t $SECS -O $OMIT "${reverse[@]}" -J >"$T/run.json"; then
        echo "bench: iperf3 through $path ($dir) failed: $(jq -r '.error // empty' "$T/run.json" 2>/dev/null)"
        exit 1
    fi
    jq -r --arg d "$dir" --arg p "$path" --arg r "$round" \
        '"\($d),\($p),\($r),\(.end.sum_received.bits_per_second / 1e6 | floor),\(.end.sum_sent.retransmits // 0)"' \
        "$T/run.json" >>"$raw"
}

echo "bench: containers, $ROUNDS round(s): ${PATHS[*]}, both directions, ${SECS}s each"
for round in $(seq "$ROUNDS"); do
    for run in $(printf '%s\n' "${PATHS[@]/%/,to-peer}" "${PATHS[@]/%/,from-peer}" | shuf); do
        measure "${run%,*}" "${run#*,}"
    done
done
stop_daemon

bash "$here/containers_report.sh" "$out" "$smoke" "$SECS"
