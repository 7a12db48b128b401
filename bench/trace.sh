#!/bin/bash
# Where one exec'd grant spends its time, from kernel tracepoints: for
# Debian's qemu-bridge-helper, ours (setuid and file capabilities) and a
# setuid no-op, COUNT grants (execs) of each, interleaved, called the way
# QEMU calls a helper by an unprivileged user.
#
#   bench/trace.sh [COUNT]     as root, after a build; COUNT defaults to 20
#   bench/trace.sh --daemon [COUNT]
#
# Prints a Markdown table of medians per program: the caller's fork to the
# execve, the execve, exec to exit_group, exit_group to the caller's wait4
# returning, and per process the system calls and user-mode page faults
# after exec; then exec to exit_group phase by phase: loading (the exec to
# libc's __libc_start_main, a uprobe: the dynamic loader's work), from there
# to the first TUNSETIFF (sanitizing, privileges, the ACL, names, the
# sandbox), from it to the sendmsg that hands the tap over (the tap made and
# attached), and from that to exit_group; with the page faults of loading.
# Without uprobe events the loading column is left out. With --daemon, COUNT grants through libuserbridge from
# userbridged instead: the client's connect to the end of its grant, the
# daemon's request read to reply sent, and of that the daemon's time in
# system calls, off its CPU outside them (preempted), and in user mode.
# Tracing slows every system call a little: compare the rows with each
# other, not the times with bench/run.sh's. Exits 77 (skipped) when tracefs
# or its raw_syscalls, exceptions and sched events are not there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export UB_BUILD_DIR=${UB_BUILD_DIR:-$root/build}
# Not shifted: the sandbox re-executes this script with its arguments.
if [ "${1:-}" = --daemon ]; then mode=daemon; count=${2:-20}; else mode=exec; count=${1:-20}; fi
[[ $count =~ ^[1-9][0-9]{0,3}$ ]] ||
    { echo "usage: bench/trace.sh [--daemon] [COUNT (1-9999)]" >&2; exit 2; }

# Enter the sandbox (re-executes this script inside it).
source "$root/tests/integration/lib.sh"

TR=$T/tracefs
mkdir -p "$TR"
if ! mount -t tracefs tracefs "$TR" 2>/dev/null || [ ! -d "$TR/events/raw_syscalls" ] ||
    [ ! -d "$TR/events/exceptions/page_fault_user" ] || [ ! -d "$TR/events/sched/sched_switch" ]; then
    echo "trace: needs tracefs with the raw_syscalls, exceptions and sched events; skipped" >&2
    ub_cleanup
    exit 77
fi
if [ $mode = daemon ]; then
    EVENTS=(raw_syscalls/sys_enter raw_syscalls/sys_exit sched/sched_switch)
else
    EVENTS=(sched/sched_process_fork sched/sched_process_exec sched/sched_process_exit
            raw_syscalls/sys_enter raw_syscalls/sys_exit exceptions/page_fault_user)
