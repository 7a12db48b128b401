#!/bin/bash
# The same policy through userbridged: whom rules are for, queues,
# pinned MACs and their filters, rate=, what libuserbridge is told, and its
# records in journald, expiries included.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"
quota_acl

# --- the same policy through userbridged --------------------------------------
# A journald of our own: the daemon sends its records there as fields.
journal_sink
start_daemon
check "daemon: ubalice (ubvm) may use br0" \
    grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0)
refused "daemon: ubbob may not" "access to bridge br0 denied" \
    as_bob "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0
# max-taps=2 under 16 concurrent requests: policy_quota.sh.
out=$(as_alice "$T/bin/ub-testtool" call stream --queues=3 -- "$client" --queues=3 --fd=3 --br=br0)
check "daemon: a 3-queue tap" grep -q 'queues=3' <<<"$out"
check "daemon: a pinned tap drops spoofed frames too" \
    fails crosses "$client" 3000 --src=52:54:00:66:66:66
# The daemon removes exactly a tap's elements as the tap dies, from its
# link events, with no grant after them (daemon/filters.h).
# Every set but vlan_types, whose elements are the table's own: empty.
# (Until `grep -q` gave way to `has`, SIGPIPE made this check pass even
# with those five elements there.)
tap_elements() { nft list table bridge userbridge | sed '/set vlan_types/,/}/d'; }
no_elements() { ! tap_elements | has 'elements = '; }
check "daemon: dead taps' nftables elements are collected as the taps die" soon no_elements
no_elements || tap_elements
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
check "daemon, servers=no: its own DHCP request crosses" crosses "$client" 3000 --src=$pinned --udp=68:67:1
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
check "the daemon records the expiry of the taps it granted" \
    soon grep -qE '^MESSAGE=event=expire user=ubalice uid=4711 .* bridge="br3" tap=tap[0-9]+ .*guest_mac=52:54:00:12:34:56' "$JOURNAL"
as_bob "$T/bin/ub-testtool" call stream -- "$setuid" --vm=expiring --fd=3 --br=br1 >/dev/null
check "...and of taps the helper granted, from their label" \
    soon grep -qE '^MESSAGE=event=expire user=ubbob uid=4712 .*tap=tap[0-9]+ vm=expiring via=helper' "$JOURNAL"
stop_daemon

finish
