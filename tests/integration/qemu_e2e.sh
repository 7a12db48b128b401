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

command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
GUEST=${UB_GUEST_DIR:-$UB_BUILD_DIR/guest}  # built by the guest.build test
[ -s "$GUEST/vmlinuz" ] || { echo "FAIL: no test guest in $GUEST (run tests/guest/build-guest.sh)"; exit 1; }
install -m 644 "$GUEST/vmlinuz" "$GUEST/initrd.img" "$T/bin/"

bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'

# The guest's QEMU command line, but for its NIC; a script so that
# setpriv and userbridge run can exec it.
cat >"$T/bin/qemu" <<QEMU
#!/bin/sh
exec qemu-system-x86_64 -M q35 -m 256 -nographic -no-reboot -nodefaults -serial stdio \\
    -kernel $T/bin/vmlinuz -initrd $T/bin/initrd.img \\
    -append "console=ttyS0 quiet panic=-1 ub.ip=10.99.0.2/24 ub.ping=10.99.0.1" "\$@"
QEMU
chmod 755 "$T/bin/qemu"

# boot NAME CMD...: run the guest as alice, watching br0's ports meanwhile.
boot() {
    local name=$1
    shift
    : >"$T/ports"
    (while :; do ip -o link show master br0 type tun >>"$T/ports"; sleep 0.2; done) &
    local watcher=$!
    local rc=0
    timeout 120 setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- "$@" >"$T/console" 2>&1 || rc=$?
    kill $watcher
    wait $watcher 2>/dev/null || true
    grep '^guest:' "$T/console" | sed 's/^/    /' || true
    check "$name: guest pinged the bridge" grep -q UB-GUEST-PING-OK "$T/console"
    check "$name: QEMU exited cleanly" test $rc -eq 0
    check "$name: tap was on br0 while the guest ran" grep -q 'tap[0-9]*: .*master br0' "$T/ports"
    check "$name: tap gone after QEMU exited" test -z "$(taps)"
    [ $rc -eq 0 ] && grep -q UB-GUEST-PING-OK "$T/console" || sed 's/^/    console: /' "$T/console" | tail -20
}

for mode in setuid fcap; do
    boot "-netdev bridge, $mode helper" "$T/bin/qemu" \
        -netdev bridge,id=n0,br=br0,helper="$T/bin/$mode-helper" \
        -device virtio-net-pci,netdev=n0,romfile=
done

boot "userbridge run, -netdev tap,fd={fd}" "$T/bin/userbridge" run --helper="$T/bin/fcap-helper" -- \
    "$T/bin/qemu" -netdev tap,id=n0,fd={fd} -device virtio-net-pci,netdev=n0,mac={mac},romfile=

# A 2-queue virtio-net NIC, with the MAC policy derives and the kernel
# enforces: the guest only gets through if QEMU uses {mac}.
acl 'allow br0 mac-prefix=52:54:00\n'
boot "userbridge run --nic queues=2, fds={fds}, pinned {mac}" \
    "$T/bin/userbridge" run --helper="$T/bin/setuid-helper" --vm=e2e --nic queues=2 -- \
    "$T/bin/qemu" -netdev tap,id=n0,fds={fds} \
    -device virtio-net-pci,netdev=n0,mq=on,vectors=6,mac={mac},romfile=
check "...the grant had 2 queues and a pinned guest MAC" \
    grep -qE 'event=grant user=ubalice .* vm=e2e queues=2 guest_mac=52:54:00:' "$SYSLOG"
acl 'allow br0\n'

# No privileged binary at all: QEMU runs userbridge-client, which asks the
# daemon.
start_daemon
boot "-netdev bridge, userbridge-client via userbridged" "$T/bin/qemu" \
    -netdev bridge,id=n0,br=br0,helper="$T/bin/userbridge-client" \
    -device virtio-net-pci,netdev=n0,romfile=
stop_daemon

check "grants logged for each boot" test "$(grep -c 'event=grant' "$SYSLOG")" -ge 4
check "the daemon's boot was granted by the daemon" grep -q 'userbridged.*event=grant.*via=daemon' "$SYSLOG"
finish
