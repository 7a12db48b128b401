#!/bin/bash
# userbridge-qemu-compat, built from this source tree with the other Debian
# packages (packaging/build-deb.sh), installed on this machine with dpkg,
# used for real, then purged:
#   - as found, Debian's qemu-bridge-helper (not setuid) gives an
#     unprivileged QEMU with `-netdev bridge,br=br0` and no helper= nothing;
#   - installed, the package diverts Debian's helper to
#     qemu-bridge-helper.debian, byte for byte, and QEMU's default path is a
#     symbolic link to the unprivileged userbridge-client: nothing setuid or
#     capable there; the client takes QEMU's helper command line in either
#     order;
#   - the same QEMU command line, unchanged, boots the test guest on br0 and
#     it pings the bridge, granted by userbridged (its audit record says
#     via=daemon), and so does a libvirt session guest with no
#     bridge_helper setting;
#   - reinstalling (the upgrade path) keeps one diversion; purging puts
#     Debian's helper back: path, bytes, mode, owner, file capabilities,
#     statoverride;
#   - an administrator who made Debian's helper setuid with
#     dpkg-statoverride gets no setuid file at QEMU's default path from
#     the package (dpkg applies a statoverride to the path's new file, but
#     not the mode of a symbolic link), and the setuid helper and its
#     statoverride back on removal;
#   - unpacked without userbridge (its dependency), the package is left
#     unconfigured, and purging it restores Debian's helper as well.
# It changes the real system: whatever happens, the exit trap purges the
# packages, removes the diversion and this test's statoverride, and says
# if Debian's helper is not as it was.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/libvirt_lib.sh"

for tool in dpkg-buildpackage lintian dh; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
PACKAGES=(userbridge-qemu-compat userbridge libuserbridge0 libuserbridge-dev)
for p in "${PACKAGES[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | has 'install ok'; then
        echo "SKIP: $p is installed on this machine; this test installs and purges its own"
        exit 77
    fi
done
H=/usr/lib/qemu/qemu-bridge-helper
dpkg -S $H 2>/dev/null | has '^qemu-system-common:' ||
    { echo "SKIP: no Debian qemu-bridge-helper (qemu-system-common)"; exit 77; }
if [ -n "$(dpkg-divert --listpackage $H)" ] || [ -e $H.debian ]; then
    echo "SKIP: $H is diverted already: $(dpkg-divert --list $H)"
    exit 77
fi

# file_state PATH: a file's type, mode, owner, size, bytes and file
# capabilities. helper_state: Debian's helper's at its path, its
# statoverride and diversion, and whether anything is at the diverted path.
file_state() {
    stat -c '%F mode=%a owner=%U:%G size=%s' "$1"
    sha256sum <"$1"
    echo "caps=$(getcap "$1" | cut -d' ' -f2-)"
}
helper_state() {
    file_state $H
    echo "statoverride=$(dpkg-statoverride --list $H || true)"
    echo "diversion=$(dpkg-divert --listpackage $H)"
    [ ! -e $H.debian ] || echo "$H.debian exists"
}
ORIG_MODE=$(stat -c %a $H)
BEFORE=$(helper_state)
BEFORE_FILE=$(file_state $H)
OVERRIDE_ADDED=
restore() {
    dpkg --purge "${PACKAGES[@]}" >>"$T/purge.log" 2>&1
    # Left by a failure half-way: the diversion, this test's statoverride.
    if [ -n "$(dpkg-divert --listpackage $H)" ]; then
        dpkg-divert --package userbridge-qemu-compat --remove --rename --divert $H.debian $H
    fi
    if [ -n "$OVERRIDE_ADDED" ]; then
        dpkg-statoverride --quiet --remove $H || true
        chmod "$ORIG_MODE" $H
    fi
    [ "$(helper_state)" = "$BEFORE" ] || {
        echo "WARNING: Debian's $H is not as it was. Before:"
        echo "$BEFORE"
        echo "Now:"
        helper_state
    }
}
trap 'rc=$?; set +e; restore; (exit $rc); ub_cleanup' EXIT

use_guest
bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'
echo "Debian's helper as found:"
sed 's/^/    /' <<<"$BEFORE"

debian_packages || finish
deb() { ls "$DEBS/$1"_*.deb; }

# QEMU's default: -netdev bridge with no helper=.
qemu_default=("$T/bin/qemu" -netdev bridge,id=n0,br=br0 -device virtio-net-pci,netdev=n0,romfile=)
rc=0
timeout 60 setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- "${qemu_default[@]}" \
    >"$T/console" 2>&1 || rc=$?