fi
# The end of loading: a uprobe on libc's __libc_start_main, which the
# dynamic loader jumps to once every library is mapped and relocated. At
# the symbol's file offset (its address less its segment's, plus the
# segment's offset); every program here takes the same libc.
UPROBE=
libc_start_probe() {
    local libc addr
    # awk reads to the end: an early exit would SIGPIPE the command before it.
    libc=$(ldconfig -p | awk '$1 == "libc.so.6" && /x86-64|64bit/ && !f {f = $NF} END {print f}')
    [ -n "$libc" ] && libc=$(readlink -f "$libc") || return 0
    addr=$(nm -D "$libc" 2>/dev/null | awk '$2 == "T" && $3 ~ /^__libc_start_main@/ && !a {a = $1} END {print a}')
    [ -n "$addr" ] && [ -e "$TR/uprobe_events" ] || return 0
    local a=$((16#$addr)) type off va fsz _
    while read -r type off va _ fsz _; do
        [ "$type" = LOAD ] && ((a >= va && a < va + fsz)) || continue
        printf 'p:ubtrace/libc_start %s:0x%x\n' "$libc" $((a - va + off)) >"$T/uprobe"
        break
    done < <(readelf -lW "$libc")
    [ -s "$T/uprobe" ] && cat "$T/uprobe" >>"$TR/uprobe_events" 2>/dev/null || return 0
    UPROBE=ubtrace/libc_start
    EVENTS+=("$UPROBE")
}
[ $mode = daemon ] || libc_start_probe
# Tracing is the kernel's, not the sandbox's: always put it back as it was.
was_on=$(cat "$TR/tracing_on")
was_kb=$(cat "$TR/buffer_size_kb")
untrace() {
    set +e
    echo 0 >"$TR/tracing_on"
    echo >"$TR/trace"
    echo "${was_kb%% *}" >"$TR/buffer_size_kb"
    echo "$was_on" >"$TR/tracing_on"
    for e in "${EVENTS[@]}"; do echo 0 >"$TR/events/$e/enable"; echo 0 >"$TR/events/$e/filter"; done
    [ -z "$UPROBE" ] || echo "-:$UPROBE" >>"$TR/uprobe_events"
    ub_cleanup
}
trap untrace EXIT

# The start of both awk programs below: skips the header, and takes each
# trace line's task pid, time stamp (µs) and event name ("sys_enter:", ...).
TRACE_LINE='
/^#/ { next }
{
    pid = $1; sub(/.*-/, "", pid)
    for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) { t = substr($i, 1, length($i) - 1) * 1e6; ev = $(i + 1); break }
}'

# --daemon: COUNT grants through libuserbridge, one at a time (see above).
trace_daemon() {
    start_daemon
    local wire=$root/src/protocol/wire.h req reply
    req=$(sed -n 's/.*kRequestSize = \([0-9]*\);.*/\1/p' "$wire")
    reply=$(sed -n 's/.*kReplySize = \([0-9]*\);.*/\1/p' "$wire")
    local who="common_pid == $DAEMON_PID || comm == \"ub-bench\""
    echo "$who" >"$TR/events/raw_syscalls/sys_enter/filter"
    echo "$who" >"$TR/events/raw_syscalls/sys_exit/filter"
    echo "prev_pid == $DAEMON_PID || next_pid == $DAEMON_PID" >"$TR/events/sched/sched_switch/filter"
    for e in "${EVENTS[@]}"; do echo 1 >"$TR/events/$e/enable"; done
    echo "trace: $count grants through userbridged" >&2
    echo 1 >"$TR/tracing_on"
    as_alice "$B" daemon /run/userbridge.sock br0 "$count" 1 >/dev/null
    echo 0 >"$TR/tracing_on"
    overrun_check
    # One line per grant and phase: "PHASE VALUE". The daemon's window runs
    # from its read of a whole request (recvfrom returning its size) to its
    # reply sent (sendmsg returning its size); the client's from connect to
    # the EOF that ends a grant (recvfrom returning 0).
    awk -v d="$DAEMON_PID" -v req="$req" -v reply="$reply" "$TRACE_LINE"'
    ev ~ /^sys_/ { match($0, / NR [0-9]+/); nr = substr($0, RSTART + 4, RLENGTH - 4) + 0 }
    ev == "sys_enter:" {
        enter[pid] = t; in_sys[pid] = 1
        if (pid != d && nr == 42) start = t
        next
    }
    ev == "sys_exit:" {
        ret = $NF; in_sys[pid] = 0
        if (pid != d) {
            if (nr == 45 && ret == 0 && start) { print 1, t - start; start = 0 }
            next
        }
        if (win) sys += t - enter[pid]
        if (nr == 45 && ret == req) { win = 1; from = t; sys = 0; off = 0 }
        else if (win && nr == 46 && ret == reply) {
            print 2, t - from; print 3, sys; print 4, off; print 5, t - from - sys - off; win = 0
        }
        next
    }
    ev == "sched_switch:" {
        prev = $0; sub(/.* prev_pid=/, "", prev); sub(/ .*/, "", prev)
        nxt = $0; sub(/.* next_pid=/, "", nxt); sub(/ .*/, "", nxt)
        if (prev == d) { out = t; out_in_sys = in_sys[d] }
        if (nxt == d && out) { if (win && !out_in_sys) off += t - out; out = 0 }
    }' "$TR/trace" | sort -k1,1n -k2,2n | awk '
    { v[$1, ++n[$1]] = $2 }
    END {
        split("the client: connect to its grant'"'"'s end|userbridged: request read to reply sent|...in system calls|...off its CPU outside them|...in user mode", name, "|")
        print "| phase | grants | median (µs) |"
        print "|---|---|---|"
        for (k = 1; k <= 5; k++) if (n[k]) printf "| %s | %d | %.0f |\n", name[k], n[k], v[k, int((n[k] + 1) / 2)]
    }'
}

overrun_check() {
    [ "$(cat "$TR"/per_cpu/cpu*/stats | awk '/^overrun/ {s += $2} END {print s + 0}')" = 0 ] ||
        echo "trace: the trace buffer overran; some grants are missing from the medians" >&2
}

source "$here/setup.sh"
bench_setup

echo 0 >"$TR/tracing_on"
echo >"$TR/trace"
echo 16384 >"$TR/buffer_size_kb"
[ $mode = daemon ] && { trace_daemon; exit 0; }
ours='comm ~ "*helper*" || comm ~ "*noop*"'
echo 'comm == "ub-bench"' >"$TR/events/sched/sched_process_fork/filter"
echo "$ours || id == 59" >"$TR/events/raw_syscalls/sys_enter/filter"   # 59: the caller's execve
echo 'comm == "ub-bench" && id == 61' >"$TR/events/raw_syscalls/sys_exit/filter"  # wait4
echo "$ours" >"$TR/events/exceptions/page_fault_user/filter"
[ -z "$UPROBE" ] || echo "$ours" >"$TR/events/$UPROBE/filter"
for e in "${EVENTS[@]}"; do echo 1 >"$TR/events/$e/enable"; done

echo "trace: $count grants of each, interleaved" >&2
echo 1 >"$TR/tracing_on"
for _ in $(seq "$count"); do
    for h in qemu-helper setuid-helper fcap-helper setuid-noop; do
        if [ $h = setuid-noop ]; then as_alice "$B" floor "$T/bin/$h" 1 >/dev/null
        else as_alice "$B" grants "$T/bin/$h" br0 1 1 >/dev/null; fi
    done
done
echo 0 >"$TR/tracing_on"
overrun_check

# One line per finished grant: "PROGRAM PHASE VALUE", then medians.
awk "$TRACE_LINE"'
function field(key,   i) { for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) return substr($i, length(key) + 2); return "" }
ev == "sched_process_fork:" { fork_t[field("child_pid")] = t; next }
ev == "sched_process_exec:" && (pid in fork_t) {
    exec_t[pid] = t; prog[pid] = field("filename"); sub(/.*\//, "", prog[pid]); next
}
ev == "libc_start:" && (pid in exec_t) && !(pid in start_t) { start_t[pid] = t; next }
ev == "sys_enter:" && (pid in fork_t) {
    if ($0 ~ / NR 59 /) { if (!(pid in exec_in)) exec_in[pid] = t }
    else if ($0 ~ / NR 231 /) exit_in[pid] = t
    # TUNSETIFF (0x400454ca), then the sendmsg that hands the tap over.
    else if ($0 ~ / NR 16 \([0-9a-f]+, 400454ca,/) { if (!(pid in tap_t)) tap_t[pid] = t }
    else if ($0 ~ / NR 46 / && (pid in tap_t) && !(pid in send_t)) send_t[pid] = t
    if (pid in exec_t) calls[pid]++
    next
}
ev == "page_fault_user:" && (pid in exec_t) { faults[pid]++; if (!(pid in start_t)) load_faults[pid]++; next }
ev == "sys_exit:" && $0 ~ / NR 61 = [0-9]/ { reaped[$NF] = t; next }
END {
    for (p in reaped) {
        if (!(p in exec_in) || !(p in exec_t) || !(p in exit_in)) continue
        n = prog[p]
        print n, 1, exec_in[p] - fork_t[p]
        print n, 2, exec_t[p] - exec_in[p]
        print n, 3, exit_in[p] - exec_t[p]
        print n, 4, reaped[p] - exit_in[p]
        print n, 5, reaped[p] - fork_t[p]
        print n, 6, calls[p] + 0
        print n, 7, faults[p] + 0
        if (p in start_t) { print n, 8, start_t[p] - exec_t[p]; print n, 12, load_faults[p] + 0 }
        if (!(p in tap_t) || !(p in send_t)) continue
        print n, 9, tap_t[p] - (p in start_t ? start_t[p] : exec_t[p])
        print n, 10, send_t[p] - tap_t[p]
        print n, 11, exit_in[p] - send_t[p]
    }
}' "$TR/trace" | sort -k1,1 -k2,2n -k3,3n | awk '
{ k = $1 " " $2; v[k, ++n[k]] = $3 }
END { for (k in n) print k, v[k, int((n[k] + 1) / 2)], n[k] }' | sort -k1,1 -k2,2n >"$T/medians"

names() { case $1 in qemu-helper) echo "Debian's qemu-bridge-helper (setuid)" ;;
                     setuid-helper) echo "userbridge-helper (setuid)" ;;
                     fcap-helper) echo "userbridge-helper (file capabilities)" ;;
                     setuid-noop) echo "a setuid no-op" ;; esac; }
