#!/bin/bash
# A pinned MAC keeps spoofed frames off the bridge, ARP and IPv6 neighbour
# discovery included, starting from an older release's table; the tap's
# label; MACs derived from a prefix, stable per user and VM name. Through
# userbridged, which alone filters (the helper refuses: filters.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# --- MAC pinning --------------------------------------------------------------
old_table
start_daemon
for mode in daemon; do
    helper=$client
    check "$mode: frames from the pinned MAC cross the bridge" crosses "$helper" 5000 --src=$pinned
    check "$mode: frames from any other MAC do not" \
        fails crosses "$helper" 3000 --src=52:54:00:66:66:66
done
check "the drop counter counted the spoofed frames" \
    grep -qE 'ether saddr != @allowed counter packets [1-9]' <(nft list table bridge userbridge)

# Neighbour discovery: the link-layer address an NS, NA or RS announces
# must be the pinned MAC too (the Ethernet source is the pinned one in all).
nd_crosses() { crosses "$client" 3000 --src=$pinned --nd="$1:$2"; }  # KIND MAC
check "the daemon added the neighbour-discovery set to an older table" \
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

nft delete table bridge userbridge

# The label on the tap tells clients (and status) the pinned MAC.
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$client" --vm=web --fd=3 --br=br3 >"$T/held" &
holder=$!
granted "$T/held"
out=$(ip -d -o link show master br3 type tun)
wait $holder
check "the tap is labelled with its owner, VM and guest MAC" \
    grep -q "alias userbridge uid=$ALICE vm=web mac=$pinned queues=1" <<<"$out"
no_pinned() { ! nft list set bridge userbridge pinned | has elements; }
check "the daemon removed the dead tap's elements as it went" soon no_pinned
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$client" --fd=3 --br=br3 >"$T/held" &
holder=$!
granted "$T/held"
elements=$(nft list set bridge userbridge pinned | tr -d '\n\t')
check "with a tap live, its element alone is there (left: $elements)" \
    grep -qE 'elements = \{ "tap[0-9]+" \}' <<<"$elements"
wait $holder

# A MAC derived from a prefix: stable for one user and VM name, distinct otherwise.
web1=$(derived web)
web2=$(derived web)
db=$(derived db)
check "a derived MAC has the prefix ($web1)" grep -q '^mac=52:54:00:' <<<"$web1"
check "a derived MAC is stable across restarts" test "$web1" = "$web2"
check "another VM name derives another MAC ($db)" test "$web1" != "$db"
check "pinned grants are logged with the guest MAC" \
    grep -qE "event=grant user=ubalice .* guest_mac=$pinned rule=\"/etc/qemu/bridge.conf:5\"" "$SYSLOG"

out=$("$ub" explain --user=ubbob --br=br3 --vm=web)
check "explain: the derived MAC for a VM is the one the daemon pins" \
    grep -qF "guest MAC for VM web: ${web1#mac=}" <<<"$out"
stop_daemon

finish
