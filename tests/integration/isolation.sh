#!/bin/bash
# Port isolation per rule (issue 24, part 1). `isolated=yes` on an allow
# rule makes the taps it grants isolated bridge ports (the kernel's
# IFLA_BRPORT_ISOLATED): they reach the bridge's other ports, the uplink
# here, but not each other. Two users' fake guests on br0, whose uplink is
# a veth into a namespace of its own, through the helper (setuid) and
# through userbridged; without the option they reach each other.
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^daemon' .
source "$(dirname "$0")/lib.sh"

bridge br0
ip netns add uplink
ip link set br0-peer netns uplink
ip -n uplink link set br0-peer up
TT=$T/bin/ub-testtool

acl 'allow br0\n'
start_daemon
[ -z "$(cat "$T/daemon.err")" ] || cat "$T/daemon.err"

helper_of() { [ "$1" = helper ] && echo "$T/bin/setuid-helper" || echo "$T/bin/userbridge-client"; }

# guests FRONT yes|no: under `allow br0 isolated=yes|no`, alice's guest
# waits for a frame from bob's guest, and the uplink listens for the same
# frame; both get their taps from FRONT.
guests() {
    local front=$1 iso=$2 name="$1: isolated=$2"
    acl "allow br0 isolated=$iso\n"
    reload_daemon
    wanted "$name" || return 0
    local marker="from-bob-$front-$iso-$RANDOM" helper
    helper=$(helper_of "$front")
    : >"$T/uplink"
    ip netns exec uplink "$TT" listen br0-peer "$marker" 6000 >"$T/uplink" &
    local uplink=$!
    listening "$T/uplink"
    : >"$T/alice"
    as_alice "$TT" call stream --expect="$marker" -- "$helper" --fd=3 --br=br0 >"$T/alice" 2>&1 &
    local alice=$!
    granted "$T/alice" || true
    local tap flag
    tap=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/alice")
    flag=$(cat "/sys/class/net/$tap/brport/isolated" 2>/dev/null || echo none)
    as_bob "$TT" call stream --send="$marker" -- "$helper" --fd=3 --br=br0 >"$T/bob" 2>&1 || true
    local alice_rc=0 uplink_rc=0
    wait $alice || alice_rc=$?
    wait $uplink || uplink_rc=$?
    if [ "$iso" = yes ]; then
        check "$name: alice's tap is an isolated port" test "$flag" = 1
        check "$name: bob's guest does not reach alice's" test $alice_rc -eq 4
    else
        check "$name: alice's tap is an ordinary port" test "$flag" = 0
        check "$name: bob's guest reaches alice's" test $alice_rc -eq 0
    fi
    check "$name: bob's guest reaches the uplink" test $uplink_rc -eq 0
    [ $uplink_rc -eq 0 ] || sed 's/^/    /' "$T/alice" "$T/bob"
    check "$name: no tap left" soon no_taps
}

for front in helper daemon; do
    guests "$front" yes
    if wanted "$front: isolated=yes: the uplink"; then
        marker="from-uplink-$front-$RANDOM"
        ( soon on_bridge br0; ip netns exec uplink "$TT" send br0-peer "$marker" ) &
        sender=$!
        check "$front: isolated=yes: the uplink reaches alice's guest" \
            as_alice "$TT" call stream --expect="$marker" -- "$(helper_of "$front")" --fd=3 --br=br0
        wait $sender || true
    fi
    guests "$front" no
done

acl 'allow br0 isolated=yes\nallow br1 group=ubvm isolated=no\n'
out=$("$T/bin/userbridge" check 2>&1)
check "check: the file with isolated= is valid" grep -q 'OK (2 rules' <<<"$out"
out=$(as_alice "$T/bin/userbridge" explain --br=br0)
check "explain: names isolated=yes in the rule and the decision" \
    bash -c 'grep -q "allow br0 isolated=yes: applies" <<<"$1" && grep -q "=> allowed by .*isolated=yes" <<<"$1"' _ "$out"
check "explain: isolated=no is the default, not shown" \
    fails grep -q "isolated" <<<"$(as_alice "$T/bin/userbridge" explain --br=br1)"
check "the grants' records say the port is isolated" \
    grep -qE 'event=grant .*via=helper .*detail="allowed by /etc/qemu/bridge.conf:1(, vnet_hdr)?, isolated port"' "$SYSLOG"
check "...the daemon's too" \
    soon grep -qE 'event=grant .*via=daemon .*detail="allowed by /etc/qemu/bridge.conf:1(, vnet_hdr)?, isolated port"' "$SYSLOG"
acl 'allow br0 isolated=maybe\n'
check "check: isolated= takes yes or no" \
    grep -qF 'isolated=maybe: expected yes or no' <<<"$("$T/bin/userbridge" check 2>&1 || true)"

stop_daemon
finish
