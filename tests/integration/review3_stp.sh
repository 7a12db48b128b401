#!/bin/bash
# Third outside review, a finding left open (docs/SECURITY.md, review item
# 22-3; not in CTest's list until its fix lands): on a bridge that runs
# STP (libvirt's default network does), any tap's guest, pinned or not,
# may send BPDUs. They pass no netfilter hook (br_handle_frame hands them
# to the stack with no hook; net/bridge/br_input.c) and the bridge's STP
# takes them: ubalice's claim to be the root bridge (priority 0) makes
# her tap the bridge's root port, and each topology change she announces
# ages the bridge's forwarding table in seconds, flooding others'
# unicast to her. The fix is the port's bpdu_guard (IFLA_BRPORT_GUARD)
# or root_block (IFLA_BRPORT_PROTECT), set as the tap joins its bridge
# (net/bridge_port.cpp).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

start_daemon
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
wait $holder
echo "    root bridge before: $before, after ubalice's BPDU: $after"
check "a guest's BPDU does not make it the root bridge" test "$after" = "$before"
nft delete table bridge userbridge

finish
