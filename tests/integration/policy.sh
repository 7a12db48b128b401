#!/bin/bash
# Policy beyond QEMU's ACL, end to end with real users in different groups:
# user= and group= rules, deny winning, max-taps under 16 concurrent
# requests (and free again when the holder's fds close), multiqueue taps
# whose every queue carries frames, a pinned MAC that keeps spoofed frames
# off the bridge, the same through userbridged, and an audit record for
# every case; without libnftables, pinning rules refused with a clear
# message by both while other grants go on.
source "$(dirname "$0")/lib.sh"

bridge br0
bridge br1
bridge br2
bridge br3
acl 'allow br0 group=ubvm max-taps=2 max-queues=4
deny br1 user=ubalice
allow br1
allow br2 user=ubbob
allow br3 user=ubalice mac=52:54:00:12:34:56
allow br3 user=ubbob mac-prefix=52:54:00
'
setuid=$T/bin/setuid-helper
fcap=$T/bin/fcap-helper

# --- whom rules are for ---------------------------------------------------
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    check "$mode: ubalice (group ubvm) may use br0" \
        grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0)
    refused "$mode: ubbob (not in ubvm) may not use br0" \
        "access to bridge br0 denied: no rule allows it (the default is deny)" \
        as_bob "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0
    refused "$mode: deny user=ubalice wins over allow br1" \
        "access to bridge br1 denied: denied by /etc/qemu/bridge.conf:2" \
        as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br1
    check "$mode: ubbob may use br1" \
        grep -q 'tap=tap' <(as_bob "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br1)
    check "$mode: ubbob may use br2 (user=ubbob)" \
        grep -q 'tap=tap' <(as_bob "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br2)
    refused "$mode: ubalice may not use br2" "access to bridge br2 denied" \
        as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br2
done
check "denials are logged with the deciding rule" \
    grep -qE 'event=deny user=ubalice uid=4711 parent_pid=[0-9]+ bridge="br1" rule="/etc/qemu/bridge.conf:2" via=helper detail="denied by /etc/qemu/bridge.conf:2"' "$SYSLOG"

# --- max-taps=2 under 16 concurrent requests ------------------------------
on_br0() { ip -o link show master br0 type tun 2>/dev/null | grep -c . || true; }
quota_round() {
    local helper=$1 tag=$2 i
    rm -f "$T"/q.*
    local pids=()
    for i in $(seq 16); do
        as_alice "$T/bin/ub-testtool" call stream --hold=2500 -- "$helper" --fd=3 --br=br0 \
            >"$T/q.$i.out" 2>"$T/q.$i.err" &
        pids+=($!)
    done
    local most=0 n
    for _ in $(seq 60); do
        n=$(on_br0)
        if [ "$n" -gt "$most" ]; then most=$n; fi
        sleep 0.05
    done
    wait "${pids[@]}" || true
    local granted denied
    granted=$(cat "$T"/q.*.out | grep -c 'tap=tap' || true)
    denied=$(cat "$T"/q.*.err "$T"/q.*.out | grep -c 'quota reached: you hold' || true)
    check "$tag: exactly 2 of 16 concurrent requests granted (got $granted)" test "$granted" -eq 2
    check "$tag: the other 14 denied with a clear message (got $denied)" test "$denied" -eq 14
    check "$tag: never more than 2 taps on br0 (most seen: $most)" test "$most" -le 2
    check "$tag: all gone when the holders exit" test -z "$(taps)"
}
quota_round "$setuid" "setuid"
quota_round "$fcap" "fcap"
check "quota denials are logged" \
    grep -qE 'event=deny user=ubalice .* bridge="br0" rule="/etc/qemu/bridge.conf:1" via=helper detail="quota reached' "$SYSLOG"

# Two held; a third is refused; once one holder's fds close, there is room.
as_alice "$T/bin/ub-testtool" call stream --hold=4000 -- "$setuid" --fd=3 --br=br0 >/dev/null &
h1=$!
as_alice "$T/bin/ub-testtool" call stream --hold=1500 -- "$setuid" --fd=3 --br=br0 >/dev/null &
h2=$!
sleep 0.7
refused_keep() { "$@" >"$T/out" 2>"$T/err" && return 1; grep -q 'quota reached' "$T/err"; }
check "a third tap while two are held is refused" \
    refused_keep as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0
wait $h2
check "after one holder exits, the quota has room again" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0)
wait $h1

# --- multiqueue -------------------------------------------------------------
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    marker="mq-$mode-$RANDOM"
    pids=()
    for q in 0 1 2 3; do
        "$T/bin/ub-testtool" listen br0-peer "$marker-q$q" 6000 >/dev/null &
        pids+=($!)
    done
    sleep 0.3
    out=$(as_alice "$T/bin/ub-testtool" call stream --queues=4 --send="$marker" -- \
        "$helper" --use-vnet --queues=4 --fd=3 --br=br0)
    check "$mode: --queues=4 gives 4 fds of one multiqueue tap" grep -q 'queues=4' <<<"$out"
    for q in 0 1 2 3; do
        check "$mode: a frame through queue $q reaches the wire" wait "${pids[$q]}"
    done
done
refused "more queues than the rule's max-queues=4" \
    "access to bridge br0 denied: asked for 5 queues; /etc/qemu/bridge.conf:1 allows at most 4" \
    as_alice "$T/bin/ub-testtool" call stream --queues=5 -- "$setuid" --queues=5 --fd=3 --br=br0
refused "--queues=0 is refused before anything is made" "--queues=0: expected 1 to 64" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --queues=0 --fd=3 --br=br0
refused "a VM name with a space is refused" "may hold only letters, digits" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" "--vm=a b" --fd=3 --br=br0
check "multiqueue grants are logged with queues=4" \
    grep -qE 'event=grant user=ubalice .* queues=4 rule=' "$SYSLOG"

# --- MAC pinning --------------------------------------------------------------
pinned=52:54:00:12:34:56
# The table as releases before neighbour-discovery filtering made it: the
# first pin below must add what is missing (the table is deleted after the
# neighbour-discovery cases, so the pins after them make it from nothing).
nft -f - <<'NFT'
table bridge userbridge {
    set pinned { type iface_index; }
    set allowed { type iface_index . ether_addr; }
    chain prerouting {
        type filter hook prerouting priority -300; policy accept;
        iif @pinned iif . ether saddr != @allowed counter drop
        iif @pinned iif . arp saddr ether != @allowed counter drop
    }
}
NFT
# crosses CALLER MS CALL-OPTION...: ubalice gets a tap on br3 through CALLER
# and sends a frame into it (ub-testtool call CALL-OPTION... makes it); does
# it reach the wire within MS ms? (The frame carries a marker to look for;
# LISTEN_FOR names another.) A grant that fails ends the test, so that
# "does not cross" can never pass because nothing was sent.
crosses() {
    local caller=$1 ms=$2 marker="pin$RANDOM$RANDOM"
    shift 2
    "$T/bin/ub-testtool" listen br3-peer "${LISTEN_FOR:-$marker}" "$ms" >/dev/null &
    local listener=$!
    sleep 0.3
    as_alice "$T/bin/ub-testtool" call stream "$@" --send="$marker" -- \
        "$caller" --fd=3 --br=br3 >/dev/null ||
        { echo "FAIL: no tap from $caller to send the frame"; exit 1; }
    wait $listener
}
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    check "$mode: frames from the pinned MAC cross the bridge" crosses "$helper" 5000 --src=$pinned
    check "$mode: frames from any other MAC do not" \
        fails crosses "$helper" 3000 --src=52:54:00:66:66:66
done
check "the drop counter counted the spoofed frames" \
    grep -qE 'ether saddr != @allowed counter packets [1-9]' <(nft list table bridge userbridge)

# Neighbour discovery: the link-layer address an NS, NA or RS announces
# must be the pinned MAC too (the Ethernet source is the pinned one in all).
nd_crosses() { crosses "$fcap" 3000 --src=$pinned --nd="$1:$2"; }  # KIND MAC
check "the first pin added the neighbour-discovery set to an older table" \
    nft list set bridge userbridge allowed_lla
check "...and the VLAN rule" nft list set bridge userbridge vlan_types
check "an NA announcing the pinned MAC crosses the bridge" nd_crosses na $pinned
check "an NA announcing another MAC does not" fails nd_crosses na 52:54:00:66:66:66
check "an NS announcing the pinned MAC crosses" nd_crosses ns $pinned
check "an NS announcing another MAC does not" fails nd_crosses ns 52:54:00:66:66:66
check "an RS announcing the pinned MAC crosses" nd_crosses rs $pinned
check "an RS announcing another MAC does not" fails nd_crosses rs 52:54:00:66:66:66
check "an NA with a second option does not (options are not parsed)" fails nd_crosses na2 $pinned
check "the neighbour-discovery drops were counted" \
    grep -qE 'allowed_lla counter packets [1-9]' <(nft list table bridge userbridge)

# servers=no: a pinned guest that is only a client of its segment. Without
# it, the guest's router advertisements and DHCP server replies cross (the
# control); with it, they and redirects do not, and its own DHCP requests
# and neighbour discovery still do.
msg_crosses() { crosses "$1" 3000 --src=$pinned "${@:2}"; }
check "the first pin added the servers=no set to an older table" \
    nft list set bridge userbridge clients
check "without servers=no, a pinned guest's router advertisement crosses" \
    msg_crosses "$fcap" --nd=ra:$pinned
check "...and its DHCP server reply" msg_crosses "$fcap" --udp=67:68
sed -i "s/^allow br3 user=ubalice mac=$pinned\$/& servers=no/" /etc/qemu/bridge.conf
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    check "$mode, servers=no: a router advertisement does not cross" \
        fails msg_crosses "$helper" --nd=ra:$pinned
    check "$mode, servers=no: nor a redirect" fails msg_crosses "$helper" --nd=redirect:$pinned
    check "$mode, servers=no: nor a DHCP server reply (port 67)" fails msg_crosses "$helper" --udp=67:68
    check "$mode, servers=no: nor a DHCPv6 one (port 547)" fails msg_crosses "$helper" --udp=547:546
    check "$mode, servers=no: its own DHCP request crosses" msg_crosses "$helper" --udp=68:67
    check "$mode, servers=no: and its neighbour solicitations" msg_crosses "$helper" --nd=ns:$pinned
done
check "the server drops were counted" \
    grep -qE 'udp sport \{ 67, 547 \} counter packets [1-9]' <(nft list table bridge userbridge)
sed -i "s/ servers=no\$//" /etc/qemu/bridge.conf

# ip=: the pinned guest's source addresses. Without it any address crosses
# (the control); with it only the listed ones, DHCP's and ARP probes'
# 0.0.0.0, and IPv6's unspecified and link-local sources; a neighbour
# advertisement must claim a listed or link-local address; nothing but IPv4,
# ARP and IPv6 crosses at all (a VLAN tag, whose contents are not looked at,
# an EtherType of another protocol, an 802.3 frame).
check "the first pin added the ip= chain to an older table" nft list chain bridge userbridge ip_guard
check "...and the link-local set" nft list set bridge userbridge ll_guarded
check "without ip=, a datagram from an address of the guest's choosing crosses" \
    msg_crosses "$fcap" --ip4=10.99.9.9
check "...but not a VLAN-tagged frame: no pinned tap sends one" fails msg_crosses "$fcap" --vlan=7
check "...and a frame of another EtherType (0x88b5)" msg_crosses "$fcap"
check "...and an 802.3 frame" msg_crosses "$fcap" --ethertype=46
sed -i "s|^allow br3 user=ubalice mac=$pinned\$|& ip=10.99.3.0/24,2001:db8:3::7|" /etc/qemu/bridge.conf
link_local=fe80::5054:ff:fe12:3456
# nd_crosses_from KIND SOURCE TARGET: an NS or NA from SOURCE about
# TARGET; the listener looks for TARGET.
nd_crosses_from() {
    LISTEN_FOR=ip6:$3 crosses "$fcap" 3000 --src=$pinned --nd="$1:$pinned" --ip6="$2" --nd-target="$3"
}
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    check "$mode, ip=: from a listed IPv4 address crosses" msg_crosses "$helper" --ip4=10.99.3.7
    check "$mode, ip=: from another does not" fails msg_crosses "$helper" --ip4=10.99.9.9
    check "$mode, ip=: nor an ARP naming another sender" fails msg_crosses "$helper" --arp=10.99.9.9
done
check "ip=: a DHCP request from 0.0.0.0 crosses" msg_crosses "$fcap" --ip4=0.0.0.0 --udp=68:67
check "ip=: but nothing else from 0.0.0.0" fails msg_crosses "$fcap" --ip4=0.0.0.0 --udp=5000:5000
check "ip=: an ARP from a listed sender crosses" msg_crosses "$fcap" --arp=10.99.3.9
check "ip=: and an ARP probe (sender 0.0.0.0)" msg_crosses "$fcap" --arp=0.0.0.0
check "ip=: from the listed IPv6 address crosses" msg_crosses "$fcap" --ip6=2001:db8:3::7
check "ip=: from another IPv6 address does not" fails msg_crosses "$fcap" --ip6=2001:db8:3::8
check "ip=: from a link-local one it does" msg_crosses "$fcap" --ip6=$link_local
check "ip=: a duplicate-address check from :: for its address crosses" nd_crosses_from ns :: 2001:db8:3::7
check "ip=: one for another's address does not (it would make that host give it up)" \
    fails nd_crosses_from ns :: 2001:db8:3::8
check "ip=: asking for another's link-layer address (NS from its own) crosses" \
    nd_crosses_from ns $link_local 2001:db8:3::8
check "ip=: an NA claiming the listed address crosses" nd_crosses_from na $link_local 2001:db8:3::7
check "ip=: an NA claiming another does not" fails nd_crosses_from na $link_local 2001:db8:3::8
check "ip=: a VLAN-tagged frame does not" fails msg_crosses "$fcap" --vlan=7
check "ip=: nor one tagged from a listed address" fails msg_crosses "$fcap" --vlan=7 --ip4=10.99.3.7
for mode in setuid fcap; do
    check "$mode, ip=: nor a frame of another EtherType (0x88b5)" fails msg_crosses "$T/bin/$mode-helper"
done
check "ip=: nor a PPPoE session frame" fails msg_crosses "$fcap" --ethertype=0x8864
check "ip=: nor an 802.3 frame" fails msg_crosses "$fcap" --ethertype=46
check "the address drops were counted" \
    grep -qE 'ip4_allowed counter packets [1-9]' <(nft list chain bridge userbridge ip_guard)
check "the neighbour-advertisement drops too" \
    grep -qE 'na_allowed counter packets [1-9]' <(nft list chain bridge userbridge ip_guard)
# Link-local addresses: any passes until ip= lists one; then only those
# listed, as a source, an NA's claim or a duplicate-address check's target
# (else the guest could answer for the router's link-local address).
check "without a link-local entry, any link-local source crosses" msg_crosses "$fcap" --ip6=fe80::1
check "...and an NA claiming any link-local address" nd_crosses_from na $link_local fe80::1
sed -i "s|ip=10.99.3.0/24,2001:db8:3::7\$|&,$link_local|" /etc/qemu/bridge.conf
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    check "$mode, ip= listing a link-local address: from it crosses" msg_crosses "$helper" --ip6=$link_local
    check "$mode, ...: from another link-local address does not" fails msg_crosses "$helper" --ip6=fe80::1
done
check "...nor an NA claiming another link-local address" fails nd_crosses_from na $link_local fe80::1
check "...while one claiming its own crosses" nd_crosses_from na $link_local $link_local
check "...nor a duplicate-address check for another's" fails nd_crosses_from ns :: fe80::1
check "...while one for its own crosses" nd_crosses_from ns :: $link_local
check "...and from the listed global address still" msg_crosses "$fcap" --ip6=2001:db8:3::7
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$setuid" --fd=3 --br=br3 >/dev/null &
holder=$!
sleep 0.6
for set in ip_guarded ll_guarded ip4_allowed ip6_allowed na_allowed; do
    elements=$(nft list set bridge userbridge $set | tr -d '\n\t')
    check "the next pin collects the dead taps' $set elements (left: $elements)" \
        grep -qE 'elements = \{ "tap[0-9]+"( \. [0-9a-fx:./-]+)?(, *"tap[0-9]+"( \. [0-9a-fx:./-]+)?)* \}' <<<"$elements"
done
wait $holder
sed -i "s| ip=10.99.3.0/24,2001:db8:3::7,$link_local\$||" /etc/qemu/bridge.conf

# rate=: each way, a tap is policed to the rule's rate. A flood of 300
# frames of 1000 bytes (300 kB, sent in a few ms) crosses whole without it;
# at 400 kbit/s (50 kB/s; nft's bucket holds a second's worth) about a
# sixth does.
# flood_out CALLER: how many of the guest's frames reach the wire;
# flood_in CALLER: how many sent from the wire reach the guest.
flood_out() {
    local marker="rate$RANDOM$RANDOM"
    "$T/bin/ub-testtool" count br3-peer "$marker" 1500 >"$T/count" &
    local counter=$!
    sleep 0.3
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned --flood=300 --send="$marker" -- \
        "$1" --fd=3 --br=br3 >/dev/null || { echo "FAIL: no tap from $1 to flood"; exit 1; }
    wait $counter
    sed -n 's/^count=//p' "$T/count"
}
flood_in() {
    local marker="rate$RANDOM$RANDOM"
    as_alice "$T/bin/ub-testtool" call stream --count="$marker:1500" -- "$1" --fd=3 --br=br3 >"$T/count" &
    local caller=$!
    sleep 0.5
    "$T/bin/ub-testtool" flood br3-peer "$marker" 300
    wait $caller || { echo "FAIL: no tap from $1 to be flooded"; exit 1; }
    sed -n 's/^count=//p' "$T/count"
}
n=$(flood_out "$fcap")
check "without rate=, the guest's flood reaches the wire whole ($n of 300)" test "$n" -ge 290
n=$(flood_in "$fcap")
check "...and a flood to the guest reaches it whole ($n of 300)" test "$n" -ge 290
sed -i "s|^allow br3 user=ubalice mac=$pinned\$|& rate=400kbit|" /etc/qemu/bridge.conf
for mode in setuid fcap; do
    n=$(flood_out "$T/bin/$mode-helper")
    check "$mode, rate=400kbit: of the guest's flood, a burst's worth reaches the wire ($n of 300)" \
        test "$n" -ge 5 -a "$n" -le 100
    n=$(flood_in "$T/bin/$mode-helper")
    check "$mode, rate=400kbit: and of a flood to it, a burst's worth reaches the guest ($n of 300)" \
        test "$n" -ge 5 -a "$n" -le 100
done
check "the rate drops were counted, each way" bash -c "
    nft list chain bridge userbridge prerouting | grep -qE 'rate_out counter packets [1-9]' &&
    nft list chain bridge userbridge postrouting | grep -qE 'rate_in counter packets [1-9]'"
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$setuid" --fd=3 --br=br3 >/dev/null &
holder=$!
sleep 0.6
for map in rate_out rate_in; do
    elements=$(nft list map bridge userbridge $map | tr -d '\n\t')
    check "the next grant collects the dead taps' $map elements (left: $elements)" \
        grep -qE 'elements = \{ "tap[0-9]+" : "rate[0-9]+_(in|out)" \}' <<<"$elements"
done
check "...and their limit objects (left: $(nft list limits table bridge userbridge | grep -c 'rate over'))" \
    test "$(nft list limits table bridge userbridge | grep -c 'rate over')" -eq 2
wait $holder
# A rate needs no pinned MAC.
sed -i "s|^allow br3 user=ubalice mac=$pinned rate=400kbit\$|allow br3 user=ubalice rate=400kbit|" /etc/qemu/bridge.conf
n=$(flood_out "$fcap")
check "rate=400kbit without mac=: the flood is policed all the same ($n of 300)" test "$n" -ge 5 -a "$n" -le 100
sed -i "s|^allow br3 user=ubalice rate=400kbit\$|allow br3 user=ubalice mac=$pinned|" /etc/qemu/bridge.conf
# servers=no without a pinned MAC has no filter to go in: the ACL is
# refused whole, before anything is made.
sed -i "s/^allow br1\$/& servers=no/" /etc/qemu/bridge.conf
refused "servers=no without mac= refuses the ACL" \
    "/etc/qemu/bridge.conf:3: servers=no needs mac= or mac-prefix= on the same rule" \
    as_alice "$T/bin/ub-testtool" call stream -- "$fcap" --fd=3 --br=br0
sed -i "s/ servers=no\$//" /etc/qemu/bridge.conf
sed -i "s/^allow br1\$/& ip=10.99.1.7/" /etc/qemu/bridge.conf
refused "ip= without mac= refuses the ACL" \
    "/etc/qemu/bridge.conf:3: ip= needs mac= or mac-prefix= on the same rule" \
    as_alice "$T/bin/ub-testtool" call stream -- "$fcap" --fd=3 --br=br0
sed -i "s/ ip=10.99.1.7\$//" /etc/qemu/bridge.conf
# Bad values refuse the whole ACL, with their line, before anything is made.
sed -i "s/^allow br1\$/& mac-prefix=52 ip=10.99.1.7\/24/" /etc/qemu/bridge.conf
refused "ip= with host bits past its length refuses the ACL" \
    "/etc/qemu/bridge.conf:3: ip=10.99.1.7/24: '10.99.1.7/24' has bits set past /24 (the prefix is 10.99.1.0/24)" \
    as_alice "$T/bin/ub-testtool" call stream -- "$fcap" --fd=3 --br=br0
sed -i "s/ mac-prefix=52 ip=10.99.1.7\/24\$/ rate=1Mbit/" /etc/qemu/bridge.conf
refused "rate= in a unit it does not know refuses the ACL" \
    "/etc/qemu/bridge.conf:3: rate=1Mbit: expected a whole number and kbit, mbit or gbit, 1kbit to 100gbit" \
    as_alice "$T/bin/ub-testtool" call stream -- "$fcap" --fd=3 --br=br0
sed -i "s/ rate=1Mbit\$//" /etc/qemu/bridge.conf
nft delete table bridge userbridge

# The label on the tap tells clients (and status) the pinned MAC.
out=$(as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$setuid" --vm=web --fd=3 --br=br3 &
      sleep 0.6; ip -d -o link show master br3 type tun)
check "the tap is labelled with its owner, VM and guest MAC" \
    grep -q "alias userbridge uid=$ALICE vm=web mac=$pinned queues=1" <<<"$out"
check "rules of taps that are gone are inert: elements of dead taps print as numbers" \
    bash -c "! nft list set bridge userbridge pinned | grep -q tap"
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$setuid" --fd=3 --br=br3 >/dev/null &
holder=$!
sleep 0.6
elements=$(nft list set bridge userbridge pinned | tr -d '\n\t')
check "the next pin collects the dead taps' elements (left: $elements)" \
    grep -qE 'elements = \{ "tap[0-9]+" \}' <<<"$elements"
wait $holder

# A MAC derived from a prefix: stable for one user and VM name, distinct otherwise.
derived() {
    as_bob "$T/bin/ub-testtool" call stream --hold=800 -- "$setuid" --vm="$1" --fd=3 --br=br3 >/dev/null &
    local holder=$!
    sleep 0.4
    ip -d -o link show master br3 type tun | grep -o 'mac=[0-9a-f:]*'
    wait $holder
}
web1=$(derived web)
web2=$(derived web)
db=$(derived db)
check "a derived MAC has the prefix ($web1)" grep -q '^mac=52:54:00:' <<<"$web1"
check "a derived MAC is stable across restarts" test "$web1" = "$web2"
check "another VM name derives another MAC ($db)" test "$web1" != "$db"
check "pinned grants are logged with the guest MAC" \
    grep -qE "event=grant user=ubalice .* guest_mac=$pinned rule=\"/etc/qemu/bridge.conf:5\"" "$SYSLOG"

# --- check, explain, status ---------------------------------------------------
ub=$T/bin/userbridge
check "check: the installed ACL is valid" grep -q 'bridge.conf: OK (6 rules in 1 file)' <("$ub" check)
acl 'allow br0 frob=1\nallow br 0\ninclude sub.conf\nwhat\n' candidate.conf
acl 'deny br0 user=ghost\nallow br0 group=nosuch\n' sub.conf
"$ub" check /etc/qemu/candidate.conf >"$T/out" 2>"$T/err" && fail "check: a bad file passes" || true
for want in "candidate.conf:1: unknown option 'frob'" "candidate.conf:2: '0': expected key=value" \
    "sub.conf:1: user ghost does not exist; a deny rule must not lapse" \
    "warning: /etc/qemu/sub.conf:2: group nosuch does not exist; the rule matches nobody" \
    "candidate.conf:4: 'what' needs an argument" "candidate.conf: 4 problems"; do
    check "check reports: $want" grep -qF "$want" "$T/err"
done
# Group entries past the lookups' first buffers: one of about 200 KiB is
# read (the buffer grows), one past the 1 MiB bound is not, and a deny
# naming it refuses the ACL rather than lapse. The group file is restored
# in place (it is bound over /etc/group).
cp "$T/group" "$T/group.saved"
printf 'ubbig:x:4801:%subalice\n' "$(printf 'ubfiller%06d,' $(seq 13000))" >>"$T/group"
printf 'ubhuge:x:4802:%s\n' "$(printf 'ubfiller%06d,' $(seq 75000) | head -c -1)" >>"$T/group"
acl 'allow br0 group=ubbig\n' big.conf
out=$("$ub" check /etc/qemu/big.conf 2>&1)
check "a group entry of $(grep ^ubbig: "$T/group" | wc -c) bytes is read" \
    grep -qF 'big.conf: OK (1 rule in 1 file)' <<<"$out"
check "...so no warning says the group does not exist" fails grep -q 'does not exist' <<<"$out"
acl 'deny br0 group=ubhuge\nallow br0\n' huge.conf
refused "a deny naming a group past the 1 MiB lookup bound refuses the ACL" \
    "huge.conf:1: cannot look up group ubhuge: its entry is larger than 1 MiB; a deny rule must not lapse" \
    "$ub" check /etc/qemu/huge.conf
cat "$T/group.saved" >"$T/group"
acl 'allow br0\n' loose.conf 0666
refused "check: a world-writable file" "loose.conf is writable by group or others" "$ub" check /etc/qemu/loose.conf
refused "check: a missing file" "cannot open /etc/qemu/none.conf" "$ub" check /etc/qemu/none.conf
out=$("$ub" explain --user=ubalice --br=br1)
check "explain: names the deny that decides" \
    grep -qF '/etc/qemu/bridge.conf:2: deny br1 user=ubalice: applies (for user ubalice), DECIDES' <<<"$out"
check "explain: and the allow it beats" \
    grep -qF '/etc/qemu/bridge.conf:3: allow br1: applies (for everyone), but a deny wins' <<<"$out"
out=$("$ub" explain --user=ubbob --br=br3 --vm=web)
check "explain: the derived MAC for a VM is the one the helper pins" \
    grep -qF "guest MAC for VM web: ${web1#mac=}" <<<"$out"
refused "explain: an unknown user" "no such user: nobody-here" "$ub" explain --user=nobody-here --br=br0
refused "explain: a uid beyond any uid" "no such user: 99999999999999999999" \
    "$ub" explain --user=99999999999999999999 --br=br0
check "explain: a numeric uid names the user" \
    grep -q "^user ubalice (uid $ALICE), bridge br0:" <("$ub" explain --user=$ALICE --br=br0)
refused "explain: a bad bridge name" "bridge name 'a/b' contains '/'" "$ub" explain --br=a/b
refused "explain: no bridge" "explain: --br=BRIDGE is required" "$ub" explain
as_alice "$T/bin/ub-testtool" call stream --hold=1500 -- "$setuid" --vm=db --fd=3 --br=br0 >/dev/null &
holder=$!
sleep 0.6
out=$(as_alice "$ub" status)
wait $holder
check "status: the bridges ubalice may use, with limits" \
    grep -qE '^  br0  max-taps=2 max-queues=4 .* taps: 1 held, 1 left' <<<"$out"
check "status: the pinned bridge" grep -qF "br3  max-taps=unlimited max-queues=8 mac=$pinned" <<<"$out"
check "status: not the bridges denied to her" bash -c "! grep -qE '^  br(1|2) ' <<<'$out'"
check "status: the taps she holds, with their VM" grep -qE '^  tap[0-9]+  bridge br0  vm db' <<<"$out"

# --- the same policy through userbridged --------------------------------------
# A journald of our own: the daemon sends its records there as fields.
journal_sink
start_daemon
client=$T/bin/userbridge-client
check "daemon: ubalice (ubvm) may use br0" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0)
refused "daemon: ubbob may not" "access to bridge br0 denied" \
    as_bob "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0
