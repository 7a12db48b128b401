#!/bin/bash
# Turns bench/run.sh's CSV into summary.csv, a Markdown report and PNG plots.
#   report.sh DIR SMOKE   writes DIR/PERFORMANCE.md, or, for a full run into
#                         docs/perf, the results at the end of
#                         docs/PERFORMANCE.md (below its marker line; the
#                         page above it is written by hand)
set -euo pipefail
dir=$(cd "$1" && pwd)
smoke=$2
here=$(cd "$(dirname "$0")" && pwd)
doc=$dir/PERFORMANCE.md
files=  # where the report finds the plots and CSVs, from where it is
heading="# Performance"
marker='<!-- bench/run.sh writes the results below this line; edit above it. -->'
if [ "$smoke" != 1 ] && [ "$dir" = "$(cd "$here/../docs/perf" && pwd)" ]; then
    doc=$here/../docs/PERFORMANCE.md
    files=perf/
    heading="## The last full run"
    grep -qxF "$marker" "$doc" || { echo "bench: $doc has no line '$marker'" >&2; exit 1; }
fi

# summary.csv: scenario,helper,param,n,p50_us,p99_us,mean_us,max_rss_kb
summarize() {
    tail -n +2 "$dir/raw.csv" | sort -t, -k1,1 -k2,2 -k3,3n -k4,4n | awk -F, '
        function flush() {
            if (n == 0) return
            p50 = v[int((n - 1) * 0.50) + 1]; p99 = v[int((n - 1) * 0.99) + 1]
            printf "%s,%s,%s,%d,%.1f,%.1f,%.1f,%d\n", key1, key2, key3, n, p50, p99, sum / n, rss
        }
        { k = $1 "," $2 "," $3
          if (k != last) { flush(); n = 0; sum = 0; rss = 0; last = k; key1 = $1; key2 = $2; key3 = $3 }
          v[++n] = $4; sum += $4; if ($5 > rss) rss = $5 }
        END { flush() }'
}
# median_by: from lines "scenario,helper,param,group,value", the p50 of each
# scenario,helper,param,group (the same p50 as summarize's).
median_by() {
    sort -t, -k1,1 -k2,2 -k3,3n -k4,4n -k5,5n | awk -F, '
        function flush() { if (n) printf "%s,%.1f\n", last, v[int((n - 1) * 0.50) + 1] }
        { k = $1 "," $2 "," $3 "," $4; if (k != last) { flush(); n = 0; last = k }; v[++n] = $5 }
        END { flush() }'
}
# Every sample as "scenario,helper,param,round,value": the grants' latencies
# (a run from before samples carried their round counts as one round) and
# the throughput rounds, as scenario "throughput".
samples() {
    tail -n +2 "$dir/raw.csv" | awk -F, '{print $1 "," $2 "," $3 "," ($6 == "" ? 1 : $6) "," $4}'
    tail -n +2 "$dir/throughput.csv" | awk -F, '{print "throughput," $1 ",1," $2 "," $3}'
}
# rounds.csv: each round's p50, and the p50 of the samples of rounds 1 to it
# (what the report would say had the run stopped after that round).
samples >"$dir/samples.tmp"
median_by <"$dir/samples.tmp" >"$dir/round.tmp"
awk -F, 'NR == FNR { if ($4 > R[$1]) R[$1] = $4; next }
         { for (k = $4; k <= R[$1]; k++) print $1 "," $2 "," $3 "," k "," $5 }' \
    "$dir/samples.tmp" "$dir/samples.tmp" | median_by >"$dir/upto.tmp"
{ echo "scenario,helper,param,round,p50_us,p50_upto_us"
  awk -F, 'NR == FNR { u[$1 "," $2 "," $3 "," $4] = $5; next }
           { print $0 "," u[$1 "," $2 "," $3 "," $4] }' "$dir/upto.tmp" "$dir/round.tmp"; } >"$dir/rounds.csv"
rm -f "$dir/samples.tmp" "$dir/round.tmp" "$dir/upto.tmp"

# summary.csv: scenario,helper,param,n,p50_us,p99_us,mean_us,max_rss_kb, then
# the rounds and the lowest and highest of their p50s.
{ echo "scenario,helper,param,n,p50_us,p99_us,mean_us,max_rss_kb,rounds,p50_min_us,p50_max_us"
  summarize | awk -F, 'NR == FNR { if (FNR == 1) next; k = $1 "," $2 "," $3
                                   if (!(k in n) || $5 < lo[k]) lo[k] = $5
                                   if (!(k in n) || $5 > hi[k]) hi[k] = $5
                                   n[k]++; next }
                       { k = $1 "," $2 "," $3; printf "%s,%d,%.1f,%.1f\n", $0, n[k], lo[k], hi[k] }' "$dir/rounds.csv" -; } >"$dir/summary.csv"

get() {  # get SCENARIO HELPER PARAM COLUMN
    awk -F, -v s="$1" -v h="$2" -v p="$3" -v c="$4" '$1 == s && $2 == h && $3 == p {print $c}' "$dir/summary.csv"
}
# cell SCENARIO HELPER PARAM: "p50 (lowest–highest per-round p50)", or
# nothing where the helper has no such samples. From 100 on, the range is
# given in whole units, widened outwards so that it still holds every round.
cell() {
    awk -F, -v k="$1,$2,$3" '$1 "," $2 "," $3 == k {
            if (!n++ || $5 < lo) lo = $5; if ($5 > hi) hi = $5; all = $6 }
        END { if (!n) exit
              if (all < 100) { printf "%.1f (%.1f–%.1f)", all, lo, hi; exit }
              printf "%.1f (%d–%d)", all, int(lo), int(hi) + (hi > int(hi)) }' "$dir/rounds.csv"
}
# rcell SCENARIO HELPER PARAM SCENARIO2 HELPER2 PARAM2: the ratio of the two
# p50s, then the lowest and highest ratio within one round; the pair is kept
# for settled_line.
rcell() {
    echo "$1,$2,$3 $4,$5,$6" >>"$dir/pairs.tmp"
    awk -F, -v a="$1,$2,$3" -v b="$4,$5,$6" '
        { k = $1 "," $2 "," $3; if (k == a) { x[$4] = $5; fa = $6 }; if (k == b) { y[$4] = $5; fb = $6 } }
        END { if (fb <= 0) { print "-"; exit }
              for (r in x) if (y[r] > 0) { q = x[r] / y[r]; if (!n++ || q < lo) lo = q; if (q > hi) hi = q }
              printf "%.2fx (%.2f–%.2f)", fa / fb, lo, hi }' "$dir/rounds.csv"
}
# settled_line: under a table, how many rounds its ratios took to settle:
# the first round after which the ratio of the p50s of the rounds so far
# stays within 5% of the run's final ratio, for every ratio in the table.
settled_line() {
    awk -F, 'NR == FNR { split($0, p, " "); a[FNR] = p[1]; b[FNR] = p[2]; pairs = FNR; next }
             FNR > 1 { u[$1 "," $2 "," $3, $4] = $6; if ($4 + 0 > R) R = $4 + 0 }
             END {
               for (i = 1; i <= pairs; i++) {
                 for (n = R; n > 0 && !((a[i], n) in u && (b[i], n) in u); n--) ;
                 if (n == 0 || u[b[i], n] <= 0) continue
                 final = u[a[i], n] / u[b[i], n]; s = n
                 for (k = n - 1; k > 0; k--) {
                   if (!((a[i], k) in u) || u[b[i], k] <= 0) break
                   q = u[a[i], k] / u[b[i], k] / final
                   if (q < 0.95 || q > 1.05) break
                   s = k
                 }
                 if (n > N) N = n; if (s > S) S = s
               }
               if (N == 1) { print "The ratios come from one round: no spread to give."; exit }
               printf "Each figure: the p50 over all rounds, then (lowest–highest) of the per-round p50s;"
               printf " %d rounds. ", N
               if (S < N) printf "The ratios settled (within ±5%% of their final value) after %d of them.\n", S
               else print "The ratios settled only in the last: more rounds would make them firmer."
             }' "$dir/pairs.tmp" "$dir/rounds.csv"
    rm -f "$dir/pairs.tmp"
}

