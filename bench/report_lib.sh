# Sourced by the bench/*_report.sh and bench/report.sh: the per-round
# figures of a run and the table cells made of them. ROUNDS_CSV names the
# rounds file (scenario,helper,param,round,p50,p50_upto) the cells read.

# median_by: from lines "scenario,helper,param,group,value", the p50 of each
# scenario,helper,param,group (the same p50 as summarize's).
median_by() {
    sort -t, -k1,1 -k2,2 -k3,3n -k4,4n -k5,5n | awk -F, '
        function flush() { if (n) printf "%s,%.1f\n", last, v[int((n - 1) * 0.50) + 1] }
        { k = $1 "," $2 "," $3 "," $4; if (k != last) { flush(); n = 0; last = k }; v[++n] = $5 }
        END { flush() }'
}
# write_rounds SAMPLES: ROUNDS_CSV from SAMPLES (lines
# "scenario,helper,param,round,value"): each round's p50, and the p50 of the
# samples of rounds 1 to it (what the report would say had the run stopped
# after that round).
write_rounds() {
    local samples=$1
    median_by <"$samples" >"$ROUNDS_CSV.round"
    awk -F, 'NR == FNR { if ($4 > R[$1]) R[$1] = $4; next }
             { for (k = $4; k <= R[$1]; k++) print $1 "," $2 "," $3 "," k "," $5 }' \
        "$samples" "$samples" | median_by >"$ROUNDS_CSV.upto"
    { echo "scenario,helper,param,round,p50_us,p50_upto_us"
      awk -F, 'NR == FNR { u[$1 "," $2 "," $3 "," $4] = $5; next }
               { print $0 "," u[$1 "," $2 "," $3 "," $4] }' "$ROUNDS_CSV.upto" "$ROUNDS_CSV.round"; } >"$ROUNDS_CSV"
    rm -f "$ROUNDS_CSV.round" "$ROUNDS_CSV.upto"
}

# cell SCENARIO HELPER PARAM: "p50 (lowest–highest per-round p50)", or
# nothing where the helper has no such samples. From 100 on, the range is
# given in whole units, widened outwards so that it still holds every round.
cell() {
    awk -F, -v k="$1,$2,$3" '$1 "," $2 "," $3 == k {
            if (!n++ || $5 < lo) lo = $5; if ($5 > hi) hi = $5; all = $6 }
        END { if (!n) exit
              if (all < 100) { printf "%.1f (%.1f–%.1f)", all, lo, hi; exit }
              printf "%.1f (%d–%d)", all, int(lo), int(hi) + (hi > int(hi)) }' "$ROUNDS_CSV"
}
# rcell SCENARIO HELPER PARAM SCENARIO2 HELPER2 PARAM2: the ratio of the two
# p50s, then the lowest and highest ratio within one round; the pair is kept
# for settled_line.
rcell() {
    echo "$1,$2,$3 $4,$5,$6" >>"$ROUNDS_CSV.pairs"
    awk -F, -v a="$1,$2,$3" -v b="$4,$5,$6" '
        { k = $1 "," $2 "," $3; if (k == a) { x[$4] = $5; fa = $6 }; if (k == b) { y[$4] = $5; fb = $6 } }
        END { if (fb <= 0) { print "-"; exit }
              for (r in x) if (y[r] > 0) { q = x[r] / y[r]; if (!n++ || q < lo) lo = q; if (q > hi) hi = q }
              printf "%.2fx (%.2f–%.2f)", fa / fb, lo, hi }' "$ROUNDS_CSV"
}
# overall SCENARIO HELPER PARAM: the p50 over all rounds, bare (for a
# plot), or "-" (gnuplot's missing value) where there are no samples.
overall() {
    awk -F, -v k="$1,$2,$3" '$1 "," $2 "," $3 == k { v = $6 } END { print (v == "" ? "-" : v) }' "$ROUNDS_CSV"
}
# over_cell SCENARIO HELPER PARAM: what an exec'd path costs above what
# any exec'd grant must pay: its p50 less the setuid no-op's (the exec) and
# the kernel's steps (the tap), then the lowest and highest of the same
# difference within one round (the three ran interleaved in it).
over_cell() {
    awk -F, -v a="$1,$2,$3" -v f="$1,floor-setuid-noop,$3" -v k="$1,kernel-steps,$3" '
        { key = $1 "," $2 "," $3
          if (key == a) { x[$4] = $5; xa = $6 }
          else if (key == f) { y[$4] = $5; ya = $6 }
          else if (key == k) { z[$4] = $5; za = $6 } }
        END { if (xa == "" || ya == "" || za == "") exit
              for (r in x) if ((r in y) && (r in z)) { d = x[r] - y[r] - z[r]; if (!n++ || d < lo) lo = d; if (d > hi) hi = d }
              printf "%.0f (%.0f–%.0f)", xa - ya - za, lo, hi }' "$ROUNDS_CSV"
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
             }' "$ROUNDS_CSV.pairs" "$ROUNDS_CSV"
    rm -f "$ROUNDS_CSV.pairs"
}


# report_target SCRIPT NAME FILE SMOKE DIR: where a report of bench/SCRIPT
# goes: DIR/FILE, or, for a full run into docs/perf, the part of
# docs/PERFORMANCE.md between SCRIPT's markers (its NAME in the message).
# Sets doc, files (where the report finds its CSVs, from where it is),
# begin and end.
report_target() {
    local script=$1 name=$2 file=$3 smoke=$4 dir=$5 lib
    lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    doc=$dir/$file
    files=
    begin="<!-- bench/$script writes from here to the end marker; edit around it. -->"
    end="<!-- end of what bench/$script writes -->"
    if [ "$smoke" != 1 ] && [ "$dir" = "$(cd "$lib/../docs/perf" && pwd)" ]; then
        doc=$lib/../docs/PERFORMANCE.md
        files=perf/
        grep -qxF "$begin" "$doc" && grep -qxF "$end" "$doc" ||
            { echo "bench: $doc lacks the $name marker lines" >&2; exit 1; }
    fi
}
# splice_report: $doc.part into $doc between the markers, or as $doc.
splice_report() {
    if [ -n "$files" ]; then
        awk -v b="$begin" -v e="$end" -v part="$doc.part" '
            $0 == e { while ((getline line < part) > 0) print line; print ""; skip = 0 }
            !skip { print }
            $0 == b { print ""; skip = 1 }' "$doc" >"$doc.new"
        mv "$doc.new" "$doc"
        rm -f "$doc.part"
    else
        mv "$doc.part" "$doc"
    fi
}