rm -f "$T"/q.*
pids=()
for i in $(seq 16); do
    as_alice "$T/bin/ub-testtool" call stream --hold=2000 -- "$client" --fd=3 --br=br0 \
        >"$T/q.$i.out" 2>"$T/q.$i.err" &
    pids+=($!)
done
wait "${pids[@]}" || true
granted=$(cat "$T"/q.*.out | grep -c 'tap=tap' || true)
check "daemon: 2 of 16 concurrent requests granted under max-taps=2 (got $granted)" test "$granted" -eq 2
out=$(as_alice "$T/bin/ub-testtool" call stream --queues=3 -- "$client" --queues=3 --fd=3 --br=br0)
check "daemon: a 3-queue tap" grep -q 'queues=3' <<<"$out"
check "daemon: a pinned tap drops spoofed frames too" \
    fails crosses "$client" 3000 --src=52:54:00:66:66:66
# The daemon's grants add their elements without looking for dead taps'
# (one nft command instead of three): it collects those as the taps die,
# from its link events, with no grant after them.
no_elements() {
    local i
    for i in $(seq 50); do
        nft list table bridge userbridge | grep -q 'elements = ' || return 0
        sleep 0.05
    done
    return 1
}
check "daemon: dead taps' nftables elements are collected as the taps die" no_elements
# An administrator flushing the ruleset: the daemon's next grant finds its
# elements cannot go in, and makes the table again.
nft delete table bridge userbridge
check "daemon: after the table was deleted, a pinned tap still drops spoofed frames" \
    fails crosses "$client" 3000 --src=52:54:00:66:66:66
