#!/bin/bash
# The userbridge demo, from nothing, as root on Debian 12:
#   installs what is missing, builds, then in a throwaway network namespace
#   makes a bridge, installs the helper with cap_net_admin+ep into a
#   temporary prefix, and as the unprivileged user "nobody" boots a tiny
#   guest with `userbridge run ... qemu-system-x86_64 ... fd={fd}`; the guest
#   pings the bridge through its tap. Everything is gone afterwards: the
#   namespace, the mounts, the prefix. The host's network, /etc/qemu and
#   /dev are never changed.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

if [ -z "${UB_DEMO_INSIDE:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "demo: run me as root (I make a network namespace)" >&2; exit 1; }
    step "Installing what is missing (apt-get)"
    bash scripts/install-deps.sh
    step "Building (cmake --preset default)"
    cmake --preset default >/dev/null
    cmake --build --preset default -j"$(nproc)" | grep -E '^\[100%\]|error' || true
    step "Preparing the tiny test guest (Debian's kernel + busybox initramfs)"
    bash tests/guest/build-guest.sh build/guest
    mkdir -p /etc/qemu  # mount point; the demo mounts its own ACL over it
    step "Entering a throwaway network and mount namespace"
    exec unshare --mount --net --propagation private env UB_DEMO_INSIDE=1 bash "$0"
fi

T=$(mktemp -d /tmp/userbridge-demo.XXXXXX)
# Lazily: a watcher's sleep may still hold a file of it open for a moment,
# and a busy unmount would leave the directory behind in the host's /tmp.
trap 'umount -R -l "$T" 2>/dev/null || true; rmdir "$T" 2>/dev/null || true' EXIT
mount -t tmpfs -o mode=755 tmpfs "$T"
mount -t sysfs sysfs /sys
ip link set lo up

step "Creating bridge br0 (10.99.0.1/24) in the namespace"
ip link add br0 type bridge
ip link set br0 up
ip addr add 10.99.0.1/24 dev br0
ip -br addr show br0

step "Installing into a temporary prefix; helper gets cap_net_admin+ep (no setuid)"
cmake --install "$src/build" --prefix "$T/prefix" >/dev/null
helper=$T/prefix/libexec/userbridge-helper  # cmake --install gave it the capability
echo "$(getcap "$helper")"

step "Writing the administrator's ACL: /etc/qemu/bridge.conf = 'allow br0' (namespace only)"
mkdir "$T/etc"
echo 'allow br0' >"$T/etc/bridge.conf"
mount --bind "$T/etc" /etc/qemu
if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    # Debian's udev makes /dev/net/tun 0666; some machines (containers, CI)
    # have 0600. Give the namespace Debian's default, leaving the host's alone.
    mknod -m 666 "$T/tun" c 10 200
    mount --bind "$T/tun" /dev/net/tun
    echo "(/dev/net/tun is not 0666 here; using a 0666 node inside the namespace, as Debian ships it)"
fi
install -m 644 "$src/build/guest/vmlinuz" "$src/build/guest/initrd.img" "$T/"

step "Booting the guest as user nobody: userbridge run --br=br0 -- qemu-system-x86_64 ... fd={fd}"
(while sleep 0.3; do ip -o link show master br0 type tun; done >"$T/ports" 2>/dev/null) &
watcher=$!
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
    "$T/prefix/bin/userbridge" run --br=br0 --helper="$helper" -- \
    qemu-system-x86_64 -M q35 -m 256 -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$T/vmlinuz" -initrd "$T/initrd.img" \
    -append "console=ttyS0 quiet panic=-1 ub.ip=10.99.0.2/24 ub.ping=10.99.0.1" \
    -netdev tap,id=n0,fd={fd} -device virtio-net-pci,netdev=n0,mac={mac},romfile= \
    >"$T/console" 2>&1 || rc=$?
kill $watcher 2>/dev/null || true
grep -E '^guest:|UB-GUEST' "$T/console" | sed 's/^/    /' || true

tap_seen=$(grep -o 'tap[0-9]*: [^>]*> .*master br0' "$T/ports" | head -n1 | cut -d: -f1 || true)
left=$(ip -o link show type tun | wc -l)
step "Summary"
echo "  tap granted to nobody, on br0 while the guest ran: ${tap_seen:-not seen}"
echo "  guest ping through the tap:                        $(grep -q UB-GUEST-PING-OK "$T/console" && echo OK || echo FAILED)"
echo "  QEMU exit status:                                  $rc"
echo "  taps left after QEMU exited:                       $left"
if [ $rc -eq 0 ] && [ -n "$tap_seen" ] && [ "$left" = 0 ] && grep -q UB-GUEST-PING-OK "$T/console"; then
    echo "  demo: SUCCESS (namespace, mounts and prefix are removed on exit)"
else
    echo "  demo: FAILED; QEMU's console follows" >&2
    tail -n 30 "$T/console" >&2
    exit 1
fi
