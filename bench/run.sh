#!/bin/bash
# Grant-latency benchmark: userbridge-helper against Debian's
# qemu-bridge-helper, side by side and interleaved, in one run.
#
#   bench/run.sh            full run; rewrites docs/PERFORMANCE.md and
#                           docs/perf/ (CSV, PNG)
#   bench/run.sh --smoke --out DIR   a few grants of everything into DIR
#
# Run as root, after a build (UB_BUILD_DIR, default build/). Everything
# happens in a throwaway network and mount namespace (the integration tests'
# sandbox): a bridge, setuid and file-capability copies of the helpers, an
# unprivileged caller. Each grant is timed by ub-bench from fork to the tap
# fd received and the helper reaped, as QEMU does it; the tap is closed
# outside the timed span. Timings are reported, never asserted.
source "$(dirname "$0")/enter.sh" "$@"

if [ $smoke = 1 ]; then
    ROUNDS=2 PER_ROUND=5 CONC_ROUNDS=1 CONC_COUNT=8 TAPS="0 20" ACLS="10 100" PARAM_COUNT=5 DECIDE_ROUNDS=10
else
    ROUNDS=10 PER_ROUND=30 CONC_ROUNDS=4 CONC_COUNT=80 TAPS="0 250 500 1000" ACLS="10 100 1000 10000" PARAM_COUNT=60 DECIDE_ROUNDS=200
fi

source "$here/setup.sh"
bench_setup
declare -A HELPER=([debian-setuid]=$T/bin/qemu-helper [userbridge-setuid]=$T/bin/setuid-helper
                   [userbridge-fcap]=$T/bin/fcap-helper [daemon-via-client]=$T/bin/userbridge-client
                   [daemon-direct]=)
# daemon-via-client: QEMU runs userbridge-client, which asks userbridged.
# daemon-direct: libuserbridge asks userbridged itself; nothing is exec'd.
NAMES=(debian-setuid userbridge-setuid userbridge-fcap daemon-via-client daemon-direct)
start_daemon
# What any short-lived process pays here (see ub-bench machine): the floor's
# two largest parts on the machines we measured.
{ echo "measure,ns"; "$B" machine | awk '{print $1 "," $2}'; } >"$out/machine.csv"
raw=$out/raw.csv
# Every sample carries the round it ran in (the loops below set $round), so
# that report.sh can give the spread of the per-round medians.
echo "scenario,helper,param,latency_us,maxrss_kb,round" >"$raw"

# grants SCENARIO PARAM NAME COUNT CONC [back-to-back]: append samples;
# print throughput.
grants() {
    local scenario=$1 param=$2 name=$3 count=$4 conc=$5 mode=${6:-}
    if [ "$name" = daemon-direct ]; then
        as_alice "$B" daemon /run/userbridge.sock br0 "$count" "$conc" $mode >"$T/samples"
    else
        as_alice "$B" grants "${HELPER[$name]}" br0 "$count" "$conc" $mode >"$T/samples"
    fi
    grep -v '^wall_ns' "$T/samples" | awk -v s="$scenario" -v h="$name" -v p="$param" -v r="$round" \
        '{printf "%s,%s,%s,%.1f,%d,%d\n", s, h, p, $1 / 1000, $2, r}' >>"$raw"
    awk -v c="$count" '/^wall_ns/ {printf "%.1f", c / ($2 / 1e9)}' "$T/samples"
}

# kernel_steps SCENARIO PARAM COUNT: the kernel's share of a grant (as
# root, the daemon's steps alone), as pseudo-helper "kernel-steps".
kernel_steps() {
    "$B" kernel br0 "$3" | awk -v s="$1" -v p="$2" -v r="$round" \
        '{printf "%s,kernel-steps,%s,%.1f,0,%d\n", s, p, $1 / 1000, r}' >>"$raw"
}

shuffled() { printf '%s\n' "$@" | shuf; }

echo "bench: sequential, interleaved: $ROUNDS rounds x $PER_ROUND grants per helper"
for round in $(seq "$ROUNDS"); do
    for name in $(shuffled "${NAMES[@]}" floor kernel); do
        if [ "$name" = kernel ]; then
            kernel_steps sequential 1 "$PER_ROUND"
        elif [ "$name" = floor ]; then
            as_alice "$B" floor "$T/bin/setuid-noop" "$PER_ROUND" |
                awk -v r="$round" '{printf "sequential,floor-setuid-noop,1,%.1f,%d,%d\n", $1 / 1000, $2, r}' >>"$raw"
        else
            grants sequential 1 "$name" "$PER_ROUND" 1 >/dev/null
        fi
    done
