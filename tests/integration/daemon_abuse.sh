#!/bin/bash
# Abuse of every kind (bad requests, clients gone early, slow and idle
# clients, too many connections) while well-behaved clients keep being
# served, and no tap made for any of it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon

# --- Abuse ------------------------------------------------------------------
watch_links
refused "bad magic" "bad request: request has a bad magic" as_alice "$TT" daemon bad-magic $D
refused "unknown version" "protocol version 9 is not supported" as_alice "$TT" daemon bad-version $D
refused "oversized request" "bad request: request is longer than 96 bytes" as_alice "$TT" daemon oversize $D
check "truncated request, then gone" as_alice "$TT" daemon truncated $D
no_tap_ever
check "request sent, client gone before the reply: no tap leaks" as_alice "$TT" daemon grant-drop $D
sleep 0.3
check "...none" test -z "$(taps)"

stop_daemon
start_daemon --deadline-ms=1500 --max-per-uid=4
as_alice "$TT" daemon slow $D >"$T/slow" &
slow=$!
idle=()
for i in 1 2 3; do as_bob "$TT" daemon idle $D & idle+=($!); done
sleep 0.3
out=$(as_alice "$TT" daemon grant $D)
check "served while a slow client and idle clients hang on" grep -q '^tap=' <<<"$out"
as_bob "$TT" daemon idle $D & idle+=($!)
sleep 0.3
refused "per-uid connection cap" "too many open connections for uid 4712" as_bob "$TT" daemon grant $D
check "another uid is still served at the cap" grep -q '^tap=' <(as_alice "$TT" daemon grant $D)
wait $slow
check "the slow client was dropped at its deadline" grep -q 'dropped after [12] s' "$T/slow"
kill "${idle[@]}" 2>/dev/null || true
wait "${idle[@]}" 2>/dev/null || true
sleep 1.6  # the idle connections expire
stop_daemon

finish
