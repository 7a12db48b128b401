#!/bin/bash
# Sixth outside review (docs/SECURITY.md, items 27-N). 27-1: a pinned tap
# or macvtap is made without IFF_VNET_HDR (item 24-5); can its fd's holder
# turn the header on afterwards, on the fd it holds (TUNSETIFF) or on a
# multiqueue tap's queue it detached (TUNSETQUEUE), and have the kernel
# write a checksum into what the pin judged?
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^vnet' .
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
client=$T/bin/userbridge-client
guest=52:54:00:12:34:56
pinned=52:54:00:00:00:0b
bridge br3
bridge br0
nic_and_lan
acl "allow br3 user=ubalice mac=$guest ip=10.99.3.7 servers=no
allow br0 user=ubalice max-taps=3
allow br0 user=ubbob
allow br3 user=ubbob mac=$guest servers=no
allow eth0 user=ubalice mode=macvtap mac=$pinned
"
start_daemon

# on_wire PORT FROM LEN CALL-OPTION...: bytes FROM to FROM+LEN-1 (hex) of
# the frame ubalice's guest sends (from its pinned MAC, over bridge PORT,
# or her macvtap of eth0), as PORT's other port's peer (eth0's: the LAN)
# gets it; "none" if none arrived. The guest is ubalice's, or whoever
# $sender (as_bob) runs as.
sender=as_alice
on_wire() {
    local port=$1 from=$2 len=$3 marker="cs$RANDOM$RANDOM" hex src=$guest
    shift 3
    if [ "$port" = eth0 ]; then
        src=$pinned
        ip netns exec lan "$TT" listen-frame lan0 "$marker" 3000 >"$T/wire" &
    else
        "$TT" listen-frame $port-peer "$marker" 3000 >"$T/wire" &
    fi
    local l=$! a q=()
    for a in "$@"; do [[ $a == --queues=* ]] && q=("$a"); done
    listening "$T/wire"
    $sender "$TT" call stream --src=$src "$@" --send="$marker" -- "$client" "${q[@]}" --fd=3 --br=$port \
        >"$T/call" 2>&1 || { echo "FAIL: no tap to send the frame: $(tail -n2 "$T/call")" | tee /dev/stderr; exit 1; }
    sent_frame_seen $l || { echo none; return; }
    hex=$(tail -n1 "$T/wire")
    echo "${hex:$((from * 2)):$((len * 2))}"
}
hex() { tr -d ':.' <<<"$1"; }
# stopped_by_servers_no CASE WHAT CALL-OPTION...: the frame (WHAT, in
# words) the options make crosses br0, whose rule has no servers=no (the
# control), and not br3.
stopped_by_servers_no() {
    local case=$1 what=$2 got
    shift 2
    got=$(on_wire br0 0 1 "$@")
    check "$case: control: without servers=no, $what crosses ($got)" test "$got" != none
    got=$(on_wire br3 0 1 "$@")
    check "$case: with servers=no it does not ($got)" test "$got" = none
}

# --- item 27-1: the header turned on by the fd's holder -------------------------
# A tap's holder cannot; a macvtap's can (tap_ioctl takes TUNSETIFF with
# IFF_VNET_HDR on any of its fds at any time), so a pinned macvtap's egress
# drops every frame that waits for a checksum (net/csum_guard.h).
if wanted "vnet"; then
    "$TT" tx-csum-off br3-port
    check "vnet: control: the pinned guest's ARP reaches the wire from its MAC" \
        test "$(on_wire br3 22 6 --arp=10.99.3.7)" = "$(hex $guest)"
    got=$(on_wire br3 22 6 --arp=10.99.3.7 --tamper=vnet-hdr --csum=20:6)
    check "vnet: a pinned tap's fd takes no TUNSETIFF with IFF_VNET_HDR ($got)" \
        test "$got" = "$(hex $guest)"
    check "vnet: ...it is EEXIST" grep -q 'vnet-hdr: File exists' "$T/call"
    got=$(on_wire br3 22 6 --arp=10.99.3.7 --queues=2 --tamper=requeue --csum=20:6)
    check "vnet: nor a pinned multiqueue tap's last queue, detached ($got)" \
        test "$got" = "$(hex $guest)"
    check "vnet: ...it is EEXIST too (a detached queue stays bound to its tap)" \
        grep -q 'requeue: File exists' "$T/call"
