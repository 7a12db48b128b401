#!/bin/bash
# The pinned guest's other filters, through userbridged (the helper
# refuses filtered rules: filters.sh): servers=no, ip=
# (IPv4, ARP, IPv6, neighbour discovery, link-local addresses, only IPv4,
# ARP and IPv6 at all), added to an older release's table as it starts;
# and the ACL refused whole where a filter lacks its pinned MAC or a value
# is wrong (by userbridged and `userbridge check`; the helper refuses the
# rule unread).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

old_table
start_daemon
# servers=no: a pinned guest that is only a client of its segment. Without
# it, the guest's router advertisements and DHCP server replies cross (the
# control); with it, they and redirects do not, and its own DHCP requests
# and neighbour discovery still do.
check "without servers=no, a pinned guest's router advertisement crosses" \
    msg_crosses "$client" --nd=ra:$pinned
check "...and its DHCP server reply" msg_crosses "$client" --udp=67:68
check "the daemon added the servers=no set to an older table" \
    nft list set bridge userbridge clients
sed -i "s/^allow br3 user=ubalice mac=$pinned\$/& servers=no/" /etc/qemu/bridge.conf
reload_daemon
for mode in daemon; do
    helper=$client
    check "$mode, servers=no: a router advertisement does not cross" \
        fails msg_crosses "$helper" --nd=ra:$pinned
    check "$mode, servers=no: nor a redirect" fails msg_crosses "$helper" --nd=redirect:$pinned
    check "$mode, servers=no: nor a DHCP server reply (port 67)" fails msg_crosses "$helper" --udp=67:68
    check "$mode, servers=no: nor a DHCPv6 one (port 547)" fails msg_crosses "$helper" --udp=547:546
    check "$mode, servers=no: its own DHCP request crosses" msg_crosses "$helper" --udp=68:67:1
    check "$mode, servers=no: and its neighbour solicitations" msg_crosses "$helper" --nd=ns:$pinned
done
check "the server drops were counted" \
    grep -qE 'udp sport \{ 67, 547 \} counter packets [1-9]' <(nft list table bridge userbridge)
sed -i "s/ servers=no\$//" /etc/qemu/bridge.conf
reload_daemon

# ip=: the pinned guest's source addresses. Without it any address crosses
# (the control); with it only the listed ones, DHCP's and ARP probes'
# 0.0.0.0, and IPv6's unspecified and link-local sources; a neighbour
# advertisement must claim a listed or link-local address; nothing but IPv4,
# ARP and IPv6 crosses at all (a VLAN tag, whose contents are not looked at,
# an EtherType of another protocol, an 802.3 frame).
check "the daemon gave an older table the ip= chains" nft list chain bridge userbridge ip4_guard
check "...both" nft list chain bridge userbridge ip6_guard
check "...and the link-local set" nft list set bridge userbridge ll_guarded
check "without ip=, a datagram from an address of the guest's choosing crosses" \
    msg_crosses "$client" --ip4=10.99.9.9
check "...but not a VLAN-tagged frame: no pinned tap sends one" fails msg_crosses "$client" --vlan=7
check "...and a frame of another EtherType (0x88b5)" msg_crosses "$client"
check "...and an 802.3 frame" msg_crosses "$client" --ethertype=46
sed -i "s|^allow br3 user=ubalice mac=$pinned\$|& ip=10.99.3.0/24,2001:db8:3::7|" /etc/qemu/bridge.conf
reload_daemon
link_local=fe80::5054:ff:fe12:3456
for mode in daemon; do
    helper=$client
    check "$mode, ip=: from a listed IPv4 address crosses" msg_crosses "$helper" --ip4=10.99.3.7
    check "$mode, ip=: from another does not" fails msg_crosses "$helper" --ip4=10.99.9.9
    check "$mode, ip=: nor an ARP naming another sender" fails msg_crosses "$helper" --arp=10.99.9.9
done
check "ip=: a DHCP request from 0.0.0.0 crosses" msg_crosses "$client" --ip4=0.0.0.0 --udp=68:67
check "ip=: but nothing else from 0.0.0.0" fails msg_crosses "$client" --ip4=0.0.0.0 --udp=5000:5000
check "ip=: an ARP from a listed sender crosses" msg_crosses "$client" --arp=10.99.3.9
check "ip=: and an ARP probe (sender 0.0.0.0)" msg_crosses "$client" --arp=0.0.0.0
check "ip=: from the listed IPv6 address crosses" msg_crosses "$client" --ip6=2001:db8:3::7
check "ip=: from another IPv6 address does not" fails msg_crosses "$client" --ip6=2001:db8:3::8
check "ip=: from a link-local one it does" msg_crosses "$client" --ip6=$link_local
check "ip=: a duplicate-address check from :: for its address crosses" nd_crosses_from ns :: 2001:db8:3::7
check "ip=: one for another's address does not (it would make that host give it up)" \
    fails nd_crosses_from ns :: 2001:db8:3::8
