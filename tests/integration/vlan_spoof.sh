#!/bin/bash
# VLAN tags past the anti-spoofing rules (review item 2). ubalice's guest,
# on taps whose rules pin its MAC (mac=), make it a client only
# (servers=no) and hold it to its addresses (ip=), sends what those rules
# drop, with an 802.1Q tag (VID 0: a priority tag, which Linux receivers
# treat as untagged; VID 5), an 802.1ad one, two stacked, or the old QinQ
# TPID 0x9100: ARP naming another MAC (the host's ARP cache must stay
# clean), neighbour discovery announcing another MAC, router advertisements
# and DHCP server replies, IPv4 from another address. None may reach the
# host or the bridge's other port; untagged, the guest's own traffic
# still crosses. The kernel moves a frame's outer 802.1Q or 802.1ad tag out
# of the frame as it arrives from the tap (skb_vlan_untag); the checks show
# the rules see it all the same. Also: a table made by a release before
# this rule gets it from userbridged as it starts. The taps come from
# userbridged, which alone filters (the helper refuses: filters.sh).
source "$(dirname "$0")/lib.sh"

pinned=52:54:00:12:34:56
foreign=52:54:00:66:66:66
for b in br3 br4 br5; do bridge $b; done
ip addr add 10.99.0.1/24 dev br3
ip addr add 10.99.5.1/24 dev br5
acl "allow br3 user=ubalice mac=$pinned
allow br4 user=ubalice mac=$pinned servers=no
allow br5 user=ubalice mac=$pinned servers=no ip=10.99.5.7,2001:db8:5::7
"
client=$T/bin/userbridge-client
CALLER=$client
start_daemon

# crosses BRIDGE CALL-OPTION...: ubalice's guest on a tap of BRIDGE (from
# $CALLER) sends a frame (ub-testtool call CALL-OPTION... makes it); does it
# reach BRIDGE's other port within 3 s? A grant that fails ends the test,
# so that "does not cross" never passes because nothing was sent.
crosses() {
    local br=$1 marker="vlan$RANDOM$RANDOM"
    shift
    "$T/bin/ub-testtool" listen "$br-peer" "$marker" 3000 >"$T/listener" &
    local listener=$!
    listening "$T/listener"
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned "$@" --send="$marker" -- \
        "$CALLER" --fd=3 --br="$br" >/dev/null ||
        { echo "FAIL: no tap from $CALLER to send the frame"; exit 1; }
    sent_frame_seen $listener
}

# poisons BRIDGE SENDER [CALL-OPTION...]: the guest asks the host (x.x.x.1)
# for its MAC in the name of SENDER at the foreign MAC; does the host's ARP
# cache then hold SENDER at that MAC?
poisons() {
    local br=$1 sender=$2
    shift 2
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned --arp=$sender --arp-mac=$foreign "$@" \
        --send="arp$RANDOM" -- "$CALLER" --fd=3 --br="$br" >/dev/null ||
        { echo "FAIL: no tap from $CALLER to send the ARP"; exit 1; }
    ip neigh show "$sender" dev "$br" | has "lladdr $foreign"
}

# Tags: VID 0 and 5 (802.1Q), 802.1ad VID 0 and 5, both stacked, 0x9100.
TAGS=(0 5 88a8:0 88a8:5 88a8:0,0 88a8:5,7 9100:5)

# --- mac=: ARP -------------------------------------------------------------
check "control: untagged, an ARP naming another MAC does not poison the host" fails poisons br3 10.99.0.50
check "control: untagged, the pinned MAC's ARP does" \
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned --arp=10.99.0.49 --send=own -- \
        "$client" --fd=3 --br=br3 >/dev/null
check "...and the host learnt it" grep -q "lladdr $pinned" <(ip neigh show 10.99.0.49 dev br3)
n=60
for tag in "${TAGS[@]}"; do
    n=$((n + 1))
    check "mac=: an ARP naming another MAC, tagged $tag, does not poison the host's ARP cache" \
        fails poisons br3 10.99.0.$n --vlan=$tag
    check "mac=: ...nor reach the bridge's other port" \
        fails crosses br3 --arp=10.99.0.$n --arp-mac=$foreign --vlan=$tag
done
check "the host's ARP cache holds the foreign MAC nowhere" \
    fails grep -q "$foreign" <(ip neigh show dev br3)

# --- mac=: neighbour discovery ------------------------------------------------
check "control: untagged, an NA announcing the pinned MAC crosses" crosses br3 --nd=na:$pinned
for tag in 0 5 88a8:5 9100:5; do
    check "mac=: an NA announcing another MAC, tagged $tag, does not cross" \
        fails crosses br3 --nd=na:$foreign --vlan=$tag
