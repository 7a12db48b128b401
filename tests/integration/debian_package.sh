#!/bin/bash
# The Debian packages, built from this source tree (packaging/build-deb.sh:
# dpkg-buildpackage, then lintian, which must report no errors), installed
# on this machine with dpkg, used for real, then purged:
#   - the maintainer script gave the helper cap_net_admin+ep, not setuid,
#     and leaves it alone under an administrator's dpkg-statoverride;
#   - the socket unit is enabled, the units and man pages are in place;
#   - as an unprivileged user, the installed helper grants a tap, `userbridge
#     run` finds it without being told where, a C program built against
#     libuserbridge-dev gets a tap, a QEMU guest pings the bridge through
#     the helper and, with no privileged binary, through the installed
#     userbridge-client and a socket-activated userbridged;
#   - purging removes every file the packages installed, and the enablement.
source "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
for tool in dpkg-buildpackage lintian dh; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
PACKAGES=(userbridge libuserbridge0 libuserbridge-dev)
for p in "${PACKAGES[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | has 'install ok'; then
        echo "SKIP: $p is installed on this machine; this test installs and purges its own"
        exit 77
    fi
done

purge() {
    dpkg-statoverride --quiet --remove /usr/libexec/userbridge-helper 2>/dev/null || true
    dpkg --purge "${PACKAGES[@]}" >"$T/purge.log" 2>&1
}
# Purged however the test ends (ub_cleanup then does lib.sh's own cleanup).
trap 'rc=$?; set +e; purge; (exit $rc); ub_cleanup' EXIT

use_guest
bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'

debian_packages || finish

check "dpkg installs them" dpkg -i "$DEBS"/userbridge_*.deb "$DEBS"/libuserbridge0_*.deb \
    "$DEBS"/libuserbridge-dev_*.deb
dpkg -L "${PACKAGES[@]}" | sort -u >"$T/files"
helper=/usr/libexec/userbridge-helper
check "the helper has cap_net_admin+ep" grep -q 'cap_net_admin=ep' <(getcap $helper)
check "the helper is not setuid" test ! -u $helper
for f in /usr/bin/userbridge /usr/sbin/userbridged /usr/libexec/userbridge-client \
    /lib/systemd/system/userbridged.service /lib/systemd/system/userbridged.socket \
    /usr/lib/sysusers.d/userbridge.conf /usr/share/polkit-1/actions/org.userbridge.policy \
    /usr/share/man/man8/userbridge-helper.8.gz /usr/share/man/man5/userbridge-acl.5.gz \
    /usr/share/man/man8/userbridge-client.8.gz /usr/include/userbridge/userbridge.h \
    /usr/share/doc/userbridge/examples/bridge.conf /usr/share/doc/userbridge/copyright; do
    check "installed: $f" grep -qx "$f" "$T/files"
done
check "the socket unit is enabled" test -L /etc/systemd/system/sockets.target.wants/userbridged.socket
# The user database process's own user: the postinst applies the sysusers
# file (here lib.sh's private /etc/passwd has the user already, so the
# real one is left alone).
check "the postinst applies the sysusers file" grep -q 'systemd-sysusers .*userbridge\.conf' \
    /var/lib/dpkg/info/userbridge.postinst
check "man finds the helper's page" man -w userbridge-helper
check "the example ACL passes the installed userbridge check" userbridge check \
    /usr/share/doc/userbridge/examples/bridge.conf

out=$(as_alice "$T/bin/ub-testtool" call stream -- $helper --use-vnet --fd=3 --br=br0)
check "the installed helper grants ubalice a tap" grep -q 'tap=tap.* vnet_hdr=1' <<<"$out"
out=$(as_alice userbridge run -- sh -c 'echo fd={fd} mac={mac}')
check "the installed userbridge run finds the helper itself" grep -qE '^fd=[0-9]+ mac=52:' <<<"$out"
cc -o "$T/bin/c-client" "$SRC/tests/tools/ub_c_client.c" $(pkg-config --cflags --libs libuserbridge)
out=$(as_alice "$T/bin/c-client" $helper br0)
check "a C program built with libuserbridge-dev gets a tap" grep -q '^ifname=tap' <<<"$out"

boot "QEMU -netdev bridge through the installed helper" "$T/bin/qemu" \
    -netdev bridge,id=n0,br=br0,helper=$helper -device virtio-net-pci,netdev=n0,romfile=

# userbridged as the installed socket unit would start it.
check "the socket unit listens where the programs look" \
    grep -qx 'ListenStream=/run/userbridge.sock' /lib/systemd/system/userbridged.socket
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/userbridged.service)
start_activated_daemon $exec_start
boot "QEMU -netdev bridge through the installed userbridge-client and userbridged" "$T/bin/qemu" \
    -netdev bridge,id=n0,br=br0,helper=/usr/libexec/userbridge-client \
    -device virtio-net-pci,netdev=n0,romfile=
check "...granted by the daemon" grep -q 'userbridged.*event=grant.*via=daemon' "$SYSLOG"
stop_daemon

# An administrator's statoverride for the helper wins over the postinst.
dpkg-statoverride --add root root 0755 $helper
check "reinstalled under a statoverride" dpkg -i "$DEBS"/userbridge_*.deb
check "...the helper is left without a capability" test -z "$(getcap $helper)"
check "...and not setuid" test ! -u $helper

check "dpkg purges them" purge
# (dpkg -L also lists directories, /lib among them: a symlink on Debian 12)
left=$(while read -r f; do if [ -f "$f" ] || { [ -L "$f" ] && [ ! -d "$f" ]; }; then echo "$f"; fi; done <"$T/files")
check "no file of the packages is left" test -z "$left"
[ -z "$left" ] || sed 's/^/    left: /' <<<"$left"
check "the socket unit's enablement is gone" test ! -e /etc/systemd/system/sockets.target.wants/userbridged.socket
check "no tap left" test -z "$(taps)"
finish
