#!/bin/bash
# Fifth outside review (docs/SECURITY.md, items 24-4 to 24-6). 24-4: a
# macvtap's pin (mac=) held its frames' source MAC and ARP's sender only
# (item 24-2), where a pinned tap's holds neighbour discovery announcing
# another MAC and every VLAN-tagged frame too (items 2 and 3). ubalice's
# guest, on a macvtap of eth0 pinned to one MAC, sends what a pinned tap
# may not; the LAN (eth0's veth peer, in a namespace of its own) must not
# see it (this kernel has no 8021q module: the LAN's packet socket
# stands in for a host on the VLAN).
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^macvtap' .
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
client=$T/bin/userbridge-client
pinned=52:54:00:00:00:0b
foreign=52:54:00:66:66:66
nic_and_lan
bridge br3
bridge br4
guest=52:54:00:12:34:56
acl "allow eth0 user=ubalice mode=macvtap mac=$pinned
allow br3 user=ubalice mac=$guest ip=10.99.3.7 servers=no lease=1h
allow br4 user=ubalice mac=52:54:00:12:34:57 lease=1h
"
start_daemon

# lan_sees CALL-OPTION...: a frame ubalice's guest sends through her pinned
# macvtap (ub-testtool call CALL-OPTION... makes it) reaches the LAN within
# 3 s. A grant that fails ends the test: "does not reach" must never pass
# because nothing was sent.
lan_sees() {
    local marker="mvt$RANDOM$RANDOM"
    ip netns exec lan "$TT" listen lan0 "$marker" 3000 >"$T/lan" &
    local lan=$!
    listening "$T/lan"
    as_alice "$TT" call stream --src=$pinned "$@" --send="$marker" -- "$client" --fd=3 --br=eth0 >/dev/null ||
        { echo "FAIL: no macvtap to send the frame"; exit 1; }
    sent_frame_seen $lan
}

# --- item 24-4: neighbour discovery and VLAN tags on a pinned macvtap ----------
if wanted "macvtap"; then
    check "macvtap: control: a frame from the pinned MAC reaches the LAN" lan_sees
    check "macvtap: control: an NA announcing the pinned MAC does" lan_sees --nd=na:$pinned
    check "macvtap: attack: an NA announcing another MAC does not" fails lan_sees --nd=na:$foreign
    check "macvtap: attack: nor an NS announcing another MAC" fails lan_sees --nd=ns:$foreign
    check "macvtap: attack: nor an RS announcing another MAC" fails lan_sees --nd=rs:$foreign
    check "macvtap: attack: nor an NA with a second option" fails lan_sees --nd=na2:$pinned
    for tag in 5 0 88a8:5 88a8:0,5 9100:5; do
        check "macvtap: attack: no frame tagged $tag reaches the LAN" fails lan_sees --vlan=$tag
    done
    check "macvtap: control: untagged, an ARP naming another MAC does not reach the LAN" \
        fails lan_sees --arp=10.99.0.50 --arp-mac=$foreign
    check "macvtap: attack: nor tagged 5" fails lan_sees --arp=10.99.0.50 --arp-mac=$foreign --vlan=5
    check "macvtap: gone after" soon bash -c '[ -z "$(ip -o link show type macvtap)" ]'
    check "macvtap: no nftables chain left" \
        soon fails bash -c "nft list table netdev userbridge_macvtap 2>/dev/null | grep -q 'chain mvt'"
fi