echo "| program | grants | fork to execve (µs) | execve (µs) | exec to exit (µs) | exit to reaped (µs) | total (µs) | system calls | user page faults |"
echo "|---|---|---|---|---|---|---|---|---|"
for h in qemu-helper setuid-helper fcap-helper setuid-noop; do
    awk -v h="$h" -v name="$(names $h)" '$1 == h { m[$2] = $3; n = $4 }
        END { if (n) printf "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %d |\n", name, n, m[1], m[2], m[3], m[4], m[5], m[6], m[7] }' "$T/medians"
done
echo
if [ -n "$UPROBE" ]; then
    echo "Exec to exit, phase by phase (medians, µs):"
    echo
    echo "| program | loading: exec to libc start | page faults loading | start to TUNSETIFF | TUNSETIFF to hand-over | hand-over to exit |"
    echo "|---|---|---|---|---|---|"
else
    echo "Exec to exit, phase by phase (medians, µs; no uprobe events, so loading is not told apart):"
    echo
    echo "| program | exec to TUNSETIFF | TUNSETIFF to hand-over | hand-over to exit |"
    echo "|---|---|---|---|"
fi
for h in qemu-helper setuid-helper fcap-helper setuid-noop; do
    awk -v h="$h" -v name="$(names $h)" -v up="$UPROBE" '$1 == h { m[$2] = $3; have[$2] = 1 }
        function c(k) { return (k in have) ? sprintf("%.0f", m[k]) : "" }
        END { if (!(3 in have)) exit
              if (up != "") printf "| %s | %s | %s | %s | %s | %s |\n", name, c(8), c(12), c(9), c(10), c(11)
              else printf "| %s | %s | %s | %s |\n", name, c(9), c(10), c(11) }' "$T/medians"
done
