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
# 3. servers=no and relay agents. A relay agent on the segment listens on
#    the server ports, 67 and 547, and passes what a server sends it on
#    to the client it names: ISC dhcrelay -6 takes a Relay-Reply from any
#    interface and any source port and sends the Advertise or Reply
#    inside to its peer-address, port 546. So ubalice's guest hands a
#    victim on br3 her DHCPv6 Reply through a real dhcrelay, unless her
#    tap's messages to 547 and 67 are a client's (review item 22-2).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

old_table  # an older release's: the daemon adds the client rules as it starts
start_daemon
# rules_of CHAIN TEXT: our table's chain CHAIN has a rule holding TEXT.
# (Through a file: grep -q stops reading early, and nft, which may write
# its listing in parts, would then die of SIGPIPE under pipefail.)
rules_of() { nft list chain bridge userbridge "$1" >"$T/chain.txt" && grep -qF -- "$2" "$T/chain.txt"; }
check "the daemon gave an older table the client-port rules" rules_of client_ip4 'udp dport { 68, 546 } counter'
check "...for IPv6 too" rules_of client_ip6 'udp dport { 68, 546 } counter'
check "and the rules that hold a client's messages to a relay's ports to a client's" \
    rules_of client_ip6 'udp dport 547 @th,64,8 != {'
check "and the first-fragment rule (review6.sh, case frag6)" rules_of pinned_ip6 'jump client_first_fragment'
check "and the rule that drops a client's IPv4 redirects (review6.sh, case icmp4)" \
    rules_of client_ip4 'icmp type { redirect, router-advertisement } counter'
check "and the rule that holds a client's PPPoE discovery to a client's (review6.sh, case pppoe)" \
    rules_of pinned 'iif @clients ether type 0x8863 @nh,8,8 != {'
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

