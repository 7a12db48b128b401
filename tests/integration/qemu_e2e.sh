#!/bin/bash
# Real QEMU, real guest, unprivileged user: the guest pings the bridge
# through a tap obtained every way there is:
#   -netdev bridge,helper=userbridge-helper   (QEMU runs the helper itself)
#   userbridge run ... -netdev tap,fd={fd}     (any VMM)
#   -netdev bridge,helper=userbridge-client   (no privileged binary: userbridged)
#   userbridge run --nic queues=2 ... fds={fds}  (a 2-queue virtio-net NIC whose
#                                                 MAC the ACL derives and pins)
# The tap is on the bridge while the guest runs and gone after.
source "$(dirname "$0")/lib.sh"

use_guest
bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'

for mode in setuid fcap; do
    boot "-netdev bridge, $mode helper" "$T/bin/qemu" \
        -netdev bridge,id=n0,br=br0,helper="$T/bin/$mode-helper" \
        -device virtio-net-pci,netdev=n0,romfile=
done

boot "userbridge run, -netdev tap,fd={fd}" "$T/bin/userbridge" run --helper="$T/bin/fcap-helper" -- \
    "$T/bin/qemu" -netdev tap,id=n0,fd={fd} -device virtio-net-pci,netdev=n0,mac={mac},romfile=

# A 2-queue virtio-net NIC, with the MAC policy derives and the kernel
# enforces: the guest only gets through if QEMU uses {mac}. Through
# userbridged, which alone filters (the helper refuses: filters.sh).
acl 'allow br0 mac-prefix=52:54:00\n'
start_daemon
boot "userbridge run --nic queues=2, fds={fds}, pinned {mac}" \
    "$T/bin/userbridge" run --via=daemon --vm=e2e --nic queues=2 -- \
    "$T/bin/qemu" -netdev tap,id=n0,fds={fds} \
    -device virtio-net-pci,netdev=n0,mq=on,vectors=6,mac={mac},romfile=
check "...the grant had 2 queues and a pinned guest MAC" \
    soon grep -qE 'event=grant user=ubalice .* vm=e2e queues=2 guest_mac=52:54:00:' "$SYSLOG"
# A real guest with its pinned MAC must lose nothing to the anti-spoofing
# rules: besides ARP, the test guest's kernel sends two router
# solicitations (with its link-layer address) and two duplicate-address
# solicitations (with a nonce) while it runs, checked once by hand with
# counters on the bridge.
check "...and nothing the guest sent was dropped by the pinning rules" \
    fails grep -qE 'counter packets [1-9]' <(nft list table bridge userbridge)

# Held to its address too (ip=): its ARP, its ping and its IPv6
# link-local traffic (router and duplicate-address solicitations, MLD)
# must all pass, and nothing be counted as dropped; on an address it was
# not given, it must not get through.
acl 'allow br0 mac-prefix=52:54:00 ip=10.99.0.2,2001:db8:99::/64\n'
reload_daemon
pinned=("$T/bin/userbridge" run --via=daemon --vm=e2e -- \
    "$T/bin/qemu" -netdev tap,id=n0,fd={fd} -device virtio-net-pci,netdev=n0,mac={mac},romfile=)
boot "userbridge run, pinned {mac}, ip=10.99.0.2" "${pinned[@]}"
check "...and nothing the guest sent was dropped by the address rules" \
    fails grep -qE 'counter packets [1-9]' <(nft list table bridge userbridge)
GUEST_IP=10.99.0.3/24 timeout 120 setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- \
    "${pinned[@]}" >"$T/console" 2>&1 || true
check "the guest on an address ip= does not list does not get through" \
    grep -q 'UB-GUEST-PING-FAILED' "$T/console"
check "...its packets counted as dropped" \
    grep -qE 'ip4_allowed counter packets [1-9]' <(nft list table bridge userbridge)
acl 'allow br0\n'
reload_daemon

# No privileged binary at all: QEMU runs userbridge-client, which asks the
# daemon.
boot "-netdev bridge, userbridge-client via userbridged" "$T/bin/qemu" \
    -netdev bridge,id=n0,br=br0,helper="$T/bin/userbridge-client" \
    -device virtio-net-pci,netdev=n0,romfile=
stop_daemon

check "grants logged for each boot" test "$(grep -c 'event=grant' "$SYSLOG")" -ge 4
check "the daemon's boot was granted by the daemon" grep -q 'userbridged.*event=grant.*via=daemon' "$SYSLOG"
finish