check "ip=: asking for another's link-layer address (NS from its own) crosses" \
    nd_crosses_from ns $link_local 2001:db8:3::8
check "ip=: an NA claiming the listed address crosses" nd_crosses_from na $link_local 2001:db8:3::7
check "ip=: an NA claiming another does not" fails nd_crosses_from na $link_local 2001:db8:3::8
check "ip=: a VLAN-tagged frame does not" fails msg_crosses "$client" --vlan=7
check "ip=: nor one tagged from a listed address" fails msg_crosses "$client" --vlan=7 --ip4=10.99.3.7
for mode in daemon; do
    check "$mode, ip=: nor a frame of another EtherType (0x88b5)" fails msg_crosses "$client"
done
check "ip=: nor a PPPoE session frame" fails msg_crosses "$client" --ethertype=0x8864
check "ip=: nor an 802.3 frame" fails msg_crosses "$client" --ethertype=46
check "the address drops were counted" \
    grep -qE 'ip4_allowed counter packets [1-9]' <(nft list chain bridge userbridge ip4_guard)
check "the neighbour-advertisement drops too" \
    grep -qE 'na_allowed counter packets [1-9]' <(nft list chain bridge userbridge ip6_guard)
# Link-local addresses: any passes until ip= lists one; then only those
# listed, as a source, an NA's claim or a duplicate-address check's target
# (else the guest could answer for the router's link-local address).
check "without a link-local entry, any link-local source crosses" msg_crosses "$client" --ip6=fe80::1
check "...and an NA claiming any link-local address" nd_crosses_from na $link_local fe80::1
sed -i "s|ip=10.99.3.0/24,2001:db8:3::7\$|&,$link_local|" /etc/qemu/bridge.conf
reload_daemon
for mode in daemon; do
    helper=$client
    check "$mode, ip= listing a link-local address: from it crosses" msg_crosses "$helper" --ip6=$link_local
    check "$mode, ...: from another link-local address does not" fails msg_crosses "$helper" --ip6=fe80::1
done
check "...nor an NA claiming another link-local address" fails nd_crosses_from na $link_local fe80::1
check "...while one claiming its own crosses" nd_crosses_from na $link_local $link_local
check "...nor a duplicate-address check for another's" fails nd_crosses_from ns :: fe80::1
check "...while one for its own crosses" nd_crosses_from ns :: $link_local
check "...and from the listed global address still" msg_crosses "$client" --ip6=2001:db8:3::7
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$client" --fd=3 --br=br3 >"$T/held" &
holder=$!
granted "$T/held"
for set in ip_guarded ll_guarded ip4_allowed ip6_single na_single; do
    elements=$(nft list set bridge userbridge $set | tr -d '\n\t')
    check "with a tap live, its $set elements alone are there (left: $elements)" \
        grep -qE 'elements = \{ "tap[0-9]+"( \. [0-9a-fx:./-]+)?(, *"tap[0-9]+"( \. [0-9a-fx:./-]+)?)* \}' <<<"$elements"
done
wait $holder
sed -i "s| ip=10.99.3.0/24,2001:db8:3::7,$link_local\$||" /etc/qemu/bridge.conf
reload_daemon