# param_table SCENARIO ROWS...: p50 per helper (rows) and parameter
# (columns), and the largest parameter's p50 over the smallest's, each with
# its spread over rounds.
param_table() {
    local scenario=$1 params first last
    shift
    params=$(awk -F, -v s="$scenario" '$1 == s {print $3}' "$dir/summary.csv" | sort -un)
    first=$(echo $params | awk '{print $1}')
    last=$(echo $params | awk '{print $NF}')
    echo "| helper | $(echo $params | sed 's/ / | /g') | $last vs $first |"
    echo "|---|$(for p in $params; do printf -- '---|'; done)---|"
    for h in "$@"; do
        [ -n "$(get "$scenario" "$h" "$first" 5)" ] || continue
        echo "| $h | $(for p in $params; do printf '%s | ' "$(cell "$scenario" "$h" "$p")"; done)$(rcell "$scenario" "$h" "$last" "$scenario" "$h" "$first") |"
    done
    echo
    settled_line
}

# The machine's costs that every exec'd program pays (machine.csv, from
# `ub-bench machine`), or nothing for a run made before it was measured.
machine_line() {
    local f=$dir/machine.csv cpuid fault
    [ -f "$f" ] || return 0
    cpuid=$(awk -F, '$1 == "cpuid_ns" {printf "%.1f", $2 / 1000}' "$f")
    fault=$(awk -F, '$1 == "fault_ns" {printf "%.1f", $2 / 1000}' "$f")
    [ -n "$fault" ] || return 0
    if [ -n "$cpuid" ]; then
        echo "On this machine one \`cpuid\` takes $cpuid µs (glibc runs dozens before a program's"
        echo "\`main\`, and a VM may trap each to its hypervisor) and a first write to a page of"
        echo "memory $fault µs (with its share of mapping and unmapping): costs every exec'd helper pays."
    else
        echo "On this machine a first write to a page of memory takes $fault µs (with its share"
        echo "of mapping and unmapping), a cost every exec'd helper pays."
    fi
}

