#!/bin/bash
# Load: 1000 sequential and 16-way concurrent grants with zero failures,
# memory flat, nothing leaked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"

# --- Load: 1000 sequential, 16-way concurrent, memory flat ------------------
start_daemon --max-per-uid=16
rss() { awk '/VmRSS/ {print $2}' /proc/$DAEMON_PID/status; }
# grants N CLIENTS: N grants from CLIENTS concurrent clients, all granted
# (its timings are not wanted here; check's own line is).
grants() { as_alice "$T/bin/ub-bench" daemon $D br0 "$1" "$2" >/dev/null; }
grants 100 1
rss100=$(rss)
check "1000 sequential grants, zero failures" grants 1000 1
check "1000 grants from 16 concurrent clients, zero failures" grants 1000 16
rss2100=$(rss)
echo "    daemon RSS: $rss100 KiB after 100 grants, $rss2100 KiB after 2100"
if ldd "$T/bin/userbridged" | has libasan; then
    echo "    (ASan build: its quarantine keeps freed memory, so flatness is checked in the ci build)"
else
    check "daemon memory flat (within 512 KiB)" test $((rss2100 - rss100)) -lt 512
fi
check "zero leaked taps" soon no_taps
stop_daemon

finish