done
check "mac=: nor an NS announcing another MAC, tagged 0" fails crosses br3 --nd=ns:$foreign --vlan=0
check "mac=: nor a tagged frame of the pinned MAC (tagged frames are dropped)" fails crosses br3 --vlan=5
check "control: its untagged frames of another EtherType still cross" crosses br3

# --- servers=no -----------------------------------------------------------------
check "control: servers=no, its untagged DHCP request crosses" crosses br4 --udp=68:67:1
for tag in 0 5 88a8:5 9100:5; do
    check "servers=no: a router advertisement tagged $tag does not cross" \
        fails crosses br4 --nd=ra:$pinned --vlan=$tag
    check "servers=no: nor a DHCP server reply tagged $tag" fails crosses br4 --udp=67:68 --vlan=$tag
done
check "servers=no: nor a DHCPv6 server reply tagged 0" fails crosses br4 --udp=547:546 --ip6=fe80::1 --vlan=0

# --- ip= --------------------------------------------------------------------------
check "control: ip=, untagged from its listed address crosses" crosses br5 --ip4=10.99.5.7
for tag in 0 88a8:0,0 9100:5; do
    check "ip=: a datagram from another address tagged $tag does not cross" \
        fails crosses br5 --ip4=10.99.9.9 --vlan=$tag
    check "ip=: nor an ARP naming another MAC and address tagged $tag poison the host" \
        fails poisons br5 10.99.5.66 --vlan=$tag
done
check "ip=: nor an NA claiming another address tagged 0" \
    fails crosses br5 --nd=na:$pinned --ip6=fe80::5054:ff:fe12:3456 --nd-target=2001:db8:5::8 --vlan=0

check "the VLAN drops were counted (tags the kernel moved out of the frame among them)" \
    grep -qE 'ether type @vlan_types counter packets [1-9]' <(nft list chain bridge userbridge pinned)

# --- a table from an older release ----------------------------------------------
# The table as releases before the VLAN rule made it (lib_tables.sh).
source "$(dirname "$0")/lib_tables.sh"
nft_has() { nft list "$@" >/dev/null 2>&1; }
# A pinned port's frames go first to `pinned`, whose first rule drops tags.
first_rule_drops_tags() {
    nft list chain bridge userbridge prerouting | grep -A1 'policy accept' | tail -n1 |
        grep -qE 'iif @pinned jump pinned$' &&
        nft list chain bridge userbridge pinned | grep -A1 'chain pinned {' | tail -n1 |
        grep -qE 'ether type @vlan_types counter .*drop'
}
check "the VLAN rule comes before every other check" first_rule_drops_tags
stop_daemon
old_table
check "an older table lacks the VLAN rule" fails nft_has set bridge userbridge vlan_types
start_daemon
check "daemon: starting, it adds the rule to an older table, before any grant" first_rule_drops_tags
check "daemon: a tagged ARP naming another MAC does not poison the host" \
    fails poisons br3 10.99.0.81 --vlan=0
check "daemon: nor a tagged RA cross with servers=no" fails crosses br4 --nd=ra:$pinned --vlan=88a8:5
check "daemon: untagged, the pinned MAC's frames cross" crosses br3
# A prerouting chain emptied by hand sends no pinned port's frame to the
# rules: starting, userbridged puts the layout back (review item 33-5).
stop_daemon
nft flush chain bridge userbridge prerouting
start_daemon
check "daemon: starting, it puts back a prerouting chain emptied by hand" first_rule_drops_tags
# A table it cannot bring up to date (a set of its own defined otherwise
# by hand) would hold taps to older rules: no pinned grant until it can.
stop_daemon
nft delete table bridge userbridge
nft -f - <<'NFT'
table bridge userbridge {
    set pinned { type iface_index; }
    set allowed { type iface_index . ether_addr; }
    set clients { type ipv4_addr; }
}
NFT
start_daemon
granted_br3() { as_alice "$T/bin/ub-testtool" call stream -- "$CALLER" --fd=3 --br=br3 >/dev/null 2>&1; }
check "daemon: with a table it cannot bring up to date, a pinned grant is refused" fails granted_br3
nft delete set bridge userbridge clients
check "daemon: ...and granted once it can" granted_br3
check "daemon: ...under the rules of today" first_rule_drops_tags
stop_daemon
nft delete table bridge userbridge
start_daemon
check "daemon: with no table, starting makes none (the first pinned grant does)" \
    fails nft_has table bridge userbridge
stop_daemon

check "in the end, the host's ARP cache holds the foreign MAC nowhere" \
    fails grep -q "$foreign" <(ip neigh show)
finish
