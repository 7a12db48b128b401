#!/bin/bash
# Sandboxed VMMs (Flatpak): QEMU run by ubalice inside a bubblewrap sandbox
# built the way Flatpak builds one (new user, pid, ipc, uts and mount
# namespaces, no_new_privs, /usr read-only, a fresh /tmp and /dev, the app at
# /app), with nothing of userbridge's in it but userbridged's socket (bound
# at its own path, which userbridge-client has built in) and the statically
# linked userbridge-client as QEMU's helper=:
#   - no setuid or file-capability helper works in there (no_new_privs, and
#     bwrap mounts everything nosuid), though the same copies do outside;
#   - through the socket the guest gets its tap and pings the bridge, also
#     with a network namespace of its own (Flatpak without --share=network):
#     the tap is made in the daemon's namespace and only its fd crosses;
#   - the daemon's record names ubalice, uid 4711, even when the sandboxed
#     process calls itself root (SO_PEERCRED is translated into the
#     daemon's user namespace);
#   - after it, no tap and no process of the sandbox is left.

# A pid namespace of the test's own: bwrap returns once its init in the
# sandbox reports the command's exit, leaving that init to be reaped by
# pid 1 (here the test, which does, as systemd would on a desktop).
export UB_PIDNS=1
source "$(dirname "$0")/lib.sh"

command -v bwrap >/dev/null || { echo "SKIP: bubblewrap (bwrap) not installed"; exit 77; }
use_guest
bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'

# The app: the guest's QEMU command line, the guest, the client, and, to
# show they are useless in there, setuid and file-capability copies of the
# helper. ub-testtool (dynamically linked) finds its libraries in /usr.
mkdir -p "$T/app/bin"
sed "s|$T/bin/|/app/bin/|g" "$T/bin/qemu" >"$T/app/bin/qemu"
chmod 755 "$T/app/bin/qemu"
install -m 644 "$T/bin/vmlinuz" "$T/bin/initrd.img" "$T/app/bin/"
install -m 755 "$T/bin/userbridge-client" "$T/bin/ub-testtool" "$T/app/bin/"
install -m 4755 "$UB_BUILD_DIR/userbridge-helper" "$T/app/bin/setuid-helper"
install -m 755 "$UB_BUILD_DIR/userbridge-helper" "$T/app/bin/fcap-helper"
setcap cap_net_admin+ep "$T/app/bin/fcap-helper"
[ ! -x "$T/bin/qemu-helper" ] || install -m 4755 "$T/bin/qemu-helper" "$T/app/bin/qemu-helper"

# bwrap's --dev binds these from the /dev it starts in; the test's has
# only what the helpers need.
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/tty c 5 0

# BWRAP: Flatpak's kind of sandbox (its bwrap invocation, less its seccomp
# filter and D-Bus proxy); more options may follow, then -- and the command.
BWRAP=(bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try
    --die-with-parent --new-session
    --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/sbin /sbin
    --symlink usr/lib /lib --symlink usr/lib64 /lib64
    --proc /proc --dev /dev --tmpfs /tmp --dir /run
    --bind /run/userbridge.sock /run/userbridge.sock
    --ro-bind "$T/app" /app --chdir /app)
# sandboxed [BWRAP-OPTION...] -- CMD...: CMD as ubalice in the sandbox.
sandboxed() { setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- "${BWRAP[@]}" "$@"; }

start_daemon

# Unprivileged user namespaces: bwrap (not setuid on Debian) needs them, as
# Flatpak does. Where the kernel or the admin forbids them
# (user.max_user_namespaces=0, Debian's old kernel.unprivileged_userns_clone=0),
# there is no Flatpak to serve either.
if ! out=$(sandboxed -- true 2>&1); then
    echo "SKIP: ubalice cannot make a bubblewrap sandbox (unprivileged user namespaces off?): $out"
    exit 77
fi
check "in the sandbox: no_new_privs is set" \
    grep -qP '^NoNewPrivs:\t1$' <(sandboxed -- cat /proc/self/status)
check "in the sandbox: only the daemon's socket of ours is there" \
    test "$(sandboxed -- sh -c 'ls /run; test -e /etc/qemu && echo etc-qemu')" = userbridge.sock