fi

if wanted "macvtap"; then
    "$TT" tx-csum-off eth0
    check "macvtap: control: the pinned macvtap's ARP reaches the LAN from its MAC" \
        test "$(on_wire eth0 22 6 --arp=10.99.0.9)" = "$(hex $pinned)"
    as_alice "$TT" call stream --hold=4000 -- "$client" --fd=3 --br=eth0 >"$T/held" 2>&1 &
    held=$!
    granted "$T/held" || { echo "FAIL: macvtap: no macvtap to hold"; exit 1; }
    mvt=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/held")
    check "macvtap: its egress has the checksum guard ($mvt)" \
        bash -c "tc filter show dev $mvt egress | grep -q userbridge_csum_guard"
    wait $held || true
    got=$(on_wire eth0 22 6 --arp=10.99.0.9 --tamper=vnet-hdr)
    check "macvtap: control: its holder turns the header on, and an ARP asking no checksum still leaves ($got)" \
        test "$got" = "$(hex $pinned)"
    check "macvtap: ...the header was on (TUNSETIFF took IFF_VNET_HDR)" grep -q 'vnet-hdr: ok' "$T/call"
    got=$(on_wire eth0 22 6 --arp=10.99.0.9 --tamper=vnet-hdr --csum=20:6)
    check "macvtap: attack: nor does its ARP asking for a checksum into its sender MAC ($got)" \
        test "$got" = none
    got=$(on_wire eth0 26 4 --ip4=10.99.0.9 --tamper=vnet-hdr --csum=20:8)
    check "macvtap: ...nor any frame asking for a checksum (UDP, into its source address) ($got)" \
        test "$got" = none
fi

# A daemon that could not load the guard (here: started without CAP_BPF
# and CAP_SYS_ADMIN, either of which loads it) grants no pinned macvtap,
# rather than one whose pin the holder undoes, and keeps none: a pinned
# macvtap held across its start goes (an older release's had no guard).
if wanted "noguard"; then
    as_alice "$TT" call stream --hold=8000 -- "$client" --fd=3 --br=eth0 >"$T/kept" 2>&1 &
    kept=$!
    granted "$T/kept" || { echo "FAIL: noguard: no macvtap to hold"; exit 1; }
    mvt=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/kept")
    tc qdisc del dev "$mvt" clsact
    stop_daemon
    printf '#!/bin/sh\nexec setpriv --bounding-set -bpf,-sys_admin %s "$@"\n' "$T/bin/userbridged" >"$T/nobpf"
    chmod 755 "$T/nobpf"
    DAEMON_BIN=$T/nobpf start_daemon
    check "noguard: userbridged without CAP_BPF says it has no checksum guard" \
        soon grep -q 'cannot load the checksum guard' "$SYSLOG"
    check "noguard: ...and removes the pinned macvtap held across its start, unguarded ($mvt)" \
        soon bash -c "! ip link show dev $mvt >/dev/null 2>&1"
    check "noguard: ...with a record saying why" \
        soon grep -qE "userbridged.*event=revoke .*tap=$mvt .*without its checksum guard" "$SYSLOG"
    wait $kept || true
    rc=0
    as_alice "$TT" call stream -- "$client" --fd=3 --br=eth0 >"$T/noguard" 2>&1 || rc=$?
    check "noguard: ...and refuses a pinned macvtap ($(head -c 200 "$T/noguard"))" test $rc -ne 0
    check "noguard: ...saying why" grep -q 'without its checksum guard' "$T/noguard"
    check "noguard: ...and leaves no macvtap" soon bash -c '[ -z "$(ip -o link show type macvtap)" ]'
    check "noguard: ...while a pinned tap is still granted" \
        as_alice "$TT" call stream -- "$client" --fd=3 --br=br3
    stop_daemon
    start_daemon