# The other way round: a single IPv4 address (held in a hash set), an
# IPv6 /64 (its first address in a hash set, looked up masked) and an IPv6
# /48 (in an interval set). A spoofed source is dropped from each; then
# again once the daemon upgraded, in place, a table of the release before
# the single-address sets, and one of the release before the /64 sets.
sed -i "s|^allow br3 user=ubalice mac=$pinned\$|& ip=10.99.3.7,2001:db8:4::/64,2001:db8:6::/48|" /etc/qemu/bridge.conf
reload_daemon
# spoofing LABEL: the guest sends from its listed addresses only.
spoofing() {
    check "$1: from the listed IPv4 address crosses" msg_crosses "$client" --ip4=10.99.3.7
    check "$1: from the next one does not" fails msg_crosses "$client" --ip4=10.99.3.8
    check "$1: nor an ARP naming it" fails msg_crosses "$client" --arp=10.99.3.8
    check "$1: from an address of the listed IPv6 prefix crosses" msg_crosses "$client" --ip6=2001:db8:4::99
    check "$1: from one outside it does not" fails msg_crosses "$client" --ip6=2001:db8:5::1
    check "$1: an NA claiming an address of the prefix crosses" nd_crosses_from na $link_local 2001:db8:4::5
    check "$1: an NA claiming one outside it does not" fails nd_crosses_from na $link_local 2001:db8:5::1
    check "$1: nor a duplicate-address check for one outside it" fails nd_crosses_from ns :: 2001:db8:5::1
    check "$1: from the next /64 does not" fails msg_crosses "$client" --ip6=2001:db8:4:1::99
    check "$1: nor an NA claiming an address there" fails nd_crosses_from na $link_local 2001:db8:4:1::5
    check "$1: from an address of the listed /48 crosses" msg_crosses "$client" --ip6=2001:db8:6:ff::1
    check "$1: an NA claiming one there crosses" nd_crosses_from na $link_local 2001:db8:6:ff::2
    as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$client" --fd=3 --br=br3 >"$T/held" &
    local holder=$!
    granted "$T/held"
    local placed
    placed=$(for set in ip6_p64 na_p64 ip6_allowed na_allowed; do
        nft list set bridge userbridge $set | tr -d '\n\t' | sed -E 's/.*elements = \{([^}]*)\}.*/\1/; t; s/.*//'
        echo " |"
    done | tr -d '\n')
    check "$1: a live tap's /64 is in the /64 sets, its /48 in the interval sets ($placed)" \
        grep -qE '^ *"tap[0-9]+" \. 2001:db8:4:: *\| *"tap[0-9]+" \. 0x20010db8000400000000000000000000 *\| *"tap[0-9]+" \. 2001:db8:6::/48 *\| *"tap[0-9]+" \. 0x20010db8000600000000000000000000-0x20010db80006ffffffffffffffffffff *\|$' <<<"$placed"
    wait $holder
}
spoofing "ip= of one IPv4 address, an IPv6 /64 and an IPv6 /48"
# upgraded_from PREVIOUS WHAT SET: the table PREVIOUS (lib_tables.sh) makes,
# the release before WHAT; the daemon starting next adds SET and the rest.
upgraded_from() {
    stop_daemon
    $1
    start_daemon
    check "the daemon added the $2 to a table from before them" nft list set bridge userbridge $3
    check "...and the address chains consult them" has $3 <(nft list table bridge userbridge | sed -n '/chain ip[46]_guard/,/}/p')
    check "...in place of ip_guard" fails nft list chain bridge userbridge ip_guard
    spoofing "after the upgrade to the $2"
}
upgraded_from previous_ip_guard "single-address sets" ip4_single
upgraded_from previous_p64_guard "/64 sets" ip6_p64
sed -i "s| ip=10.99.3.7,2001:db8:4::/64,2001:db8:6::/48\$||" /etc/qemu/bridge.conf
reload_daemon

# servers=no without a pinned MAC has no filter to go in: the ACL is
# refused whole by userbridged and `userbridge check`, with its line. The
# helper reads no daemon-only value (userbridge-acl(5), "The helper's
# reading"): it refuses the rule as userbridged's, before anything is made.
stop_daemon
# bad_value NAME MESSAGE: the ACL as it stands now is refused with MESSAGE,
# and the helper refuses br1's rule.
bad_value() {
    refused "$1 refuses the ACL" "$2" "$T/bin/userbridge" check
    refused "$1: the helper refuses its rule, unread" "bridge.conf:3 asks for" \
        as_bob "$T/bin/ub-testtool" call stream -- "$fcap" --fd=3 --br=br1
}
sed -i "s/^allow br1\$/& servers=no/" /etc/qemu/bridge.conf
bad_value "servers=no without mac=" "/etc/qemu/bridge.conf:3: servers=no needs mac= or mac-prefix= on the same rule"
sed -i "s/ servers=no\$//" /etc/qemu/bridge.conf
sed -i "s/^allow br1\$/& ip=10.99.1.7/" /etc/qemu/bridge.conf
bad_value "ip= without mac=" "/etc/qemu/bridge.conf:3: ip= needs mac= or mac-prefix= on the same rule"
sed -i "s/ ip=10.99.1.7\$//" /etc/qemu/bridge.conf
# Bad values refuse the whole ACL, with their line, before anything is made.
sed -i "s/^allow br1\$/& mac-prefix=52 ip=10.99.1.7\/24/" /etc/qemu/bridge.conf
bad_value "ip= with host bits past its length" \
    "/etc/qemu/bridge.conf:3: ip=10.99.1.7/24: '10.99.1.7/24' has bits set past /24 (the prefix is 10.99.1.0/24)"
sed -i "s/ mac-prefix=52 ip=10.99.1.7\/24\$/ rate=1Mbit/" /etc/qemu/bridge.conf
bad_value "rate= in a unit it does not know" \
    "/etc/qemu/bridge.conf:3: rate=1Mbit: expected a whole number and kbit, mbit or gbit, 1kbit to 100gbit"
sed -i "s/ rate=1Mbit\$//" /etc/qemu/bridge.conf
nft delete table bridge userbridge

finish
