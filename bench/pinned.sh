#!/bin/bash
# Filtered grants at scale: a grant under a rule with every filter (mac=,
# ip=, servers=no, rate=) against an unfiltered one, with no other pinned
# tap on the host and with 1,000, interleaved, in one run.
#
#   bench/pinned.sh            full run; rewrites the part of
#                              docs/PERFORMANCE.md between its markers and
#                              docs/perf/pinned*.csv
#   bench/pinned.sh --smoke --out DIR   one short round of everything
#   PINNED_MANY=0 PINNED_ROUNDS=N bench/pinned.sh --out DIR   no other tap on
#                              the host (to compare builds: UB_BUILD_DIR)
#
# Run as root, after a build (UB_BUILD_DIR, default build/), inside the
# integration tests' throwaway namespaces. br0 is allowed unfiltered, br1
# under the filtered rule, so that both kinds are asked of one daemon
# without a reload between them. Timings are reported, never asserted.
source "$(dirname "$0")/enter.sh" "$@"

# MANY: the background pinned taps of the larger level.
if [ $smoke = 1 ]; then ROUNDS=1 PER=5 MANY=20; else ROUNDS=${PINNED_ROUNDS:-8} PER=25 MANY=${PINNED_MANY:-1000}; fi
source "$here/setup.sh"
bench_setup
bridge br1
bridge br2
bridge br3
# filtered-v4: the same without the IPv6 prefix, whose elements go to
# interval sets the kernel rebuilds at each change (docs/PERFORMANCE.md);
# filtered-addr: one IPv4 and one IPv6 address, ip='s common case, whose
# elements go to hash sets.
FILTERED="mac=52:54:00:00:00:01 ip=10.0.0.0/24,2001:db8::/64 servers=no rate=100mbit"
FILTERED_V4="mac=52:54:00:00:00:02 ip=10.0.0.0/24 servers=no rate=100mbit"
FILTERED_ADDR="mac=52:54:00:00:00:03 ip=10.0.0.3,2001:db8::3 servers=no rate=100mbit"
acl "allow br0\nallow br1 $FILTERED\nallow br2 $FILTERED_V4\nallow br3 $FILTERED_ADDR\n"
start_daemon
declare -A BRIDGE=([unfiltered]=br0 [filtered]=br1 [filtered-v4]=br2 [filtered-addr]=br3)
# One filtered grant makes userbridged's table; its tap's elements go with it.
as_alice "$B" daemon /run/userbridge.sock br1 1 1 >/dev/null
within 5 eval '! nft list set bridge userbridge pinned | grep elements >/dev/null' ||
    { echo "bench: the tap's elements stayed in the set"; exit 1; }

# Background pinned taps (setup.sh), their elements put in and taken out
# between measurements, and with them their binding to the tc block of
# userbridged's checksum guard (net/csum_guard.cpp), as userbridged binds
# each pinned port. The block and its filter go with the last port bound
# to it, and the first tc filter on a host turns on the kernel's ingress
# hooks (static keys, patched into the kernel's text on every CPU), the
# last one gone turns them off: with no other pinned tap, each filtered
# grant pays that.
background_taps "$MANY"
background_elements "$MANY" >"$T/bg.elements"
sed 's/^/add /' "$T/bg.elements" >"$T/bg-add.nft"
sed 's/^/delete /' "$T/bg.elements" >"$T/bg-delete.nft"
for ((i = 0; i < MANY; i++)); do echo "qdisc add dev bg$i ingress_block $((0x75620001)) clsact"; done >"$T/bg-add.tc"
for ((i = 0; i < MANY; i++)); do echo "qdisc del dev bg$i clsact"; done >"$T/bg-delete.tc"
level=0
# set_level N: 0 or MANY background pinned taps: their elements in the
# sets and their guard's block bound.
set_level() {
    [ "$1" = "$level" ] && return
    if [ "$1" = 0 ]; then nft -f "$T/bg-delete.nft"; tc -batch "$T/bg-delete.tc"
    else nft -f "$T/bg-add.nft"; tc -batch "$T/bg-add.tc"
    fi
    level=$1
}

raw=$out/pinned.csv
echo "scenario,helper,param,latency_us,maxrss_kb,round" >"$raw"
# grants CLIENT RULE: PER grants, one at a time, each tap gone before the next.
grants() {
    local client=$1 rule=$2
    if [ "$client" = daemon-direct ]; then
        as_alice "$B" daemon /run/userbridge.sock "${BRIDGE[$rule]}" "$PER" 1
    else
        as_alice "$B" grants "$T/bin/userbridge-client" "${BRIDGE[$rule]}" "$PER" 1
    fi | grep -v '^wall_ns' | awk -v h="$client:$rule" -v p="$level" -v r="$round" \
        '{printf "pinned,%s,%s,%.1f,%d,%d\n", h, p, $1 / 1000, $2, r}' >>"$raw"
}

shuffled() { printf '%s\n' "$@" | shuf; }
echo "bench: filtered grants at scale, $ROUNDS round(s): 0 and $MANY pinned taps, $PER grants each"
levels=(0)
[ "$MANY" = 0 ] || levels+=("$MANY")
for round in $(seq "$ROUNDS"); do
    for n in $(shuffled "${levels[@]}"); do
        set_level "$n"
        for kind in $(shuffled daemon-direct:unfiltered daemon-direct:filtered daemon-direct:filtered-v4 \
                               daemon-direct:filtered-addr \
                               daemon-via-client:unfiltered daemon-via-client:filtered); do
            grants "${kind%%:*}" "${kind##*:}"
        done
    done
done
set_level 0
stop_daemon
ip -batch <(for ((i = 0; i < MANY; i++)); do echo "link del bg$i"; done)

bash "$here/pinned_report.sh" "$out" "$smoke" "$MANY" "$FILTERED" "$FILTERED_V4" "$FILTERED_ADDR"