fi

# --- servers=no behind IPv6 extension headers ----------------------------------------
# servers=no passes UDP to port 547 only with a client's msg-type (item
# 22-2, continued), read relative to the transport header nftables finds
# (ipv6_find_hdr skips extension headers). A Relay-Reply (13) behind a
# hop-by-hop or destination options header must not cross either.
if wanted "ext6"; then
    ll=fe80::5054:ff:fe12:3456
    for ext in 0 60; do
        got=$(on_wire br3 0 1 --ip6=$ll --udp=5470:547:1 --ext6=$ext)
        check "ext6: control: a Solicit (1) to port 547 behind extension header $ext crosses ($got)" \
            test "$got" != none
        got=$(on_wire br3 0 1 --ip6=$ll --udp=5470:547:13 --ext6=$ext)
        check "ext6: a Relay-Reply (13) to port 547 behind extension header $ext does not ($got)" \
            test "$got" = none
    done
fi

# --- a first fragment with no UDP header ---------------------------------------
# The port rules of servers=no read the UDP header; a first IPv6 fragment
# holding none (a destination options header alone, the UDP header in the
# second fragment) gives them nothing to read, and a receiver that does
# not follow RFC 7112 takes the datagram whole (Linux does follow it, so
# the wire is what is looked at). A client's first fragment passes only
# with its UDP header whole.
if wanted "frag6"; then
    ll=fe80::5054:ff:fe12:3456
    stopped_by_servers_no frag6 "a first fragment holding no UDP header" --ip6=$ll --udp=5470:547:13 --frag=tiny
    # A seventh cold review's: the first fragment's header chain names an
    # extension header that starts the second fragment, so no protocol can
    # be found in the first; Linux reassembles it and delivers the UDP.
    stopped_by_servers_no frag6 "a first fragment whose header chain goes on in the second" \
        --ip6=$ll --udp=547:546:7 --frag=chain
    got=$(on_wire br3 0 1 --ip6=$ll --udp=5470:5000 --frag=chain)
    check "frag6: ...whatever its ports ($got)" test "$got" = none
    # An eighth cold review's: the same, with a harmless header chain and
    # UDP header past the first fragment's payload length, which the
    # receiver cuts off and nftables read.
    stopped_by_servers_no frag6 "one with a fake chain past its payload length" --ip6=$ll --udp=547:546:7 --frag=pad
    dropped() { nft list chain bridge userbridge client_first_fragment | sed -nE 's/.*counter packets ([0-9]+).*/\1/p'; }
    before=$(dropped)
    as_alice "$TT" call stream --src=$guest --ip6=$ll --udp=5470:5000 --frag --send=fr$RANDOM -- \
        "$client" --fd=3 --br=br3 >"$T/call" 2>&1
    check "frag6: control: its first fragment with the UDP header whole passes the new rule ($before, $(dropped))" \
        test "$(dropped)" = "$before"
fi

# --- IPv4 and IPv6 headers nftables cannot take ------------------------------------
# nftables finds no transport header in a packet whose IP header it does
# not accept (a version other than 4 or 6, a total length past the frame),
# so no `udp` rule matches it; a DHCP client reading a raw socket (ISC
# dhclient) may take it all the same (a ninth cold review's find). A
# servers=no guest's DHCP offer so made must not cross. (The namespace's
# br_netfilter hooks, which drop such IPv4 themselves, are turned off
# here, as on a host without br_netfilter.)
if wanted "badip"; then
    sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
    for bad in version length; do
        stopped_by_servers_no badip "an offer with a bad IPv4 $bad" --ip4=10.99.3.7 --udp=67:68:2 --ip4-bad=$bad
    done
    got=$(on_wire br3 0 1 --ip4=10.99.3.7 --udp=5000:5001)
    check "badip: control: with servers=no, a well-formed datagram to another port crosses ($got)" test "$got" != none