# --- item 24-5: a checksum the guest asks for, written past the filters ------------
# With a virtio_net_hdr, a guest asks the kernel for a checksum from byte
# START on, written at START+OFFSET (NEEDS_CSUM); the kernel writes it
# where a port sends the frame on without checksum offload
# (skb_checksum_help), after every filter. br3's other port and eth0 are
# made such ports, as a NIC or a VM's tap without offloads is.
# on_wire PORT FROM LEN CALL-OPTION...: bytes FROM to FROM+LEN-1 (hex) of
# the frame ubalice's guest sends (from $guest, over PORT's bridge or
# macvtap), as the wire beyond PORT gets it; "none" if none arrived.
# With VIA_NS=PID, the frame goes out of ubalice's namespace PID instead,
# through a packet socket with PACKET_VNET_HDR on its eth0 (her veth's end);
# with VIA_NAME=TAP, through her lease TAP, opened by name with the header.
on_wire() {
    local port=$1 from=$2 len=$3 marker="cs$RANDOM$RANDOM" hex
    shift 3
    local wire=br3-peer br=br3 src=$guest
    [ "$port" = eth0 ] && wire=lan0 br=eth0 src=$pinned
    if [ $wire = lan0 ]; then ip netns exec lan "$TT" listen-frame lan0 "$marker" 3000 >"$T/wire" &
    else "$TT" listen-frame $wire "$marker" 3000 >"$T/wire" &
    fi
    local l=$!
    listening "$T/wire"
    local rc=0
    if [ -n "${VIA_NS:-}" ]; then
        as_alice nsenter -t "$VIA_NS" -U -n --preserve-credentials \
            "$TT" call packet:eth0 --src=$src "$@" --send="$marker" >"$T/call" 2>&1 || rc=$?
    elif [ -n "${VIA_NAME:-}" ]; then
        as_alice "$TT" call name:$VIA_NAME --src=$src "$@" --send="$marker" >"$T/call" 2>&1 || rc=$?
    else
        as_alice "$TT" call stream --src=$src "$@" --send="$marker" -- "$client" --use-vnet --fd=3 --br=$br \
            >"$T/call" 2>&1 || rc=$?
    fi
    # The kernel may refuse the frame itself (EINVAL): it sent nothing.
    if [ $rc -ne 0 ] && grep -qE 'write to tap: Invalid argument' "$T/call"; then
        wait $l 2>/dev/null || true
        echo refused
        return
    fi
    [ $rc -eq 0 ] || { echo "FAIL: nothing to send the frame through ($(head -c 200 "$T/call"))"; exit 1; }
    sent_frame_seen $l || { echo none; return; }
    hex=$(tail -n1 "$T/wire")
    echo "${hex:$((from * 2)):$((len * 2))}"
}
hex() { tr -d ':.' <<<"$1"; }
ip4hex() { printf '%02x' ${1//./ }; }
# The exact checksum guard (net/csum_guard.h) lets the kernel write a
# checksum only where no rule reads: a UDP datagram over IPv4 asking for
# its checksum from byte 34 (its UDP header) at offset 6 is what a guest's
# stack sends; into the Ethernet, ARP or IP header, or the ports, is an
# attack.
# csum_checks NAME: through br3 under the pin, the guest's ARP and its UDP
# asking for its own checksum cross; checksums asked into its ARP sender
# MAC or its source address do not change them.
csum_checks() {
    local name=$1 got
    check "$name: control: the pinned guest's ARP reaches the wire from its MAC" \
        test "$(on_wire br3 22 6 --arp=10.99.3.7)" = "$(hex $guest)"
    check "$name: control: ...and its UDP asking for its own checksum" \
        test "$(on_wire br3 26 4 --ip4=10.99.3.7 --csum=34:6)" = "$(ip4hex 10.99.3.7)"
    got=$(on_wire br3 22 6 --arp=10.99.3.7 --csum=20:6)
    check "$name: attack: an ARP asking for a checksum into its sender MAC reaches it unchanged ($got)" \
        test "$got" = "$(hex $guest)" -o "$got" = none
    got=$(on_wire br3 26 4 --ip4=10.99.3.7 --csum=20:8)
    check "$name: attack: nor one asking for a checksum into its source address ($got)" \
        test "$got" = "$(ip4hex 10.99.3.7)" -o "$got" = none
}
# csum_guarded DEV: DEV's ingress has the exact checksum guard.
csum_guarded() { tc filter show dev "$1" ingress | has userbridge_csum_guard; }
# pinned_veth CASE: a veth pair into a namespace of ubalice's (its holder
# in $ns) on br3, under the pin; its host end in $host_end.
pinned_veth() {
    hold_ns ns "${AS_ALICE[@]}"
    as_alice "$T/bin/userbridge" netns --br=br3 --netns=/proc/$ns/ns/net >"$T/veth" 2>&1 ||
        { echo "FAIL: $1: no veth pair ($(cat "$T/veth"))"; exit 1; }
    host_end=$(grep -o 'ubv[0-9]*' "$T/veth")
}
if wanted "csum"; then
    "$TT" tx-csum-off br3-port
    "$TT" tx-csum-off eth0
    csum_checks csum
    check "csum: a guest the rule filters keeps its vnet_hdr (offloads)" grep -q 'vnet_hdr=1' "$T/call"
    check "csum: control: its UDP from 10.99.3.7 reaches the wire" \
        test "$(on_wire br3 26 4 --ip4=10.99.3.7)" = "$(ip4hex 10.99.3.7)"
    got=$(on_wire br3 34 2 --ip4=10.99.3.7 --csum=34:0)
    check "csum: attack: nor one asking for it in its UDP header, into its source port ($got)" \
        test "$got" = 1388 -o "$got" = none
    got=$(on_wire br3 42 1 --ip4=10.99.3.7 --udp=68:67:1 --csum=34:8)
    check "csum: attack: nor a BOOTREQUEST asking for one into its op byte ($got)" \
        test "$got" = 01 -o "$got" = none
    # Past the ports no rule reads a byte (but 67 and 547's first payload
    # byte): a tunnel's inner checksum goes there (vethcsum's VXLAN). Here
    # into the UDP length field, which leaves the marker whole.
    got=$(on_wire br3 26 4 --ip4=10.99.3.7 --csum=34:4)
    check "csum: control: UDP asking for one past its ports crosses ($got)" test "$got" = "$(ip4hex 10.99.3.7)"
    got=$(on_wire br3 12 2 --ip6=fe80::5054:ff:fe12:3456 --csum=54:6)
    check "csum: control: its IPv6 UDP asking for its own checksum reaches the wire ($got)" test "$got" = 86dd
    got=$(on_wire eth0 22 6 --arp=10.99.0.9 --csum=20:6)
    check "csum: attack: a pinned macvtap's ARP asking for one into its sender MAC reaches it unchanged ($got)" \
        test "$got" = "$(hex $pinned)" -o "$got" = none
    check "csum: a pinned macvtap keeps its vnet_hdr" grep -q 'vnet_hdr=1' "$T/call"
    check "csum: control: its UDP asking for its own checksum reaches the LAN" \
        test "$(on_wire eth0 26 4 --ip4=10.99.0.9 --csum=34:6)" = "$(ip4hex 10.99.0.9)"
fi

# Segmentation after the filters (a cold review of the exact guard): the
# guest asks the kernel to split one UDP datagram (USO, UFO), whose first
# piece starts as a client's message, into pieces the second of which
# starts as a server's (a BOOTREPLY to port 67, a Relay-Reply to 547),
# which servers=no drops (items 22-2, 27-3) but judged only the whole.
# usod PORT... : the byte after the UDP header (at 42 over IPv4, 62 over
# IPv6) as the wire gets it.
ll=fe80::5054:ff:fe12:3456
# uso_checks NAME KIND...: KINDs as ub-testtool's --gso= takes them.
uso_checks() {
    local name=$1
    shift
    check "$name: control: a BOOTREQUEST to port 67 crosses" \
        test "$(on_wire br3 42 1 --ip4=10.99.3.7 --udp=68:67:1)" = 01
    check "$name: control: a BOOTREPLY to port 67 does not" \
        test "$(on_wire br3 42 1 --ip4=10.99.3.7 --udp=68:67:2)" = none
    for kind in "$@"; do
        got=$(on_wire br3 42 1 --ip4=10.99.3.7 --udp=68:67:1 --gso=$kind:200:2)
        check "$name: attack: nor one a $kind datagram's second piece starts ($got)" \
            test "$got" = none -o "$got" = refused
    done
    check "$name: control: a Relay-Reply to port 547 does not cross" \
        test "$(on_wire br3 62 1 --ip6=$ll --udp=546:547:13)" = none
    got=$(on_wire br3 62 1 --ip6=$ll --udp=546:547:1 --gso=udp:200:13)
    check "$name: attack: nor one a USO datagram's second piece starts ($got)" \
        test "$got" = none -o "$got" = refused
    # UDP to other ports (QUIC's, say) may be segmented: no rule reads its payload.
    check "$name: control: USO to another port crosses, in pieces" \
        test "$(on_wire br3 42 1 --ip4=10.99.3.7 --udp=5000:443:1 --gso=udp:200:2)" = 02
}
if wanted "uso"; then
    "$TT" tx-csum-off br3-port
    uso_checks uso udp udp-nocsum ufo ufo-nocsum
fi

# The same through a veth pair under the same pin: ubalice, root of her
# own user namespace, has CAP_NET_RAW in her network namespace, and a
# packet socket there with PACKET_VNET_HDR asks for a checksum as a guest
# does. (Before the exact guard, nothing checked it: item 24-5's limit.)
if wanted "vethcsum"; then
    "$TT" tx-csum-off br3-port
    pinned_veth vethcsum
    as_alice nsenter -t "$ns" -U -n --preserve-credentials ip link set eth0 up
    VIA_NS=$ns
    csum_checks vethcsum
    # UFO a namespace's own kernel does, before the frames leave its end:
    # into IP fragments, which its root may write as they are anyway.
    uso_checks vethcsum udp udp-nocsum
    # A container's VXLAN leaves the inner checksum to the veth's offload
    # (csum_start at the inner header): it crosses. (A second cold review's.)
    modprobe vxlan 2>/dev/null || true
    in_alice_ns() { as_alice nsenter -t "$ns" -U -n --preserve-credentials "$@"; }
    if in_alice_ns ip link add vx0 type vxlan id 42 remote 10.99.3.1 dstport 4789 dev eth0 2>/dev/null; then
        in_alice_ns ip addr add 10.99.3.7/24 dev eth0
        in_alice_ns ip neigh add 10.99.3.1 lladdr 02:00:00:00:00:01 dev eth0
        in_alice_ns ip addr add 192.168.77.1/24 dev vx0
        in_alice_ns ip link set vx0 up
        in_alice_ns ip neigh add 192.168.77.2 lladdr 02:00:00:00:00:02 dev vx0
        marker="vx$RANDOM$RANDOM"
        "$TT" listen-frame br3-peer "$marker" 3000 >"$T/wire" &
        l=$!
        listening "$T/wire"
        in_alice_ns bash -c "for i in 1 2 3 4 5 6 7 8 9 10; do echo $marker >/dev/udp/192.168.77.2/5000; sleep 0.02; done"
        check "vethcsum: control: its VXLAN, the inner checksum left to offload, crosses" sent_frame_seen $l
    else
        echo "SKIP: vethcsum: no VXLAN in this kernel"
    fi
    # An older release put no guard on a pinned pair: userbridged, starting,
    # puts it on the live ones.
    guarded() { csum_guarded "$host_end"; }
    tc qdisc del dev "$host_end" clsact
    check "vethcsum: control: its guard taken off" fails guarded
    stop_daemon
    start_daemon
    check "vethcsum: userbridged, starting, puts it back on the live pinned pair" soon guarded
    # The guard is what stops it: taken off the host end, the attack gets through.
    tc qdisc del dev "$host_end" clsact
    got=$(on_wire br3 22 6 --arp=10.99.3.7 --csum=20:6)
    check "vethcsum: control: without the guard on $host_end, the sender MAC is rewritten ($got)" \
        test "$got" != "$(hex $guest)" -a "$got" != none
    VIA_NS=
    kill $ns
    wait $ns 2>/dev/null || true
    check "vethcsum: the pair goes with the namespace" soon bash -c "! ip link show dev $host_end >/dev/null 2>&1"
fi

# A userbridged that cannot load the exact guard (started without
# CAP_PERFMON and CAP_SYS_ADMIN) loads the blunt one: a pinned tap then
# gets no vnet header, a pinned macvtap the guard that drops every frame
# waiting for its checksum, and each attack still fails.
if wanted "blunt"; then
    "$TT" tx-csum-off br3-port
    "$TT" tx-csum-off eth0
    pinned_veth blunt
    as_alice "$T/bin/userbridge" lease --br=br4 --name=fc7 --for=10m >"$T/lease" 2>&1 ||
        { echo "FAIL: blunt: no lease under mac= ($(head -c 200 "$T/lease"))"; exit 1; }
    stop_daemon
    printf '#!/bin/sh\nexec setpriv --bounding-set -perfmon,-sys_admin %s "$@"\n' "$T/bin/userbridged" >"$T/blunt"
    chmod 755 "$T/blunt"
    DAEMON_BIN=$T/blunt start_daemon
    check "blunt: a live pinned veth pair it cannot guard goes as it starts ($host_end)" \
        soon bash -c "! ip link show dev $host_end >/dev/null 2>&1"
    check "blunt: ...with a record saying why" \
        soon grep -qE "userbridged.*event=revoke .*tap=$host_end .*pinned veth pair without its checksum guard" "$SYSLOG"
    # A lease under the pin: its next opener could take the header.
    check "blunt: a live lease under mac= it cannot guard ends as it starts" soon fails ip link show fc7
    check "blunt: ...saying why" \
        soon grep -q 'fc7.*under a pinned MAC without its checksum guard' "$SYSLOG"
    rc=0
    as_alice "$T/bin/userbridge" lease --br=br3 --name=fc8 --for=10m >"$T/lease" 2>&1 || rc=$?
    check "blunt: a lease under mac= is refused ($(head -c 200 "$T/lease"))" test $rc -ne 0
    check "blunt: ...saying why" grep -q 'could not load the checksum guard' "$T/lease"
    check "blunt: ...and no fc8 was made" fails ip link show fc8
    rc=0
    as_alice "$T/bin/userbridge" netns --br=br3 --netns=/proc/$ns/ns/net >"$T/veth" 2>&1 || rc=$?
    check "blunt: a pinned veth pair is refused ($(head -c 200 "$T/veth"))" test $rc -ne 0
    check "blunt: ...saying why" grep -q 'without its exact checksum guard' "$T/veth"
    check "blunt: ...and none is left" bash -c '[ -z "$(ip -o link show type veth | grep ubv)" ]'
    kill $ns
    wait $ns 2>/dev/null || true
    check "blunt: userbridged without CAP_PERFMON says its pinned taps get no virtio-net header" \
        soon grep -q 'cannot load the exact checksum guard.*get no virtio-net header' "$SYSLOG"
    got=$(on_wire br3 22 6 --arp=10.99.3.7 --csum=20:6)
    check "blunt: attack: an ARP asking for a checksum into its sender MAC reaches it unchanged ($got)" \
        test "$got" = "$(hex $guest)" -o "$got" = none
    check "blunt: ...for the guest the rule filters has no vnet_hdr" grep -q 'vnet_hdr=0' "$T/call"
    got=$(on_wire eth0 22 6 --arp=10.99.0.9 --csum=20:6 --tamper=vnet-hdr)
    check "blunt: attack: a pinned macvtap's ARP, its header turned on, reaches the LAN unchanged ($got)" \
        test "$got" = "$(hex $pinned)" -o "$got" = none
    check "blunt: control: its UDP without a checksum request reaches the LAN" \
        test "$(on_wire eth0 26 4 --ip4=10.99.0.9)" = "$(ip4hex 10.99.0.9)"
    stop_daemon
    start_daemon
fi

# An older release's chain (its two rules) on a macvtap still held when
# userbridged starts again gets the rules it lacks.
if wanted "older"; then
    # The csum case's macvtaps, closed, go as their closes are seen.
    within 20 bash -c '[ -z "$(ip -o link show type macvtap)" ]' || true
    as_alice "$TT" call stream --hold=8000 -- "$client" --fd=3 --br=eth0 >"$T/held" 2>&1 &
    held=$!
    granted "$T/held" || { echo "FAIL: older: no macvtap to hold"; exit 1; }
    # chain_has TEXT: the held macvtap's chain has a rule with TEXT.
    chain_has() { nft list chain netdev userbridge_macvtap "$chain" | has -F -- "$1"; }
    chain=$(nft list table netdev userbridge_macvtap | sed -nE 's/^\tchain (mvt[0-9]+) \{/\1/p')
    nft -f - <<NFT
flush chain netdev userbridge_macvtap $chain
add rule netdev userbridge_macvtap $chain ether saddr != $pinned drop
add rule netdev userbridge_macvtap $chain arp saddr ether != $pinned drop
NFT
    check "older: the held macvtap's chain ($chain) is an older release's" fails chain_has '8021q'
    # ...and, as an older release's, without the checksum guard (item 27-1).
    mvt=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/held")
    tc qdisc del dev "$mvt" clsact
    guarded() { tc filter show dev "$mvt" egress | has userbridge_csum_guard; }
    check "older: ...and no checksum guard" fails guarded
    stop_daemon
    start_daemon
    check "older: userbridged, starting, gave it the VLAN rule" soon chain_has 'ether type { 8021q'
    check "older: ...and the neighbour discovery rules, for the pinned MAC" chain_has '@th,200,56 != 0x152540000000b drop'
    check "older: ...and kept its MAC rule" chain_has "ether saddr != $pinned drop"
    check "older: ...and gave it the checksum guard" guarded
    wait $held || true
    # An adopted macvtap: its closes are asked of the kernel again later
    # (macvtaps.h), as macvtap.sh waits for them.
    check "older: gone after" within 20 bash -c '[ -z "$(ip -o link show type macvtap)" ]'
fi

# --- item 24-6: a lease under mac= ------------------------------------------------
# A lease is opened by name (TUNSETIFF), and the kernel sets a persistent
# tap's flags from its opener's request (tun_set_iff): its VMM may ask for
# the header, and with it the guest's checksum writes past the pin. The
# exact checksum guard on the lease holds the pin whatever its opener asks.
if wanted "lease"; then
    "$TT" tx-csum-off br3-port
    as_alice "$T/bin/userbridge" lease --br=br3 --name=fc5 --for=10m >"$T/lease" 2>&1 ||
        { echo "FAIL: lease: no lease under mac= ($(head -c 200 "$T/lease"))"; exit 1; }
    check "lease: a lease under mac= has the checksum guard" csum_guarded fc5
    guard_block=$((0x75620001))  # net/csum_guard.cpp, block_of
    # ...as one filter on a tc block every guarded port shares: binding a
    # port to it costs the same with 1,000 pinned ports as with none.
    check "lease: ...on the guard's shared tc block" has "ingress_block $guard_block" < <(tc qdisc show dev fc5)
    check "lease: ...which has one filter" \
        test "$(tc filter show block $guard_block | grep -c userbridge_csum_guard)" = 1
    VIA_NAME=fc5
    csum_checks lease
    check "lease: ...its opener had the header" grep -q 'vnet_hdr=1' "$T/call"
    # A daemon starting finds it guarded, on the shared block, and keeps it,
    # putting its own program there in place of its former one's.
    prog_id() { tc filter show block $guard_block | grep -o ' id [0-9]*'; }
    before=$(prog_id)
    stop_daemon
    start_daemon
    check "lease: a restarted userbridged puts its program on the block ($before, now $(prog_id))" \
        test -n "$before" -a "$(prog_id)" != "$before"
    check "lease: a restarted userbridged keeps the guarded lease" test -e /sys/class/net/fc5
    check "lease: ...not ending it" fails grep -q 'fc5.*without its checksum guard' "$SYSLOG"
    check "lease: ...and it is still guarded" csum_guarded fc5
    # The guard is what stops it: taken off, the attack gets through.
    tc qdisc del dev fc5 clsact
    got=$(on_wire br3 22 6 --arp=10.99.3.7 --csum=20:6)
    check "lease: control: without the guard on fc5, the sender MAC is rewritten ($got)" \
        test "$got" != "$(hex $guest)" -a "$got" != none
    VIA_NAME=
    as_alice "$T/bin/userbridge" release fc5 >/dev/null
    check "lease: released" soon fails ip link show fc5
    # One an older release leased under the pin, made here as it made one
    # (persistent, hers, up on its bridge, labelled with the pinned MAC and
    # an expiry), had no guard: it gets one as userbridged starts, and stays.
    stop_daemon
    ip tuntap add dev fc6 mode tap user $ALICE
    ip link set fc6 master br3 up
    port=$(cat /sys/class/net/fc6/address)
    ip link set fc6 alias "userbridge uid=$ALICE mac=$guest queues=1 port=$port lease=$(($(date +%s) + 600))"
    start_daemon
    check "lease: an older release's lease under mac= gets the guard as userbridged starts" soon csum_guarded fc6
    check "lease: ...and stays" test -e /sys/class/net/fc6
    ip link del fc6 2>/dev/null || true
    # A port on a shared block other than the guard's has none of its
    # filters: as userbridged starts, such a lease ends, though the guard's
    # block is there (fc11 on br4 keeps it).
    # (fc10 pins fc6's MAC: granted once userbridged has seen fc6 go.)
    within 5 as_alice "$T/bin/userbridge" lease --br=br3 --name=fc10 --for=10m >/dev/null 2>&1 ||
        { echo "FAIL: lease: no lease fc10"; exit 1; }
    as_alice "$T/bin/userbridge" lease --br=br4 --name=fc11 --for=10m >/dev/null
    stop_daemon
    tc qdisc del dev fc10 clsact
    tc qdisc add dev fc10 ingress_block 77 clsact
    start_daemon
    check "lease: one root bound to another tc block ends as userbridged starts" soon fails ip link show fc10
    check "lease: ...saying why" soon grep -q 'fc10.*bound to tc block 77' "$SYSLOG"
    check "lease: ...while one on the guard's block stays" test -e /sys/class/net/fc11
    as_alice "$T/bin/userbridge" release fc11 >/dev/null
fi

stop_daemon
ip netns del lan
finish
