#!/bin/bash
# Third outside review: a pinned guest's traffic filters, attacked from the
# tap (review items 22-N in docs/SECURITY.md).
#
# 1. Link-local frames. A frame for 01:80:c2:00:00:0X that the bridge
#    does not forward never reaches prerouting, where a pinned tap's rules
#    are (LLDP's passes no hook at all; 802.1X's, LACP's only input), and
#    the bridge learns its source MAC on the port all the same
#    (net/bridge/br_input.c, __br_handle_local_finish). So ubalice, pinned
#    to one MAC, sends one from the wire's MAC and the bridge sends the
#    wire's traffic to her (review item 22-1).
# 2. servers=no and port numbers. A DHCP client takes an offer for its
#    port 68 whatever port it comes from (busybox udhcpc and ISC dhclient
#    filter on the destination port alone), and a DHCPv6 client, bound to
#    546, any datagram to it: a reply that only changed its source port
#    is a server's all the same (review item 22-2).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

old_table  # an older release's: the daemon adds the client-port rule as it starts
start_daemon
check "the daemon added the client-port rule to an older table" \
    bash -c "nft list chain bridge userbridge prerouting | grep -q 'iif @clients udp dport { 68, 546 } counter'"
wire=$(cat /sys/class/net/br3-peer/address)

# learned_on_tap SRC DST: ubalice's pinned tap on br3 sends one frame from
# SRC to DST; while she holds the tap, is SRC in the bridge's forwarding
# table on it?
learned_on_tap() {
    as_alice "$T/bin/ub-testtool" call stream --src="$1" --dst="$2" --send="ll$RANDOM" --hold=1500 -- \
        "$client" --fd=3 --br=br3 >"$T/held" &
    local holder=$! rc=0
    granted "$T/held" || { wait $holder; return 1; }
    local tap
    tap=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/held")
    sleep 0.2
    command bridge fdb show dev "$tap" | has -i "^$1 " || rc=1
    wait $holder
    return $rc
}

check "a pinned guest's frame from its own MAC is learned on its port (the control)" \
    learned_on_tap "$pinned" ff:ff:ff:ff:ff:ff
check "a pinned guest's broadcast from the wire's MAC is not learned" \
    fails learned_on_tap "$wire" ff:ff:ff:ff:ff:ff
for group in 01:80:c2:00:00:0e 01:80:c2:00:00:03 01:80:c2:00:00:02; do
    check "a pinned guest's link-local frame ($group) from the wire's MAC is not learned" \
        fails learned_on_tap "$wire" "$group"
done
check "the bridge learns from no link-local frame now (no_linklocal_learn)" \
    bash -c "ip -d link show br3 | grep -q 'no_linklocal_learn 1'"
# userbridged sets it once per bridge, which it knows by ifindex: br3
# deleted and made again is a new bridge, set at its first pinned tap.
ip link del br3
ip link del br3-port
bridge br3
wire=$(cat /sys/class/net/br3-peer/address)
check "a bridge made again under its name starts learning from link-local frames" \
    bash -c "ip -d link show br3 | grep -q 'no_linklocal_learn 0'"
check "...and a pinned guest on it has its link-local frame from the wire's MAC not learned" \
    fails learned_on_tap "$wire" 01:80:c2:00:00:0e
check "...the new bridge learns from no link-local frame" \
    bash -c "ip -d link show br3 | grep -q 'no_linklocal_learn 1'"

sed -i "s/^allow br3 user=ubalice mac=$pinned\$/& servers=no/" /etc/qemu/bridge.conf
reload_daemon
check "servers=no: a DHCP server reply from port 67 does not cross (the control)" \
    fails msg_crosses "$client" --udp=67:68
check "servers=no: nor one from another port, to a client's port 68" \
    fails msg_crosses "$client" --udp=6767:68
check "servers=no: nor a DHCPv6 one from another port, to a client's port 546" \
    fails msg_crosses "$client" --udp=5470:546
check "servers=no: the guest's own DHCP request still crosses" msg_crosses "$client" --udp=68:67
check "servers=no: and its own DHCPv6 one" msg_crosses "$client" --udp=546:547
sed -i "s/ servers=no\$//" /etc/qemu/bridge.conf
nft delete table bridge userbridge

finish
