#!/bin/bash
# Third outside review, item 22-3 (docs/SECURITY.md): on a bridge that
# runs STP (libvirt's default network does), a guest's BPDUs pass no
# netfilter hook (br_handle_frame hands them to the bridge's STP with no
# hook; net/bridge/br_input.c): ubalice's claim to be the root bridge
# (priority 0) made her tap the bridge's root port, and each topology
# change she announced aged the bridge's forwarding table in seconds,
# flooding others' unicast to her. Every port userbridge makes now has
# bpdu_guard (IFLA_BRPORT_GUARD), set before it comes up: the bridge
# disables a port that sends it a BPDU.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

start_daemon
# A bridge whose address nobody set takes its lowest port's: a tap whose
# random address sorts lower would change the bridge's own id, and so the
# root id, with no BPDU at all.
ip link set br3 address 02:00:00:00:00:03
ip link set br3 type bridge stp_state 1
# A configuration BPDU, after its 802.3 length (0x26): LLC (42 42 03),
# protocol 0, version 0, type 0, no flags, root and bridge id priority 0
# and ubalice's MAC, cost 0, port 0x8001, age 0, max age 20 s, hello 2 s,
# forward delay 15 s (in 1/256 s).
id="0000${pinned//:/}"
bpdu="4242030000000000${id}00000000${id}80010000140002000f00"
before=$(cat /sys/class/net/br3/bridge/root_id)
as_alice "$T/bin/ub-testtool" call stream --src=$pinned --dst=01:80:c2:00:00:00 --ethertype=0x0026 \
    --send-hex="$bpdu" --hold=3000 -- "$client" --fd=3 --br=br3 >"$T/held" &
holder=$!
granted "$T/held"
sleep 0.5  # while she holds the tap (when it goes, the bridge forgets her)
after=$(cat /sys/class/net/br3/bridge/root_id)
sender=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/held")
wait $holder
echo "    root bridge before: $before, after ubalice's BPDU: $after"
check "a guest's BPDU does not make it the root bridge" test "$after" = "$before"
check "...and the root is not her forged id" test "$after" != "0000.${pinned//:/}"
check "...the bridge disabled the port that sent it" has -F "BPDU received on blocked port" < <(dmesg | grep -F "($sender)")

# Every kind of port userbridge makes on a bridge is guarded from the start.
# guarded NAME PROGRAM: a tap from PROGRAM, held, shows bpdu_guard.
guarded() {
    as_alice "$T/bin/ub-testtool" call stream --hold=1500 -- "$2" --fd=3 --br=br3 >"$T/held" &
    local holder=$!
    granted "$T/held"
    local tap=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/held")
    check "$1" has "guard on" < <(command bridge -d link show dev "$tap")
    wait $holder
}
guarded "a daemon's tap is guarded" "$client"
acl "allow br3\n"
guarded "the helper's tap is guarded" "$T/bin/setuid-helper"
nft delete table bridge userbridge

finish
