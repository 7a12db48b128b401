#!/bin/bash
# userbridge-client given privilege its caller lacks. With
# userbridge-qemu-compat installed, /usr/lib/qemu/qemu-bridge-helper is a
# symbolic link to userbridge-client, and the usual ways of making QEMU's
# default helper setuid follow that link: `chmod u+s` does, and so does
# `dpkg-statoverride --update --add root root 4755` (its --update chmods
# the path; only dpkg's unpack of a link never sets a mode). A setuid-root
# client would connect as euid 0 for every user, and userbridged, which
# takes the caller's uid from SO_PEERCRED (the effective uid at connect),
# would grant it as root: rules by user or group, quotas and records would
# no longer be the caller's. The client refuses to run so (AT_SECURE), as
# do userbridge-lxc-user-nic, in LXC's setuid helper's place (part 3), and
# the userbridge CLI.
# Part 1 uses a scratch dpkg root (--root), never the real system's.
source "$(dirname "$0")/lib.sh"

bridge br0
# Everyone may use br0 but ubbob, who is refused as himself.
acl 'deny br0 user=ubbob\nallow br0\n'

# 1. dpkg-statoverride --update follows the package's link.
R=$T/dpkgroot
mkdir -p "$R/var/lib/dpkg/updates" "$R/usr/lib/qemu" "$R/usr/libexec"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/statoverride"
install -m 0755 "$T/bin/userbridge-client" "$R/usr/libexec/userbridge-client"
ln -s ../../libexec/userbridge-client "$R/usr/lib/qemu/qemu-bridge-helper"  # what dh_link makes
dpkg-statoverride --root="$R" --update --add root root 4755 /usr/lib/qemu/qemu-bridge-helper 2>&1 |
    sed 's/^/    dpkg-statoverride: /'
echo "    $(stat -c '%A %U %n' "$R/usr/libexec/userbridge-client")"
# The premise, dpkg's behaviour (1.21).
check "premise: a setuid statoverride added after install makes userbridge-client setuid" \
    test -u "$R/usr/libexec/userbridge-client"

# 2. What a setuid-root client then gives every user.
start_daemon
install -m 4755 "$T/bin/userbridge-client" "$T/bin/suid-client"
refused "ubbob, through the plain client, is refused" "denied" \
    as_bob "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0
before=$(wc -l <"$SYSLOG")
rc=0
as_bob "$T/bin/ub-testtool" call stream -- "$T/bin/suid-client" --fd=3 --br=br0 >"$T/out" 2>"$T/err" || rc=$?
echo "    ubbob through the setuid client: exit $rc $(head -c 200 "$T/out" "$T/err" | tr '\n' ' ')"
within 3 bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep -q userbridged" || true
tail -n +$((before + 1)) "$SYSLOG" | grep userbridged | sed 's/^/    /' || true
check "ubbob gets no tap through a setuid userbridge-client" fails grep -q '^tap=' "$T/out"
check "...which says why" grep -q 'runs with privilege its caller lacks' "$T/err"
check "...and userbridged records no grant to root for him" \
    fails bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep -q 'event=grant user=root'"
cp "$T/bin/userbridge-client" "$T/bin/fcap-client"
setcap cap_net_admin+ep "$T/bin/fcap-client"
refused "...nor through one with file capabilities" "runs with privilege its caller lacks" \
    as_bob "$T/bin/ub-testtool" call stream -- "$T/bin/fcap-client" --fd=3 --br=br0

# 3. The same for userbridge-lxc-user-nic, whose man page has it put in
# place of LXC's setuid-root lxc-user-nic (a link there, which `chmod u+s`
# follows, or a copy over it, which keeps its mode). Setuid root it would
# also open any process's network namespace: ubbob, refused br0 as himself,
# would put a veth into a root service's (a cold review did).
unshare --net sleep 60 &
SVC=$!
BACKGROUND+=($SVC)
soon bash -c "[ \"\$(readlink /proc/$SVC/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]" || true
install -m 0755 "$UB_BUILD_DIR/userbridge-lxc-user-nic" "$T/bin/lxc-user-nic"
install -m 4755 "$UB_BUILD_DIR/userbridge-lxc-user-nic" "$T/bin/suid-lxc-user-nic"
refused "ubbob cannot open a root service's namespace through the plain lxc-user-nic" "cannot open /proc/$SVC/ns/net" \
    as_bob "$T/bin/lxc-user-nic" create /x svc $SVC veth br0 eth7
refused "ubbob gets no veth through a setuid userbridge-lxc-user-nic" "runs with privilege its caller lacks" \
    as_bob "$T/bin/suid-lxc-user-nic" create /x svc $SVC veth br0 eth7
check "...none in the service's namespace" fails nsenter -t $SVC -n ip link show eth7
check "...and no grant to root on record" fails grep -q 'event=grant user=root' "$SYSLOG"
kill $SVC
# And for the CLI, which needs no privilege either.
install -m 4755 "$T/bin/userbridge" "$T/bin/suid-userbridge"
refused "a setuid userbridge refuses to run" "runs with privilege its caller lacks" as_bob "$T/bin/suid-userbridge" status
stop_daemon
check "no tap left" soon no_taps
finish
