#!/bin/bash
# Data-path benchmark: frames through a tap userbridged granted, driven from
# its fd as QEMU's virtio-net backend drives it, to a peer on the bridge and
# back, with each kind of filter, against a tap made by hand with no
# nftables table at all (the limit), in one interleaved run.
#
#   bench/datapath.sh            full run; rewrites the data-path section of
#                                docs/PERFORMANCE.md and docs/perf/datapath*
#   bench/datapath.sh --smoke --out DIR   one short round of everything
#
# Run as root, after a build (UB_BUILD_DIR, default build/), inside the
# integration tests' throwaway namespaces. br0 holds the tap under test and
# a veth whose far end is in a namespace of its own, where `ub-datapath
# peer` counts what arrives with a packet socket and sends what the tap
# reads. The tap side runs as an unprivileged user, pinned to CPU 0, the
# peer to CPU 1. Rates are reported, never asserted.
source "$(dirname "$0")/enter.sh" "$@"

# SECS: each phase's length; MANY: the background pinned taps of the
# "many" level.
if [ $smoke = 1 ]; then ROUNDS=1 SECS=0.2 MANY=20; else ROUNDS=6 SECS=1 MANY=1000; fi
install -m 0755 "$UB_BUILD_DIR/bench/ub-datapath" "$T/bin/"
D=$T/bin/ub-datapath
TAP_CPU=0 PEER_CPU=1
[ "$(nproc)" -ge 2 ] || PEER_CPU=0

# br_netfilter, where some other program loaded it (Docker, for one), hands
# every bridged IP frame to the IP hooks too, by default: that would add its
# cost to every tap here alike. In this namespace only.
for f in /proc/sys/net/bridge/bridge-nf-call-{iptables,ip6tables,arptables}; do
    [ ! -e "$f" ] || echo 0 >"$f"
done

# The peer: br0's veth, its far end in a namespace of its own with no
# address (what arrives stops at the counter).
bridge br0
ip netns add dp-peer
ip link set br0-peer netns dp-peer
ip netns exec dp-peer sysctl -qw net.ipv6.conf.br0-peer.disable_ipv6=1
ip -n dp-peer link set br0-peer up
ip netns exec dp-peer "$D" peer br0-peer "$T/work/peer.sock" $PEER_CPU >"$T/peer.out" 2>&1 &
BACKGROUND+=($!)
within 5 grep -q listening "$T/peer.out" || { echo "bench: the peer did not start:"; cat "$T/peer.out"; exit 1; }
chmod 666 "$T/work/peer.sock"

# The limit: a tap made by hand, as an administrator would for QEMU's
# -netdev tap,ifname=, on the same bridge.
ip tuntap add dev hand0 mode tap vnet_hdr user $ALICE
ip link set hand0 master br0 up

# The rules under test; each tap is granted under one of them.
PIN=mac=52:54:00:00:00:01
declare -A RULE=([unfiltered]="" [mac]=" $PIN" [mac-ip]=" $PIN ip=10.9.0.2 servers=no"
                 [rate-under]=" rate=100gbit" [rate-over]=" rate=10mbit")
CONFIGS=(unfiltered mac mac-ip rate-under rate-over)

# userbridged's table, empty, as it makes it for the first filtered grant:
# saved once, loaded again wherever a level needs it.
acl "allow br0${RULE[mac-ip]}\n"
start_daemon
as_alice "$T/bin/ub-bench" daemon /run/userbridge.sock br0 1 1 >/dev/null
within 5 eval '! nft list set bridge userbridge pinned | grep elements >/dev/null' ||
    { echo "bench: the tap's elements stayed in the set"; exit 1; }
nft list table bridge userbridge >"$T/table.nft"

# Background pinned taps (bench/setup.sh).
source "$here/setup.sh"
background_taps "$MANY"
# background N: the elements of the first N, as an nft script.
background() { background_elements "$1" | sed 's/^/add /' >"$T/bg-$1.nft"; }
background 1
background "$MANY"

# set_level N: no nftables table at all (0), or userbridged's table with N
# background pinned taps. Between measurements only: no tap under test is
# open then.
set_level() {
    nft delete table bridge userbridge 2>/dev/null || true
    [ "$1" = 0 ] && return
    nft -f "$T/table.nft"
    nft -f "$T/bg-$1.nft"
}

raw=$out/datapath.csv
echo "phase,config,level,round,gbps,pps,sent,cpu_ns_per_frame" >"$raw"
# measure CONFIG LEVEL: one tap, four phases; a row each.
measure() {
    local config=$1 level=$2
    if [ "$config" = hand-made ]; then
        as_alice "$D" tap name hand0 "$T/work/peer.sock" $SECS $TAP_CPU
    else
        echo "allow br0${RULE[$config]}" >/etc/qemu/bridge.conf
        reload_daemon
        as_alice "$D" tap daemon /run/userbridge.sock br0 "$T/work/peer.sock" $SECS $TAP_CPU
    fi | awk -v c="$config" -v l="$level" -v r="$round" '{print $1 "," c "," l "," r "," $2 "," $3 "," $4 "," $5}' >>"$raw"
}

shuffled() { printf '%s\n' "$@" | shuf; }
echo "bench: data path, $ROUNDS round(s): levels 0, 1, $MANY background pinned taps, ${SECS}s a phase"
for round in $(seq "$ROUNDS"); do
    for level in $(shuffled 0 1 "$MANY"); do
        set_level "$level"
        if [ "$level" = 0 ]; then
            measure hand-made 0
        else
            for config in $(shuffled "${CONFIGS[@]}"); do measure "$config" "$level"; done
        fi
    done
done
set_level 0
stop_daemon

bash "$here/datapath_report.sh" "$out" "$smoke" "$MANY" "$SECS"