check "as found, QEMU's default helper gives ubalice no network" \
    test $rc -ne 0 -a -z "$(grep UB-GUEST-PING-OK "$T/console")"
grep -m1 'bridge helper\|qemu-system' "$T/console" | sed 's/^/    qemu: /' || true

check "dpkg installs userbridge and userbridge-qemu-compat" \
    dpkg -i "$(deb userbridge)" "$(deb userbridge-qemu-compat)"
check "the diversion is userbridge-qemu-compat's" \
    test "$(dpkg-divert --listpackage $H)" = userbridge-qemu-compat
check "QEMU's default helper path is a symbolic link to userbridge-client" \
    test -L $H -a "$(readlink -f $H)" = /usr/libexec/userbridge-client
check "...which is neither setuid nor capable" test ! -u $H -a -z "$(getcap "$(readlink -f $H)")"
check "Debian's helper is kept aside: bytes, mode, owner, capabilities" \
    test "$(file_state $H.debian)" = "$BEFORE_FILE"

exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/userbridged.service)
start_activated_daemon $exec_start
out=$(as_alice "$T/bin/ub-testtool" call stream -- $H --use-vnet --br=br0 --fd=3)
check "userbridge-client takes QEMU's --use-vnet --br=BR --fd=N" grep -q 'tap=tap.* vnet_hdr=1' <<<"$out"
out=$(as_alice "$T/bin/ub-testtool" call stream -- $H --fd=3 --br=br0)
check "...and the older --fd=N --br=BR" grep -q 'tap=tap.* vnet_hdr=0' <<<"$out"

# granted_since N: userbridged has recorded more than N grants to ubalice.
grants() { grep -c 'userbridged.*event=grant user=ubalice .*via=daemon' "$SYSLOG" || true; }
granted_since() { [ "$(grants)" -gt "$1" ]; }
before=$(grants)
boot "QEMU -netdev bridge with no helper=" "${qemu_default[@]}"
check "...granted by userbridged, through the client at QEMU's default path" soon granted_since "$before"
grep 'userbridged.*event=grant user=ubalice' "$SYSLOG" | tail -n1 | sed 's/^/    audit: /'

before=$(grants)
if command -v libvirtd >/dev/null && command -v virsh >/dev/null; then
    # No qemu.conf at all in ubalice's session: libvirt's default helper.
    libvirt_session_guest ""
    check "...granted by userbridged, with no bridge_helper setting" soon granted_since "$before"
else
    echo "SKIP: libvirt-daemon and libvirt-clients not installed: no libvirt session guest"
fi
stop_daemon

check "reinstalling it (the upgrade path) succeeds" dpkg -i "$(deb userbridge-qemu-compat)"
check "...and keeps one diversion, the same" \
    test "$(dpkg-divert --list | grep -c "of $H ")" = 1 -a "$(readlink -f $H)" = /usr/libexec/userbridge-client
check "dpkg purges userbridge-qemu-compat" dpkg --purge userbridge-qemu-compat
check "Debian's helper is back: path, bytes, mode, owner, capabilities, statoverride" \
    test "$(helper_state)" = "$BEFORE"

# An administrator who enabled Debian's helper the documented way.
dpkg-statoverride --update --add root root 4755 $H
OVERRIDE_ADDED=1
setuid_state=$(helper_state)
setuid_file=$(file_state $H)
check "under a setuid statoverride of Debian's helper, the package installs" \
    dpkg -i "$(deb userbridge-qemu-compat)"
check "...QEMU's default path is still the link to userbridge-client" \
    test -L $H -a "$(readlink -f $H)" = /usr/libexec/userbridge-client
check "...and nothing there is setuid" test ! -u $H -a ! -u /usr/libexec/userbridge-client
check "...while Debian's helper, aside, keeps its setuid bit" \
    test -u $H.debian -a "$(file_state $H.debian)" = "$setuid_file"
check "dpkg removes it" dpkg --remove userbridge-qemu-compat
check "...and Debian's setuid helper and its statoverride are back" \
    test "$(helper_state)" = "$setuid_state"
dpkg-statoverride --quiet --remove $H
chmod "$ORIG_MODE" $H
OVERRIDE_ADDED=

check "dpkg purges userbridge" dpkg --purge userbridge
check "without userbridge, dpkg unpacks userbridge-qemu-compat but cannot configure it" \
    fails dpkg -i "$(deb userbridge-qemu-compat)"
check "...and purging it succeeds" dpkg --purge userbridge-qemu-compat
check "...restoring Debian's helper exactly as found" test "$(helper_state)" = "$BEFORE"
check "no tap left" test -z "$(taps)"
finish
