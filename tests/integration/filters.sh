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
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^daemon:|^\.\.\.' .
source "$(dirname "$0")/lib.sh"

bridge br0
TT=$T/bin/ub-testtool
client=$T/bin/userbridge-client

# elements: every element of table bridge userbridge's sets and maps (but
# vlan_types'), one a line: a live tap's name ("tap7" ...) or a dead one's
# ifindex. Table bridge userbridge_seen (what guests were seen to use) is
# not ours to check here.
elements() {
    { nft list sets bridge; nft list maps bridge; } 2>/dev/null | sed -n '/^table bridge userbridge {/,/^}/p' |
        sed -n '/elements = {/,/}/p' |
        grep -oE '("tap[0-9]+"|(^|[{,[:space:]])[0-9]+)( \.| :|,| }|$)' | sort || true
}
no_elements() { [ -z "$(elements)" ]; }

# --- the helper refuses every filtered rule -------------------------------------
{
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
        grep -qE 'event=deny .*bridge="br0" .*rule="/etc/qemu/bridge.conf:1" .*detail=".*userbridged' "$SYSLOG"
    check "the helper made no nftables table" fails nft list table bridge userbridge
    acl 'allow br0\n'
    check "control: without a filter the helper still grants" \
        as_alice "$TT" call stream -- "$T/bin/setuid-helper" --fd=3 --br=br0
}

# --- check and explain say which rules need the daemon --------------------------
{
    acl 'allow br0\nallow br1 rate=10mbit\nallow br2 auth=polkit\n'
    out=$("$T/bin/userbridge" check 2>&1)
    check "check: names the rule whose filter needs userbridged" grep -qF \
        "note: /etc/qemu/bridge.conf:2: 'allow br1 rate=10mbit' needs userbridged: it filters the tap's traffic (rate=10mbit)" \
        <<<"$out"
    check "check: ...and the auth=polkit one" \
        grep -qF "bridge.conf:3: 'allow br2 auth=polkit' needs userbridged: polkit decides" <<<"$out"
    check "check: ...and not the plain one" fails grep -q 'bridge.conf:1: .*needs userbridged' <<<"$out"
    check "check: the file is still valid" grep -q 'OK (3 rules' <<<"$out"
    out=$(as_alice "$T/bin/userbridge" explain --br=br1)
    check "explain: a filtered decision goes only through userbridged" \
        grep -q '=> allowed by /etc/qemu/bridge.conf:2, .*rate=10mbit; only through userbridged.*the helper refuses' \
        <<<"$out"
    out=$(as_alice "$T/bin/userbridge" explain --br=br0)
    check "explain: ...and a plain one says nothing of it" fails grep -q 'only through userbridged' <<<"$out"
}

# --- the daemon adds, and removes exactly, a tap's elements ---------------------
# held TAP: the elements of live tap TAP. dead_ones: those of dead taps.
held() { elements | grep "\"$1\"" || true; }
no_dead_ones() { ! grep -qv '"tap' <(elements); }
limits_of() { nft list limits bridge 2>/dev/null | grep -oE "rate$1_(in|out)" | sort || true; }
{
    acl 'allow br0 mac-prefix=52:54:00 servers=no ip=10.99.0.0/24,2001:db8::/64 rate=10mbit\n'
    start_daemon
    as_alice "$TT" call stream --hold=4000 -- "$client" --fd=3 --br=br0 --vm=long >/dev/null &
    long=$!
    for _ in $(seq 100); do [ -n "$(taps)" ] && [ -n "$(elements)" ] && break; sleep 0.02; done
    long_tap=$(taps)
    as_alice "$TT" call stream --hold=1000 -- "$client" --fd=3 --br=br0 --vm=short >/dev/null &
    short=$!
    for _ in $(seq 100); do [ "$(taps | wc -l)" = 2 ] && break; sleep 0.02; done
    short_tap=$(taps | grep -vx "$long_tap")
    short_index=$(cat /sys/class/net/"$short_tap"/ifindex)
    long_index=$(cat /sys/class/net/"$long_tap"/ifindex)
    long_before=$(held "$long_tap" | wc -l)
    check "daemon: a grant under a filtered rule adds its tap's elements" \
        test "$(held "$long_tap" | wc -l)" -ge 8
    check "...the second tap's too" soon test "$(held "$short_tap" | wc -l)" -ge 8
    check "...and their limit objects" test "$(limits_of "$short_index" | wc -l)" = 2
    wait $short || true
    check "daemon: the second tap went with its last fd" soon test ! -e /sys/class/net/"$short_tap"
    check "daemon: its link monitor then removed the tap's elements, none left dead" soon no_dead_ones
    check "...and its limit objects" test -z "$(limits_of "$short_index")"
    check "daemon: the other tap's elements are all still there" test "$(held "$long_tap" | wc -l)" = "$long_before"
    check "...and its limit objects" test "$(limits_of "$long_index" | wc -l)" = 2
    wait $long || true
    check "daemon: when the last tap goes, no element is left" soon no_elements
    check "...and no limit object" test -z "$(nft list limits bridge 2>/dev/null | grep rate)"
    check "daemon: nothing failed to be removed" fails grep -q 'could not remove' "$SYSLOG"
    stop_daemon
}

# --- at start-up, the elements of taps that no longer exist go ------------------
{
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
        grep -qv '"tap' <(elements)
    start_daemon
    check "reconcile: a new daemon removes them as it starts" soon no_elements
    stop_daemon
}
finish