check "...and the table is back" nft list set bridge userbridge pinned
check "...and its own frames still cross" crosses "$client" 3000 --src=$pinned
# libuserbridge learns the tap from the daemon's reply alone (no netlink of
# its own): the guest MAC the policy pinned, the tap's MAC and MTU. The
# command compares the last two with what the kernel says of the tap.
kernel_says='$(ip -o link show {ifname} | sed -E "s/.* mtu ([0-9]+) .*link\/ether ([0-9a-f:]+).*/\2 \1/")'
out=$(as_alice "$ub" run --via=daemon --br=br3 -- sh -c "echo {mac} {tapmac} {mtu} $kernel_says")
read -r g tm mtu ktm kmtu <<<"$out"
check "daemon: userbridge run is told the pinned guest MAC ($g)" test "$g" = "$pinned"
check "...and the tap's own MAC and MTU, as the kernel has them ($tm $mtu; $ktm $kmtu)" \
    test -n "$tm" -a "$tm" = "$ktm" -a "$mtu" = "$kmtu"
read -r g tm <<<"$(as_alice "$ub" run --via=daemon --br=br0 -- echo '{mac} {tapmac}')"
check "daemon: unpinned, the guest MAC is the tap's with 0x52 for 0xfe ($g, $tm)" \
    test "${g:0:3}" = 52: -a "${tm:0:3}" = fe: -a "${g:3}" = "${tm:3}"