done

echo "bench: 8 concurrent clients, interleaved: $CONC_ROUNDS rounds x $CONC_COUNT grants per helper"
tput=$out/throughput.csv
echo "helper,round,grants_per_s" >"$tput"
for round in $(seq "$CONC_ROUNDS"); do
    for name in $(shuffled "${NAMES[@]}"); do
        echo "$name,$round,$(grants concurrent 8 "$name" "$CONC_COUNT" 8)" >>"$tput"
    done
done
sequential_tput() {
    for round in 1 2; do for name in $(shuffled "${NAMES[@]}"); do
        echo "$name-sequential,$round,$(grants throughput-seq 1 "$name" "$CONC_COUNT" 1 back-to-back)" >>"$tput"
    done; done
}
sequential_tput

# Each count of taps is measured on the way up and again on the way down,
# half the grants each time (rounds 1 and 2), so that a drift of the machine
# over the minutes this takes falls on every count alike instead of on the
# largest.
echo "bench: taps already on the bridge: $TAPS, going up and coming down"
taps_at() {
    local n=$1 count=$2
    for name in $(shuffled "${NAMES[@]}" kernel); do
        if [ "$name" = kernel ]; then kernel_steps taps "$n" "$count"
        else grants taps "$n" "$name" "$count" 1 >/dev/null; fi
    done
}
have=0
set_taps() {
    local n=$1 i
    { for ((i = have; i < n; i++)); do echo "tuntap add dev bt$i mode tap"; echo "link set bt$i master br0 up"; done
      for ((i = have - 1; i >= n; i--)); do echo "link del bt$i"; done; } >"$T/taps.batch"
    [ -s "$T/taps.batch" ] && ip -batch "$T/taps.batch"
    have=$n
}
half=$(((PARAM_COUNT + 1) / 2))
round=1
for n in $TAPS; do set_taps "$n"; taps_at "$n" "$half"; done
round=2
for n in $(printf '%s\n' $TAPS | sort -rn); do set_taps "$n"; taps_at "$n" "$half"; done
set_taps 0

# In three rounds, like the filters below, so that the table can show the
# spread between rounds and no ACL size takes all of one stretch of drift.
echo "bench: ACL size: $ACLS rules, 3 rounds"
for round in 1 2 3; do
    for n in $ACLS; do
        { for i in $(seq 1 $((n - 1))); do echo "allow xbr$i"; done; echo "allow br0"; } >/etc/qemu/bridge.conf
        reload_daemon
        for name in $(shuffled "${NAMES[@]}"); do
            grants acl "$n" "$name" $(((PARAM_COUNT + 2) / 3)) 1 >/dev/null
        done
        [ $round = 1 ] || continue
        as_alice "$B" decide /etc/qemu/bridge.conf br0 "$DECIDE_ROUNDS" |
            awk -v n="$n" '{print n "," $1 "," $2}' >>"$out/decide.csv.tmp"
    done
done
{ echo "rules,measure,ns"; cat "$out/decide.csv.tmp"; } >"$out/decide.csv"
rm -f "$out/decide.csv.tmp"

# Grants with a filter: each goes through libnftables too. 0: a plain rule;
# 1: a pinned MAC; 2: that, ip=, servers=no and rate= as well. Only
# userbridged installs filters (the helpers refuse such rules), so only its
# two ways are in this table. A fixed mac=; the grants are one at a time,
# each tap gone before the next, so one MAC never collides with itself.
FILTERS=("" " mac=52:54:00:00:00:01" " mac=52:54:00:00:00:01 ip=10.0.0.0/24,2001:db8::/64 servers=no rate=100mbit")
# In three rounds, so that the machine's drift over the minutes this takes
# does not fall on one rule.
echo "bench: grants with a filter: ${#FILTERS[@]} rules, 3 rounds"
for round in 1 2 3; do
    for i in $(shuffled "${!FILTERS[@]}"); do
        echo "allow br0${FILTERS[$i]}" >/etc/qemu/bridge.conf
        reload_daemon
        for name in $(shuffled "${NAMES[@]}"); do
            [[ $name = daemon-* ]] || continue
            grants filter "$i" "$name" $(((PARAM_COUNT + 2) / 3)) 1 >/dev/null
        done
    done
done
acl 'allow br0\n'
stop_daemon

bash "$here/report.sh" "$out" "$smoke"