fi

# --- IPv4 router messages -------------------------------------------------------------
# servers=no drops a client's IPv6 router advertisements and redirects; a
# tenth review found their IPv4 forms crossing: an ICMP redirect from the
# gateway's address (a guest without ip= sends from any) moves a host's
# route to a destination, an ICMP router advertisement (RFC 1256) makes
# its sender a router of hosts that listen. Neither may cross; an echo
# request still does. ubbob's rule on br3 has servers=no and no ip=.
if wanted "icmp4"; then
    sender=as_bob
    stopped_by_servers_no icmp4 "an ICMP redirect from the gateway's address" --ip4=10.99.3.1 --icmp4=5:1
    stopped_by_servers_no icmp4 "an ICMP router advertisement" --ip4=10.99.3.1 --icmp4=9:0
    got=$(on_wire br3 0 1 --ip4=10.99.3.1 --icmp4=8:0)
    check "icmp4: control: with servers=no, an echo request crosses ($got)" test "$got" != none
    sender=as_alice
fi

# --- PPPoE discovery --------------------------------------------------------------
# A PPPoE access concentrator is a server too: its offer (PADO) to a
# client's PADI, and the session (PADS) it confirms, make it the router of
# every PPPoE client on the segment that takes them. servers=no lets a
# client's discovery messages through only: PADI, PADR, PADT.
if wanted "pppoe"; then
    sender=as_bob
    stopped_by_servers_no pppoe "a PPPoE offer (PADO)" --pppoe=0x07
    stopped_by_servers_no pppoe "a PPPoE session confirmation (PADS)" --pppoe=0x65
    for code in 0x09 0x19 0xa7; do
        got=$(on_wire br3 0 1 --pppoe=$code)
        check "pppoe: control: with servers=no, a client's message ($code) crosses ($got)" test "$got" != none
    done
    sender=as_alice
fi

# --- the live-link index under a flood of link events ------------------------------
# userbridged counts max-taps= against its index of links (item 26-2), kept
# by its link monitor's events and rebuilt from a dump when some were lost
# (ENOBUFS). Any tap's holder makes events at will: each TUNSETOFFLOAD that
# changes the tap's features is one (NETDEV_FEAT_CHANGE). While ubbob
# floods, ubalice asks for six taps under max-taps=3, one at a time.
if wanted "flood"; then
    as_bob "$TT" call stream --tamper=offload-flood=6000 -- "$client" --fd=3 --br=br0 >"$T/bob" 2>&1 &
    bob=$!
    sleep 0.5
    held=()
    for i in 1 2 3 4 5 6; do
        as_alice "$TT" call stream --hold=20000 -- "$client" --fd=3 --br=br0 >"$T/alice$i" 2>&1 &
        held+=($!)
        sleep 0.3
    done
    # Each of the six answered, a tap or a refusal; none is let go before
    # the checks (a tap let go would free a slot of the quota).
    answered() { [ "$(grep -lE '^tap=|refused|quota|denied|error' "$T"/alice? | wc -l)" -eq 6 ]; }
    within 20 answered || true
    check "flood: under ubbob's flood of link events, ubalice holds 3 taps on br0 (max-taps=3)" \
        test "$(grep -l '^tap=' "$T"/alice? | wc -l)" -eq 3
    check "flood: ...the others were refused by the quota" \
        test "$(grep -l 'quota reached' "$T"/alice? | wc -l)" -eq 3
    kill "${held[@]}" 2>/dev/null || true
    wait "${held[@]}" $bob || true
    echo "info: $(grep -o 'feature changes: [0-9]*' "$T/bob")"
fi

finish