ALL="debian-setuid userbridge-setuid userbridge-fcap daemon-via-client daemon-direct"
{
    echo "$heading"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)."
    echo "Each grant is timed from fork to the tap fd received and the helper reaped,"
    echo "exactly as QEMU runs a bridge helper; the helpers run interleaved in one run,"
    echo "called by an unprivileged user. Ratios are to Debian's qemu-bridge-helper."
    echo "With one client, each grant starts once the previous tap is gone (a tap's"
    echo "teardown holds the kernel's RTNL lock for 15 to 25 ms; it is never timed);"
    echo "throughput runs go back to back."
    machine_line
    echo
    echo "## Grant latency, one client"
    echo
    echo "| helper | grants | p50 (µs) | p99 (µs) | mean (µs) | p50 vs Debian | peak RSS (KiB) |"
    echo "|---|---|---|---|---|---|---|"
    for h in $ALL floor-setuid-noop kernel-steps; do
        [ -n "$(get sequential $h 1 4)" ] || continue
        echo "| $h | $(get sequential $h 1 4) | $(cell sequential $h 1) | $(get sequential $h 1 6) | $(get sequential $h 1 7) | $(rcell sequential $h 1 sequential debian-setuid 1) | $(get sequential $h 1 8) |"
    done
    echo
    settled_line
    echo
    echo "## Throughput (median over rounds, grants per second)"
    echo
    echo "| helper | 1 client | 8 concurrent clients | 8 clients vs Debian |"
    echo "|---|---|---|---|"
    for h in $ALL; do
        echo "| $h | $(cell throughput "$h-sequential" 1) | $(cell throughput "$h" 1) | $(rcell throughput "$h" 1 throughput debian-setuid 1) |"
    done
    echo
    settled_line
    echo
    echo "## Latency with taps already on the bridge (p50 µs)"
    echo
    param_table taps $ALL kernel-steps
    echo
    echo "\`kernel-steps\`: the kernel's share alone (the daemon's steps, as root, no policy, IPC or exec)."
    echo
    echo "## Latency by ACL size (p50 µs; the bridge is allowed by the last rule)"
    echo
    param_table acl $ALL
    echo
    echo "Parsing and deciding in memory (userbridge's policy code alone):"
    echo
    echo "| rules | parse + decide (µs) | decide alone (µs) |"
    echo "|---|---|---|"
    awk -F, 'NR > 1 { v[$1 "," $2] = $3; r[$1] = 1 }
             END { for (n in r) printf "%d %.1f %.1f\n", n, v[n ",parse_decide_ns"] / 1000, v[n ",decide_ns"] / 1000 }' \
        "$dir/decide.csv" | sort -n | awk '{printf "| %s | %s | %s |\n", $1, $2, $3}'
    echo
    echo "## Grants with a filter (p50 µs)"
    echo
    echo "Rule 0: \`allow br0\`; 1: \`allow br0 mac=52:54:00:00:00:01\`; 2: the same with"
    echo "\`ip=10.0.0.0/24,2001:db8::/64 servers=no rate=100mbit\`. Each filtered grant"
    echo "also goes through libnftables, in userbridged: the helpers refuse such rules."
    echo
    param_table filter $ALL
    echo
    echo "![sequential latency](${files}latency.png)"
    echo "![taps on the bridge](${files}taps.png)"
    echo "![ACL size](${files}acl.png)"
    echo
    machine=
    [ -f "$dir/machine.csv" ] && machine=", \`${files}machine.csv\`"
    echo "Raw samples: \`${files}raw.csv\`; summaries: \`${files}summary.csv\`, \`${files}rounds.csv\`, \`${files}throughput.csv\`, \`${files}decide.csv\`$machine."
} >"$doc.new"
if [ -n "$files" ]; then
    { awk -v m="$marker" '{ print } $0 == m { exit }' "$doc"; echo; cat "$doc.new"; } >"$doc.page"
    mv "$doc.page" "$doc.new"