# The relay: dhcrelay -6, its downstream br3-peer (the link-address a
# Relay-Reply names, 2001:db8:3::1, is on it), its upstream a veth
# to a server that never answers: the only Relay-Reply is the guest's.
ip link add up0 type veth peer name up1
ip link set up1 up
ip link set up0 up
ip -6 addr add 2001:db8:9::2/64 dev up0 nodad
ip -6 addr add 2001:db8:3::1/64 dev br3-peer nodad
dhcrelay -6 -d -pf "$T/dhcrelay.pid" -l br3-peer -u 2001:db8:9::1%up0 >"$T/dhcrelay.log" 2>&1 &
relay=$!
BACKGROUND+=($relay)
# Ready: listening on 547, and br3-peer's link-local address, which it
# answers the victim from, past duplicate address detection (br3-peer was
# made again above).
relay_ready() {
    [ -n "$(ss -Hlun 'sport = :547')" ] && [ -n "$(ip -6 -o addr show dev br3-peer scope link)" ] &&
        [ -z "$(ip -6 -o addr show dev br3-peer scope link tentative)" ]
}
within 10 relay_ready || { echo "FAIL: dhcrelay not ready: $(cat "$T/dhcrelay.log")"; exit 1; }
# relayed_to_victim: ubalice's guest sends a Relay-Reply (msg-type 13) for
# the relay's link to all nodes, port 547, from port 5470, carrying a Reply
# (7) for fe80::99 with a marker; does the victim's port 546 get the Reply?
# OPTION...: ub-testtool call's, e.g. --frag: the Relay-Reply in two
# fragments, the first ending with the UDP header (the relay's kernel
# puts them together).
# The victim: a DHCPv6 client's socket in a network namespace of its own,
# on br3 through a veth, at fe80::99; it prints what reaches it.
relayed_to_victim() {
    local marker="relay$RANDOM$RANDOM" inner hex
    inner=07abcdef$(printf %s "$marker" | od -An -tx1 | tr -d ' \n')
    hex=0d00$(printf '%s' 20010db8000300000000000000000001 fe800000000000000000000000000099)
    hex+=0009$(printf %04x $((${#inner} / 2)))$inner
    unshare --net python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 546))
s.settimeout(30)
print("listening", flush=True)
try:
    data, peer = s.recvfrom(2000)
    print("got", peer[0], peer[1], data.hex(), flush=True)
except socket.timeout:
    pass
' >"$T/victim" &
    local victim=$!
    listening "$T/victim"
    kill -0 $relay || { echo "FAIL: dhcrelay is not running: $(cat "$T/dhcrelay.log")"; exit 1; }
    { ip link add vic0 type veth peer name vic1 address 52:54:00:00:00:99 netns $victim && ip link set vic0 master br3 up &&
        nsenter -t $victim -n ip -6 addr add fe80::99/64 dev vic1 nodad &&
        nsenter -t $victim -n ip link set vic1 up; } || { echo "FAIL: no victim on br3"; exit 1; }
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned --ip6=fe80::5054:ff:fe12:3456 --udp=5470:547 \
        --send-hex="$hex" "$@" -- "$client" --fd=3 --br=br3 >/dev/null ||
        { echo "FAIL: no tap to send the Relay-Reply from"; exit 1; }
    # The relay forwards what it takes at once: a second after the guest
    # sent, the victim has it or never will.
    within 1 grep -q '^got ' "$T/victim" || true
    kill $victim 2>/dev/null || true
    wait $victim || true
    ip link del vic0 2>/dev/null || true  # gone with its peer's namespace, or soon
    cat "$T/victim"
    grep -q "^got .* 547 07abcdef" "$T/victim"
}
check "a guest's Relay-Reply reaches a victim through dhcrelay (the control: no servers=no)" relayed_to_victim
check "and one in two fragments, its msg-type in the second (the control)" relayed_to_victim --frag

sed -i "s/^allow br3 user=ubalice mac=$pinned\$/& servers=no/" /etc/qemu/bridge.conf
reload_daemon
check "servers=no: a guest's Relay-Reply to port 547 does not reach a victim through dhcrelay" \
    fails relayed_to_victim
check "servers=no: nor one in two fragments, its msg-type in the second" fails relayed_to_victim --frag
for type in 2 7 10 12 13; do
    check "servers=no: nor any DHCPv6 server or relay message ($type) to port 547" \
        fails msg_crosses "$client" --udp=5470:547:$type
done
check "servers=no: a BOOTREPLY (op 2) to a relay's port 67 does not cross" \
    fails msg_crosses "$client" --udp=6868:67:2
check "servers=no: nor one from port 68" fails msg_crosses "$client" --udp=68:67:2
for type in 1 3 4 5 6 8 9 11; do
    check "servers=no: a client's DHCPv6 message ($type) to port 547 still crosses" \
        msg_crosses "$client" --udp=546:547:$type
done
check "servers=no: a DHCP server reply from port 67 does not cross (the control)" \
    fails msg_crosses "$client" --udp=67:68
check "servers=no: nor one from another port, to a client's port 68" \
    fails msg_crosses "$client" --udp=6767:68
check "servers=no: nor a DHCPv6 one from another port, to a client's port 546" \
    fails msg_crosses "$client" --udp=5470:546
check "servers=no: the guest's own DHCP request (op 1) still crosses" msg_crosses "$client" --udp=68:67:1

# A real client's leases through the filter: dnsmasq on br3-peer, both
# DHCP and DHCPv6 (in dhcrelay's place: both take port 547). dnsmasq
# answers the guest's link-local address, which ub-testtool does not
# defend by neighbour discovery: a neighbour entry stands in for it.
kill $relay
wait $relay || true
ip addr add 10.99.3.1/24 dev br3-peer
ip -6 neigh replace fe80::5054:ff:fe12:3456 lladdr $pinned dev br3-peer nud permanent
dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-ping --interface=br3-peer --bind-interfaces \
    --except-interface=lo --dhcp-range=10.99.3.100,10.99.3.150,255.255.255.0,1h \
    --dhcp-range=2001:db8:3::100,2001:db8:3::1ff,64,1h \
    --dhcp-leasefile="$T/leases" --pid-file= --user=root --group=root 2>"$T/dnsmasq.err" &
dnsmasq=$!
BACKGROUND+=($dnsmasq)
# leased OPTION ADDRESS-RE: ubalice's servers=no guest takes an address
# (ub-testtool call's --dhcp or --dhcp6); does it get one like ADDRESS-RE?
leased() {
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned --ip6=fe80::5054:ff:fe12:3456 "$1" -- \
        "$client" --fd=3 --br=br3 >"$T/lease" || true
    cat "$T/lease"
    grep -qE "$2" "$T/lease"
}
check "servers=no: a client guest still takes its DHCP lease from dnsmasq" leased --dhcp '^dhcp=10\.99\.3\.'
check "servers=no: and its DHCPv6 lease" leased --dhcp6 '^dhcp6=2001:db8:3::'
kill $dnsmasq
wait $dnsmasq || true
sed -i "s/ servers=no\$//" /etc/qemu/bridge.conf
nft delete table bridge userbridge
ip link del up0

finish