sed -i "s/^allow br3 user=ubalice mac=$pinned\$/& servers=no/" /etc/qemu/bridge.conf
reload_daemon
check "daemon, servers=no: a router advertisement does not cross" \
    fails crosses "$client" 3000 --src=$pinned --nd=ra:$pinned
check "daemon, servers=no: its own DHCP request crosses" crosses "$client" 3000 --src=$pinned --udp=68:67
sed -i "s/ servers=no\$/ ip=10.99.3.7/" /etc/qemu/bridge.conf
reload_daemon
check "daemon, ip=: from the listed address crosses" crosses "$client" 3000 --src=$pinned --ip4=10.99.3.7
check "daemon, ip=: from another does not" fails crosses "$client" 3000 --src=$pinned --ip4=10.99.3.8
check "daemon, ip=: nor a frame of another EtherType" fails crosses "$client" 3000 --src=$pinned
sed -i "s/ ip=10.99.3.7\$/ rate=400kbit/" /etc/qemu/bridge.conf
reload_daemon
n=$(flood_out "$client")
check "daemon, rate=400kbit: the guest's flood is policed ($n of 300)" test "$n" -ge 5 -a "$n" -le 100
n=$(flood_in "$client")
check "daemon, rate=400kbit: and a flood to it ($n of 300)" test "$n" -ge 5 -a "$n" -le 100
sed -i "s/ rate=400kbit\$//" /etc/qemu/bridge.conf
reload_daemon
check "daemon grants go to journald as fields" grep -q '^USERBRIDGE_EVENT=grant$' "$JOURNAL"
for field in USERBRIDGE_USER=ubalice USERBRIDGE_UID=$ALICE USERBRIDGE_BRIDGE=br3 \
    USERBRIDGE_GUEST_MAC=$pinned USERBRIDGE_QUEUES=3 USERBRIDGE_VIA=daemon \
    'USERBRIDGE_RULE=/etc/qemu/bridge.conf:5' 'USERBRIDGE_EVENT=deny' SYSLOG_FACILITY=10; do
    check "journald field $field" grep -qx "$field" "$JOURNAL"
