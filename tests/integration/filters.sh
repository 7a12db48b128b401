#!/bin/bash
# Traffic filters belong to userbridged (issue 21, item 3). A rule with
# mac=, mac-prefix=, servers=no, ip= or rate= needs nftables elements for
# its tap; only the daemon adds them. The helper refuses such a rule,
# naming userbridge-client and userbridge run, and creates nothing: it
# never hands out an unfiltered tap for a filtered rule. The daemon adds a
# tap's elements before the tap is on the bridge, removes exactly those
# when its link monitor sees the tap go, and at start-up removes the
# elements of taps that no longer exist.
#
# Run one case: FILTER=helper|daemon|reconcile bash filters.sh
source "$(dirname "$0")/lib.sh"

bridge br0
TT=$T/bin/ub-testtool
client=$T/bin/userbridge-client
want() { [ -z "${FILTER:-}" ] || [ "$FILTER" = "$1" ]; }

# elements: every element of table bridge userbridge's sets and maps, one
# a line ("" when there is no table).
elements() {
    nft list sets bridge 2>/dev/null | tr ',{}' '\n\n\n' | grep -E '^\s*("tap|[0-9]+ |[0-9]+$)' |
        sed 's/^\s*//' | sort || true
}

# --- the helper refuses every filtered rule -------------------------------------
if want helper; then
    for opts in "mac=52:54:00:12:34:56" "mac-prefix=52:54:00" "mac=52:54:00:12:34:56 servers=no" \
        "mac=52:54:00:12:34:56 ip=10.99.0.2" "rate=10mbit"; do
        acl "allow br0 $opts\n"
        for helper in setuid-helper fcap-helper; do
            watch_links
            refused "$helper refuses 'allow br0 $opts' and names userbridge-client" "userbridge-client" \
                as_alice "$TT" call stream -- "$T/bin/$helper" --fd=3 --br=br0
            check "...and userbridge run" grep -q "userbridge run" "$T/err"
            no_tap_ever
        done
    done
    check "the refusals were recorded as denials, naming the rule" \
        grep -qE 'event=deny .*bridge="br0" .*rule=/etc/qemu/bridge.conf:1 .*detail=".*userbridged' "$SYSLOG"
    check "the helper made no nftables table" fails nft list table bridge userbridge
    acl 'allow br0\n'
    check "control: without a filter the helper still grants" \
        as_alice "$TT" call stream -- "$T/bin/setuid-helper" --fd=3 --br=br0
fi

# --- the daemon adds, and removes exactly, a tap's elements ---------------------
if want daemon; then
    acl 'allow br0 mac=52:54:00:12:34:56 servers=no ip=10.99.0.2,2001:db8::2 rate=10mbit\n'
    start_daemon
    as_alice "$TT" call stream --hold=1500 -- "$client" --fd=3 --br=br0 >"$T/held" &
    holder=$!
    for _ in $(seq 100); do [ -n "$(taps)" ] && [ -n "$(elements)" ] && break; sleep 0.02; done
    tap=$(taps | head -n1)
    check "daemon: a grant under a filtered rule adds its tap's elements" \
        grep -q "\"$tap\"" <(elements)
    check "...its rate limits" grep -q "rate" <(nft list maps bridge)
    # Elements of a tap that died while nothing watched (as after a crash of
    # an older daemon): only the start-up reconciliation removes them.
    wait $holder || true
    check "daemon: the tap went with its last fd" soon test -z "$(taps)"
    check "daemon: its link monitor then removed exactly the tap's elements" soon test -z "$(elements)"
    check "daemon: and its limit objects" soon fails grep -q 'limit rate' <(nft list limits bridge 2>/dev/null)
    check "daemon: what it did was logged nowhere as a failure" \
        fails grep -q 'could not remove' "$SYSLOG"
    stop_daemon
fi

# --- at start-up, the elements of taps that no longer exist go ------------------
if want reconcile; then
    acl 'allow br0 mac=52:54:00:12:34:56\n'
    start_daemon
    as_alice "$TT" call stream --hold=3000 -- "$client" --fd=3 --br=br0 >/dev/null &
    holder=$!
    for _ in $(seq 100); do [ -n "$(elements)" ] && break; sleep 0.02; done
    kill -STOP "$DAEMON_PID"
    wait $holder || true
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null || true
    rm -f /run/userbridge.sock
    check "reconcile: the tap died while no daemon watched, its elements stayed" \
        grep -qE '^[0-9]+( |$)' <(elements)
    start_daemon
    check "reconcile: a new daemon removes them as it starts" soon test -z "$(elements)"
    stop_daemon
fi
finish
