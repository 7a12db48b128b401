#!/bin/bash
# A real unprivileged LXC container (Debian's lxc, the busybox template)
# started by ubalice with lxc.net.0.type = veth on br0 gets its NIC from
# userbridged through userbridge-lxc-user-nic, bind-mounted over LXC's
# lxc-user-nic in this test's mount namespace, and pings the bridge.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
LXC_USER_NIC=/usr/libexec/lxc/lxc-user-nic
if ! command -v lxc-start >/dev/null || [ ! -e "$LXC_USER_NIC" ]; then
    echo "SKIP: Debian's lxc is not installed"
    exit 77
fi
install -m 0755 "$UB_BUILD_DIR/userbridge-lxc-user-nic" "$T/bin/"
mount --bind "$T/bin/userbridge-lxc-user-nic" "$LXC_USER_NIC"
ip addr add 10.23.0.1/24 dev br0
start_daemon

# Subordinate ids for ubalice, in this mount namespace only.
printf 'ubalice:200000:65536\n' >"$T/etc/subuid"
cp "$T/etc/subuid" "$T/etc/subgid"
for f in subuid subgid; do touch /etc/$f; mount --bind "$T/etc/$f" /etc/$f; done
# A cgroup v2 subtree delegated to ubalice (what systemd's Delegate= does).
mkdir -p "$T/cgroup"
mount -t cgroup2 none "$T/cgroup"
CG=$T/cgroup/ub-lxc-test.$$
mkdir "$CG"
chown -R $ALICE:$ALICE "$CG"
# The cgroup tree is the host's, not this test's: whatever happens, the
# container is stopped and the subtree removed, deepest first.
lxc_cleanup() {
    lxc_as_alice lxc-stop -P "$W/lxc" -n c1 -k >/dev/null 2>&1 || true
    [ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}
trap 'rc=$?; lxc_cleanup; (exit $rc); ub_cleanup' EXIT
W=$T/work/alice  # ubalice's home: the container and its log
mkdir -p "$W/lxc"
chown -R $ALICE:$ALICE "$W"
cat >"$T/work/lxc.conf" <<CONF
lxc.include = /usr/share/lxc/config/common.conf
lxc.include = /usr/share/lxc/config/userns.conf
lxc.idmap = u 0 200000 65536
lxc.idmap = g 0 200000 65536
lxc.console.path = none
# Not busybox init: its rcS runs udhcpc, which flushes the static address.
lxc.init.cmd = /bin/sleep 3600
lxc.tty.max = 0
lxc.pty.max = 0
lxc.net.0.type = veth
lxc.net.0.link = br0
lxc.net.0.name = eth0
lxc.net.0.flags = up
lxc.net.0.ipv4.address = 10.23.0.7/24
CONF
chmod 644 "$T/work/lxc.conf"
lxc_as_alice() {
    # In the delegated cgroup, then as ubalice.
    sh -c "echo \$\$ >'$CG/cgroup.procs' && exec setpriv --reuid=$ALICE --regid=$ALICE --groups=$VMGROUP -- env HOME=$W XDG_RUNTIME_DIR=$W \"\$@\"" sh "$@"
}
check "ubalice creates a busybox container" \
    lxc_as_alice lxc-create -P "$W/lxc" -n c1 -t busybox -f "$T/work/lxc.conf"
check "ubalice starts it (LXC runs lxc-user-nic for its NIC)" \
    lxc_as_alice lxc-start -P "$W/lxc" -n c1 -l DEBUG -o "$W/lxc.log"
pid=$(lxc_as_alice lxc-info -P "$W/lxc" -n c1 -pH || true)
check "its NIC is a userbridge veth pair on br0" test -n "$(ip -o link show master br0 type veth | grep ': ubv')"
check "LXC ran our drop-in" grep -q 'Execing lxc-user-nic create .* c1 [0-9]* veth br0 eth0' "$W/lxc.log"
check "the container pings the bridge (from inside, as its root)" \
    lxc_as_alice lxc-attach -P "$W/lxc" -n c1 -- /bin/ping -c1 -W3 10.23.0.1
check "the grant is audited as the container's" \
    soon grep -qE "event=grant user=ubalice .*vm=\"?c1\"? .*veth pair" "$SYSLOG"
lxc_as_alice lxc-stop -P "$W/lxc" -n c1 -k || true
check "stopped, its pair is gone" within 10 sh -c '! ip -o link show type veth | grep -q ": ubv"'
lxc_as_alice lxc-destroy -P "$W/lxc" -n c1 || true
lxc_cleanup
check "the delegated cgroup is gone" test ! -e "$CG"
umount "$T/cgroup"
stop_daemon
finish