done
check "journald records carry the syslog line as MESSAGE" grep -q '^MESSAGE=event=grant user=ubalice' "$JOURNAL"
sleep 0.3
check "the daemon records the expiry of the taps it granted" \
    grep -qE '^MESSAGE=event=expire user=ubalice uid=4711 .* bridge="br3" tap=tap[0-9]+ .*guest_mac=52:54:00:12:34:56' "$JOURNAL"
as_bob "$T/bin/ub-testtool" call stream -- "$setuid" --vm=expiring --fd=3 --br=br1 >/dev/null
sleep 0.3
check "...and of taps the helper granted, from their label" \
    grep -qE '^MESSAGE=event=expire user=ubbob uid=4712 .*tap=tap[0-9]+ vm=expiring via=helper' "$JOURNAL"
stop_daemon

# --- Without libnftables: pinning is refused, clearly; the rest still works --
# The library made unloadable in this test's mount namespace only.
lib=$(readlink -f "$(ldconfig -p | awk '/libnftables\.so\.1 / {print $NF; exit}')")
: >"$T/not-a-library.so"
mount --bind "$T/not-a-library.so" "$lib"
acl 'allow br0 mac=52:54:00:12:34:56\nallow br1\n'
# without_nft WHO CALLER MESSAGE: a pinning rule refused with MESSAGE, and
# a rule that pins nothing still granted.
without_nft() {
    local who=$1 caller=$2 want=$3
    refused "$who without libnftables refuses a rule that pins a MAC" "$want" \
        as_alice "$T/bin/ub-testtool" call stream -- "$caller" --fd=3 --br=br0
    check "...and still grants where the rule pins nothing" \
        grep -q '^tap=' <(as_alice "$T/bin/ub-testtool" call stream -- "$caller" --fd=3 --br=br1)
}
without_nft "the helper" "$setuid" "MAC pinning and rate limits need libnftables (package libnftables1)"
start_daemon
check "the daemon starts without libnftables and says what will fail" \
    grep -q 'rules with mac=, mac-prefix= or rate= will fail' "$SYSLOG"
without_nft "the daemon" "$client" "the ACL pins a MAC, but userbridged runs without libnftables"
acl 'allow br0 rate=400kbit\nallow br1\n'
reload_daemon
refused "the daemon without libnftables refuses a rule with a rate" \
    "the ACL sets a rate, but userbridged runs without libnftables" \
    as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0
refused "...and so does the helper" "MAC pinning and rate limits need libnftables" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0
stop_daemon
umount "$lib"

finish