# The control: outside, the same setuid and file-capability copies grant.
for h in setuid fcap; do
    out=$(as_alice "$T/app/bin/ub-testtool" call stream -- "$T/app/bin/$h-helper" --fd=3 --br=br0 2>&1)
    check "outside the sandbox the $h copy of the helper grants" grep -q '^tap=tap' <<<"$out"
done
# Inside, they run without privilege (no_new_privs ignores the setuid bit
# and file capabilities at execve; the mount is nosuid besides) and say so.
for h in setuid fcap; do
    refused "in the sandbox the $h copy of the helper gets no privilege" \
        "not privileged: install userbridge-helper with 'setcap cap_net_admin+ep'" \
        sandboxed -- /app/bin/ub-testtool call stream -- "/app/bin/$h-helper" --fd=3 --br=br0
done

# Debian's helper too, given the ACL it reads first and /dev/net/tun (as
# Flatpak's --device=all would): outside it grants, inside it cannot make
# a tap.
if [ -x "$T/app/bin/qemu-helper" ]; then
    out=$(as_alice "$T/app/bin/ub-testtool" call stream -- "$T/app/bin/qemu-helper" --use-vnet --fd=3 --br=br0 2>&1)
    check "outside the sandbox Debian's setuid qemu-bridge-helper grants" grep -q '^tap=tap' <<<"$out"
    refused "in the sandbox Debian's setuid qemu-bridge-helper gets no privilege" \
        "failed to create tun device: Operation not permitted" \
        sandboxed --ro-bind /etc/qemu /etc/qemu --dev-bind /dev/net/tun /dev/net/tun -- \
        /app/bin/ub-testtool call stream -- /app/bin/qemu-helper --use-vnet --fd=3 --br=br0
fi

# Through the socket, by a process that is root in its sandbox: the grant
# is ubalice's, as the kernel tells the daemon who is on the other end.
out=$(sandboxed --uid 0 --gid 0 -- sh -c 'id -u; /app/bin/ub-testtool call stream -- /app/bin/userbridge-client --fd=3 --br=br0' 2>&1)
check "in the sandbox as its root (uid $(head -n1 <<<"$out")), userbridge-client gets a tap" \
    grep -q '^tap=tap' <<<"$out"
check "...which the daemon records as ubalice's, uid 4711" \
    soon grep -qE 'userbridged.*event=grant user=ubalice uid=4711 .*bridge="br0"' "$SYSLOG"
check "...and as nobody else's" \
    fails grep -qE 'event=grant user=[^ ]+ uid=(0|65534) ' "$SYSLOG"
check "no tap left after the calls" no_taps

# in_pidns NS: processes in pid namespace NS (its inode number).
in_pidns() {
    local p
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "pid:[$1]" ]; then echo "${p#/proc/}"; fi
    done
}
# gone_after NAME: no process is left in the pid namespace bwrap reported on
# fd 9 ($T/status) for NAME's boot. Soon, not at once: the sandbox's init
# may still be exiting, or waiting for the test to reap it.
gone_after() {
    local ns
    ns=$(sed -n 's/.*"pid-namespace": *\([0-9]*\).*/\1/p' "$T/status")
    if [ -z "$ns" ]; then
        fail "$1: bwrap reported no pid namespace: $(cat "$T/status")"
        return
    fi
    check "$1: no process of the sandbox is left" soon test -z "$(in_pidns "$ns")"
}

# QEMU in the sandbox, helper= the client: sharing the host's network, as
# an app with --share=network, and in a network namespace of its own.
check "with --unshare-net the sandbox sees no br0 (only lo)" \
    test "$(sandboxed --unshare-net -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')" = lo
for net in shared unshared; do
    opts=(--json-status-fd 9)
    [ $net = shared ] || opts+=(--unshare-net)
    before=$(grep -c 'event=grant user=ubalice uid=4711 ' "$SYSLOG" || true)
    exec 9>"$T/status"
    boot "bwrap, $net network, helper=userbridge-client" "${BWRAP[@]}" "${opts[@]}" -- \
        /app/bin/qemu -netdev bridge,id=n0,br=br0,helper=/app/bin/userbridge-client \
        -device virtio-net-pci,netdev=n0,romfile=
    exec 9>&-
    check "...its grant recorded as ubalice's, uid 4711" \
        test "$(grep -c 'event=grant user=ubalice uid=4711 ' "$SYSLOG")" -gt "$before"
    gone_after "bwrap, $net network"
done

stop_daemon
check "no tap left at the end" no_taps
finish