fi
mv "$doc.new" "$doc"

if command -v gnuplot >/dev/null; then
    for h in $ALL floor-setuid-noop; do
        echo "$h $(get sequential $h 1 5) $(get sequential $h 1 6)"
    done >"$dir/latency.dat"
    for s in taps acl; do
        for h in $ALL kernel-steps; do
            awk -F, -v s=$s -v h=$h '$1 == s && $2 == h {print $3, $5}' "$dir/summary.csv" >"$dir/$s-$h.dat"
        done
    done
    gnuplot <<GP
set terminal png size 900,450
set output "$dir/latency.png"
set title "Grant latency, one client (µs)"
set style data histograms
set style histogram clustered
set xtics rotate by -25 left font ",9"
set bmargin 6
set style fill solid 0.8
set yrange [0:*]
set key top left
plot "$dir/latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99"
set output "$dir/taps.png"
set title "p50 grant latency vs taps already on the bridge (µs)"
set style data linespoints
set xlabel "taps on the bridge"
plot for [h in "$ALL kernel-steps"] "$dir/taps-".h.".dat" using 1:2 title h
set output "$dir/acl.png"
set title "p50 grant latency vs ACL rules (µs)"
set logscale x
set xlabel "rules in the ACL"
plot for [h in "$ALL"] "$dir/acl-".h.".dat" using 1:2 title h
GP
    rm -f "$dir"/*.dat
fi
echo "bench: report in $doc"
