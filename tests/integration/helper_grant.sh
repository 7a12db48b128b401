#!/bin/bash
# userbridge-helper grants: installed setuid and with file capabilities, the
# tap it hands over is QEMU's: on the bridge, up, the bridge's MTU, MAC
# fe:..., vnet_hdr only on request, owned by the caller, gone when the fd
# closes; frames cross the bridge both ways; every grant is logged.
source "$(dirname "$0")/lib.sh"

bridge br0 1400
acl 'allow br0\n'

for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    as_alice "$T/bin/ub-testtool" call stream --hold=4000 -- "$helper" --use-vnet --fd=3 --br=br0 >"$T/held" &
    holder=$!
    granted "$T/held"
    out=$(ip -d -o link show master br0 type tun
          t=$(taps | head -1)
          ip -6 -o addr show dev "$t" | sed 's/^/addr: /'
          echo "disable_ipv6=$(cat /proc/sys/net/ipv6/conf/$t/disable_ipv6) rp_filter=$(cat /proc/sys/net/ipv4/conf/$t/rp_filter)")
    wait $holder
    check "$mode: tap on br0 while held" grep -qE 'tap[0-9]+: .*master br0' <<<"$out"
    check "$mode: tap is up" grep -qE 'tap[0-9]+: <[^>]*UP' <<<"$out"
    check "$mode: MTU copied from the bridge" grep -q 'mtu 1400' <<<"$out"
    check "$mode: MAC starts with fe" grep -q 'link/ether fe:' <<<"$out"
    check "$mode: vnet_hdr on with --use-vnet" grep -q 'vnet_hdr on' <<<"$out"
    check "$mode: not persistent" grep -q 'persist off' <<<"$out"
    check "$mode: the host's IP stack takes nothing from the port: IPv6 off, IPv4 reverse-path filtered" \
        bash -c "grep -q 'disable_ipv6=1 rp_filter=1' && ! grep -q '^addr: '" <<<"$out"
    check "$mode: owned by the caller" grep -qE "user (ubalice|$ALICE) " <<<"$out"
    check "$mode: tap gone after the fd closed" test -z "$(taps)"

    out=$(as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0)
    check "$mode: vnet_hdr off without --use-vnet" grep -q 'vnet_hdr=0' <<<"$out"

    # A frame written by the "VM" reaches the far side of the bridge...
    marker="to-the-wire-$mode-$RANDOM"
    "$T/bin/ub-testtool" listen br0-peer "$marker" 6000 >"$T/listener" &
    listener=$!
    listening "$T/listener"
    as_alice "$T/bin/ub-testtool" call stream --send="$marker" -- "$helper" --use-vnet --fd=3 --br=br0 >/dev/null
    check "$mode: a frame from the tap crosses the bridge" wait $listener

    # ...and one sent from the far side reaches the "VM".
    marker="to-the-vm-$mode-$RANDOM"
    ( soon on_bridge br0; "$T/bin/ub-testtool" send br0-peer "$marker" ) &
    sender=$!
    check "$mode: a frame from the wire reaches the tap" \
        as_alice "$T/bin/ub-testtool" call stream --expect="$marker" -- "$helper" --fd=3 --br=br0
    wait $sender
done

check "grants logged with user, uid, bridge, tap and pid" \
    grep -qE "userbridge-helper\[[0-9]+\]: event=grant user=ubalice uid=$ALICE parent_pid=[0-9]+ bridge=\"br0\" tap=tap[0-9]+ mac=fe:" "$SYSLOG"
# The kernel's tap%d scans every interface for the lowest free number; the
# helper asks for tap<its pid> instead (the next number if that is taken).
check "the helper names its tap after its pid" \
    bash -c "grep -E 'userbridge-helper\[[0-9]+\]: event=grant' '$SYSLOG' |
        sed -E 's/.*userbridge-helper\[([0-9]+)\].* tap=tap([0-9]+) .*/\1 \2/' |
        awk '\$1 != \$2 { bad = 1 } END { exit bad || NR == 0 }'"
check "grant records name the deciding rule and the mode" \
    grep -qF 'via=helper mode=file-capabilities detail="allowed by /etc/qemu/bridge.conf:1, vnet_hdr"' "$SYSLOG"
check "grant logged at authpriv.notice" grep -q '^<85>' "$SYSLOG"

# A bridge whose MTU is below IPv6's minimum (1280): the kernel takes IPv6
# off a tap given that MTU, so there is no IPv6 address generation to turn
# off, and the grant must not fail for it.
bridge br1 1200
acl 'allow br0\nallow br1\n'
as_alice "$T/bin/ub-testtool" call stream --hold=1000 -- "$T/bin/fcap-helper" --fd=3 --br=br1 >"$T/held" &
holder=$!
granted "$T/held"
out=$(ip -o link show master br1 type tun)
wait $holder
check "a bridge with an MTU below IPv6's minimum: granted, MTU 1200" grep -qE 'tap[0-9]+: .*mtu 1200.*master br1' <<<"$out"
acl 'allow br0\n'

# A request the kernel refuses is reported in the kernel's own words (its
# extended ACK), after what we asked: here an MTU above a veth's maximum.
ip link add ubv9 type veth peer name ubv9p
refused "a kernel refusal says what the kernel said" \
    "cannot set MTU 70000, MAC fe:00:00:00:00:01 of ifindex $(cat /sys/class/net/ubv9/ifindex): mtu greater than device maximum: Invalid argument" \
    "$T/bin/ub-testtool" set-port ubv9 70000
ip link del ubv9

# The helper run by root itself (as libvirt's system instance could).
out=$("$T/bin/ub-testtool" call stream -- "$T/bin/plain-helper" --fd=3 --br=br0)
check "run by root: grants" grep -q 'tap=tap' <<<"$out"

# Debian's helper for comparison: same result through the same client.
if [ -x "$T/bin/qemu-helper" ]; then
    out=$(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/qemu-helper" --use-vnet --fd=3 --br=br0)
    check "Debian's qemu-bridge-helper grants through the same client" grep -q 'tap=tap' <<<"$out"
fi

check "--help works unprivileged" grep -q '^Usage: userbridge-helper' <(as_bob "$T/bin/plain-helper" --help)
check "--version works" grep -q '^userbridge-helper [0-9]' <(as_bob "$T/bin/setuid-helper" --version)
check "no tap left at the end" test -z "$(taps)"
finish
