#!/bin/bash
# Tap names from the daemon's own counter, never an existing interface.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"

# --- Tap names: the daemon's own counter, never an existing interface -------
# tap0 is taken by a veth and tap1 by root's persistent tap: the daemon must
# skip both (IFF_TUN_EXCL), never attach to root's tap, and not hand out a
# name again soon after its tap is gone.
ip link add tap0 type veth peer name tap0-peer
ip tuntap add dev tap1 mode tap
start_daemon
out=$(as_alice "$TT" daemon grant $D br0)
check "the daemon names its first tap tap2, skipping tap0 (a veth) and tap1 (root's tap)" \
    grep -q '^tap=tap2 ' <<<"$out"
check "...root's persistent tap1 is untouched: not on a bridge, not ubalice's" \
    bash -c "! ip -d link show tap1 | grep -qE 'master|user ubalice|user $ALICE'"
out=$(as_alice "$TT" daemon grant $D br0)
check "the next tap is tap3: tap2's name is not reused at once" grep -q '^tap=tap3 ' <<<"$out"
stop_daemon
ip link del tap0
ip link del tap1
check "no tap left at the end" test -z "$(taps)"
finish
