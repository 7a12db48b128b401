# Shared set-up for integration tests. Source it first thing:
#
#   source "$(dirname "$0")/lib.sh"
#
# The test re-executes itself inside fresh mount and network namespaces, so
# every bridge, tap and mount it makes vanishes with it, even on a crash, and
# nothing touches the host's network. Inside:
#   /etc/qemu      a directory of the test's own (the helper's fixed ACL path
#                  is /etc/qemu/bridge.conf)
#   /dev           a minimal tmpfs with null, urandom, net/tun (mode 0666, as
#                  Debian's udev makes it) and log (a syslog sink)
#   $T/bin         setuid-helper, fcap-helper (cap_net_admin+ep), plain-helper
#                  (no privilege), faulty-helper (the fault-injection build,
#                  setuid), qemu-helper (Debian's, setuid) if installed,
#                  userbridge, ub-testtool, ub-c-client
#   $SYSLOG        every syslog record the helpers sent
#   /etc/passwd, /etc/group   the host's, plus the test users, bound over the
#                  real ones inside the namespace only
#   /run           an empty tmpfs (userbridged's socket goes there)
#   /var/lib/userbridge   a tmpfs (mode 0700) holding a known MAC key,
#                  $MAC_KEY (bytes 0x00 to 0x1f), so derived MACs are the same
#                  in every run; write_mac_key replaces it
# Users: ubalice (4711, also in group ubvm 4800), ubbob (4712); they exist
# only in the namespace's user database. $USERDB_USER ($USERDB_UID): the
# daemon's user database process's.
set -euo pipefail

: "${UB_BUILD_DIR:?set UB_BUILD_DIR to the build directory}"

if [ -z "${UB_SANDBOXED:-}" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: integration tests need root (namespaces, setuid copies)"
        exit 77
    fi
    # Mount points only; their content is never touched.
    mkdir -p /etc/qemu /var/lib/userbridge
    # UB_PIDNS=1: a pid namespace of the test's own too (it is pid 1 there,
    # and every process it starts dies with it), whose next pid the test
    # may set (/proc/sys/kernel/ns_last_pid) without touching the host's.
    pidns=()
    [ -z "${UB_PIDNS:-}" ] || pidns=(--pid --fork --mount-proc)
    exec unshare --mount --net --propagation private "${pidns[@]}" env UB_SANDBOXED=1 bash "$0" "$@"
fi

ALICE=4711
BOB=4712
VMGROUP=4800
T=$(mktemp -d /tmp/ub-test.XXXXXX)
SYSLOG=$T/syslog
FAILS=0

BACKGROUND=()
ub_cleanup() {
    local rc=$?
    [ ${#BACKGROUND[@]} -eq 0 ] || kill "${BACKGROUND[@]}" 2>/dev/null || true
    umount -l "$T" 2>/dev/null || true
    rmdir "$T" 2>/dev/null || true
    exit $rc
}
trap ub_cleanup EXIT

mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755 tmpfs "$T"
mkdir -p "$T/etc" "$T/bin" "$T/dev/net" "$T/work"
chmod 755 "$T/etc" "$T/bin"
chmod 1777 "$T/work"
mount --bind "$T/etc" /etc/qemu
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=700 tmpfs /var/lib/userbridge
MAC_KEY=/var/lib/userbridge/mac.key
# write_mac_key [HEX]: the MAC key (32 bytes, given as 64 hex digits;
# default 000102...1f), root's and mode 0600, as userbridged makes it.
write_mac_key() {
    local hex=${1:-000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f}
    (umask 077 && printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$MAC_KEY")
}
write_mac_key
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
# ubalice's entry and ubvm's are longer than the 1 KiB the lookups start
# with (a long GECOS field, many members), so every test that names them
# also takes the lookups' grow-and-retry path.
long_gecos=$(printf 'Alice %.0s' $(seq 300))
members=$(printf 'ubfiller%s,' $(seq 200))
printf 'ubalice:x:4711:4711:%s:/nonexistent:/usr/sbin/nologin\nubbob:x:4712:4712::/nonexistent:/usr/sbin/nologin\n' "$long_gecos" >>"$T/passwd"
printf 'ubalice:x:4711:\nubbob:x:4712:\nubvm:x:4800:%subalice\n' "$members" >>"$T/group"
# userbridged's user database process runs as a system user of its own
# (UB_USERDB_USER, which the package and `cmake --install` create): the
# host's, if it has one, or one of the namespace's.
USERDB_USER=$(sed -n 's/^UB_USERDB_USER:STRING=//p' "$UB_BUILD_DIR/CMakeCache.txt")
USERDB_USER=${USERDB_USER:-_userbridge}
if ! grep -q "^$USERDB_USER:" "$T/passwd"; then
    printf '%s:x:4790:4790:userbridge user database:/nonexistent:/usr/sbin/nologin\n' "$USERDB_USER" >>"$T/passwd"
    grep -q "^$USERDB_USER:" "$T/group" || printf '%s:x:4790:\n' "$USERDB_USER" >>"$T/group"
fi
USERDB_UID=$(grep "^$USERDB_USER:" "$T/passwd" | cut -d: -f3)
chmod 644 "$T/passwd" "$T/group"
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group

# A /dev of our own: Debian's modes, and a syslog socket we can read.
mknod -m 666 "$T/dev/null" c 1 3
mknod -m 666 "$T/dev/zero" c 1 5
mknod -m 666 "$T/dev/urandom" c 1 9
mknod -m 666 "$T/dev/random" c 1 8
mknod -m 666 "$T/dev/net/tun" c 10 200
ln -s /proc/self/fd "$T/dev/fd"
mount --rbind "$T/dev" /dev
ip link set lo up

install -m 4755 "$UB_BUILD_DIR/userbridge-helper" "$T/bin/setuid-helper"
install -m 0755 "$UB_BUILD_DIR/userbridge-helper" "$T/bin/fcap-helper"
setcap cap_net_admin+ep "$T/bin/fcap-helper"
install -m 0755 "$UB_BUILD_DIR/userbridge-helper" "$T/bin/plain-helper"
install -m 4755 "$UB_BUILD_DIR/userbridge-helper-faulty" "$T/bin/faulty-helper"
install -m 0755 "$UB_BUILD_DIR/userbridged-faulty" "$T/bin/faulty-daemon"
install -m 0755 "$UB_BUILD_DIR/userbridge" "$UB_BUILD_DIR/tests/ub-testtool" \
    "$UB_BUILD_DIR/tests/ub-c-client" "$UB_BUILD_DIR/userbridged" "$UB_BUILD_DIR/userbridge-client" \
    "$UB_BUILD_DIR/bench/ub-bench" "$T/bin/"
install -m 0755 "$UB_BUILD_DIR"/libuserbridge.so.* "$T/bin/"
if [ -x /usr/lib/qemu/qemu-bridge-helper ]; then
    install -m 4755 /usr/lib/qemu/qemu-bridge-helper "$T/bin/qemu-helper"
fi

"$T/bin/ub-testtool" syslog-sink /dev/log "$SYSLOG" &
BACKGROUND+=($!)
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.02; done
touch "$SYSLOG"

# journal_sink: a journald of our own, at its socket's path; what the
# daemon sends there (its records, as fields) goes to $JOURNAL.
JOURNAL=$T/journal
journal_sink() {
    mkdir -p /run/systemd/journal
    "$T/bin/ub-testtool" syslog-sink /run/systemd/journal/socket "$JOURNAL" &
    BACKGROUND+=($!)
    for _ in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
    touch "$JOURNAL"
}

# AS_ALICE: the command prefix, for commands that must come after another
# (ip netns exec, timeout).
AS_ALICE=(setpriv --reuid=$ALICE --regid=$ALICE --groups=$VMGROUP --)
as_alice() { "${AS_ALICE[@]}" "$@"; }
# hold_ns VAR [USER-PREFIX...]: a process (sleep) in a new user and network
# namespace of the user's (`unshare -rn`), its pid in VAR once it is in it.
hold_ns() {
    local var=$1
    shift
    "$@" unshare -rn sleep 120 &
    local pid=$!
    BACKGROUND+=($pid)
    for _ in $(seq 100); do
        [ "$(readlink /proc/$pid/ns/net 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
        sleep 0.02
    done
    printf -v "$var" %s "$pid"
}
as_bob() { setpriv --reuid=$BOB --regid=$BOB --clear-groups -- "$@"; }

# acl TEXT [FILE [MODE [OWNER]]]: write an ACL file under /etc/qemu.
acl() {
    local file=/etc/qemu/${2:-bridge.conf}
    printf '%b' "$1" >"$file"
    chmod "${3:-0644}" "$file"
    chown "${4:-root:root}" "$file"
}

# bridge NAME [MTU]: a bridge with an explicit MTU and a veth port, whose
# other end (NAME-peer) sees what crosses the bridge.
bridge() {
    ip link add "$1" type bridge
    ip link set "$1" mtu "${2:-1500}" up
    ip link add "$1-port" type veth peer name "$1-peer"
    ip link set "$1-port" master "$1" up
    ip link set "$1-peer" up
}

# nic_and_lan: a veth eth0 stands in for a NIC (a macvtap's lower
# device); its peer lan0, in a namespace of its own (lan), is the LAN, at
# 10.99.0.1.
nic_and_lan() {
    ip link add eth0 type veth peer name lan0
    ip netns add lan
    ip link set lan0 netns lan
    ip -n lan link set lo up
    ip -n lan addr add 10.99.0.1/24 dev lan0
    ip -n lan link set lan0 up
    ip link set eth0 up
}

taps() { ip -o link show type tun | awk -F': ' '{print $2}' | cut -d@ -f1; }
no_taps() { [ -z "$(taps)" ]; }
# on_bridge BRIDGE: a tap is on BRIDGE.
on_bridge() { [ -n "$(ip -o link show master "$1" type tun 2>/dev/null)" ]; }
# daemon_holds N: userbridged holds N fds or more (each connection it
# has accepted is one).
daemon_holds() { [ "$(ls "/proc/$DAEMON_PID/fd" 2>/dev/null | wc -l)" -ge "$1" ]; }
# queued N: N connections or more wait in the accept queue of userbridged's
# socket (the listener's Recv-Q).
queued() { [ "$(ss -Hxl src /run/userbridge.sock | awk '{print $3; exit}')" -ge "$1" ] 2>/dev/null; }
# stopped PID: PID is stopped (SIGSTOP has taken effect).
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
# fault_paused NAME: a process NAME of this test (in its network
# namespace) sleeps in its injected UB_FAULT=pause (the fault build's
# sleep(2): clock_nanosleep, 230, or nanosleep, 35, in /proc/PID/syscall);
# prints its pid.
fault_paused() {
    local p ours
    ours=$(readlink /proc/self/ns/net)
    for p in $(pgrep -x "$1"); do
        [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$ours" ] || continue
        case "$(cut -d' ' -f1 "/proc/$p/syscall" 2>/dev/null)" in 230 | 35) echo "$p" && return 0 ;; esac
    done
    return 1
}

PASSES=0
SKIPPED=0
pass() {
    echo "PASS: $*"
    PASSES=$((PASSES + 1))
}
fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}

# UB_CASE=REGEX runs one case: only the checks whose name matches REGEX
# (grep -E) run; the others are skipped, command and all. The script's
# set-up between checks still runs, so a check that builds on an earlier
# one needs a REGEX that matches both. wanted NAME says whether NAME runs;
# a helper that reports its own pass or fail asks it first.
wanted() {
    if [ -z "${UB_CASE:-}" ] || grep -qE -- "$UB_CASE" <<<"$1"; then return 0; fi
    SKIPPED=$((SKIPPED + 1))
    return 1
}

# check NAME CMD...: CMD must succeed.
check() {
    local name=$1
    shift
    wanted "$name" || return 0
    if "$@"; then pass "$name"; else fail "$name"; fi
}
# fails CMD...: succeeds when CMD fails (check NAME fails CMD...).
fails() { ! "$@"; }
# CMD | has ARGS...: grep ARGS matches a line of CMD's output. Not `grep -q`:
# it exits at the first match, and under pipefail a CMD that writes after
# that (`bridge fdb show` writes each entry on its own) dies of SIGPIPE and
# the pipeline fails: a match reads as none, now and then.
has() { grep "$@" >/dev/null; }
# soon CMD...: CMD succeeds within 3 s. userbridged writes a grant's record
# once its client has the tap, so a check of the log right after a grant
# must give it a moment.
soon() { within 3 "$@"; }
# within SECONDS CMD...: CMD succeeds within SECONDS (tried every 20 ms).
within() {
    local _i
    for _i in $(seq $(($1 * 50))); do "${@:2}" && return 0; sleep 0.02; done
    return 1
}
# Waits on what a background command says, each within soon's 3 s:
# granted FILE: its `ub-testtool call` has its tap (a line tap=...; the
# grant, nftables elements included, is done by then);
# listening FILE: its `ub-testtool listen` or `count` has its socket open.
granted() { soon grep -q '^tap=' "$1" || { echo "no tap in 3 s: $(head -c 300 "$1")"; return 1; }; }
listening() { soon grep -qE '^(listening|counting)$' "$1" || { echo "not listening in 3 s: $1"; return 1; }; }

# sent_frame_seen LISTENER-PID: run once the sender has returned. A frame
# written to a tap crosses the bridge (or is dropped) within the write
# itself (tun hands it to the bridge in the writer's context), so the
# listener has it, if ever, moments later: wait for it for at most 0.5 s
# (room for load and sanitizers), then stop it. A "does not cross" check
# then costs half a second, not the listener's whole timeout. Returns the
# listener's status (0: the marker was seen).
sent_frame_seen() {
    local pid=$1 i
    for i in $(seq 25); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    kill "$pid" 2>/dev/null
    wait "$pid"
}

# refused NAME EXPECTED-STDERR CMD...: CMD must fail, say EXPECTED-STDERR on
# stderr, must not be killed by a signal, and leave no tap behind.
refused() {
    local name=$1 want=$2
    shift 2
    wanted "$name" || return 0
    local rc=0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ $rc -eq 0 ]; then
        fail "$name: succeeded, expected: $want"
    elif [ $rc -gt 128 ] && [ $rc -lt 160 ]; then
        fail "$name: killed by signal $((rc - 128))"
    elif ! grep -qF -- "$want" "$T/err"; then
        fail "$name: stderr lacks '$want':"
        sed 's/^/    /' "$T/err"
    elif [ -n "$(taps)" ]; then
        fail "$name: taps left behind: $(taps | tr '\n' ' ')"
    else
        pass "$name: $(head -n1 "$T/err")"
    fi
}

# Watch for any tap being created, however briefly; no_tap_ever checks it.
watch_links() {
    ip -o monitor link >"$T/monitor" 2>&1 &
    MONITOR_PID=$!
    BACKGROUND+=($MONITOR_PID)
    monitor_mark
}
# monitor_mark: a veth pair made and deleted; returns once the monitor has
# reported it, so it is listening and has reported every earlier change
# (rtnetlink delivers a socket's events in order).
monitor_mark() {
    local i
    for i in $(seq 150); do
        ip link add ubmark type veth peer name ubmark-peer
        ip link del ubmark
        grep -q ubmark "$T/monitor" && return 0
        sleep 0.02
    done
    echo "the link monitor reports nothing"
    return 1
}
no_tap_ever() {
    monitor_mark
    kill "$MONITOR_PID" 2>/dev/null || true
    wanted "no tap was created at any moment" || return 0
    if grep -q 'tap' "$T/monitor"; then
        fail "a tap was created while refusing:"
        sed 's/^/    /' "$T/monitor"
    else
        pass "no tap was created at any moment"
    fi
}

# start_attacker MS PREDICT [leave]: ubbob's `ub-testtool mq-join` on new
# multiqueue taps, in the background (its output in $T/attacker); returns
# once it watches. stop_attacker ends it.
start_attacker() { start_tool_as $BOB mq-join "$@"; }
# start_tool_as UID CMD ARGS...: `ub-testtool CMD ARGS...` as UID, the same
# way: a command that prints "ready" once it watches.
start_tool_as() {
    # Not as_bob: $! must be the tool itself (setpriv execs it).
    setpriv --reuid="$1" --regid="$1" --clear-groups -- "$T/bin/ub-testtool" "${@:2}" >"$T/attacker" 2>&1 &
    ATTACKER=$!
    BACKGROUND+=($ATTACKER)
    for _ in $(seq 100); do grep -q ready "$T/attacker" && break; sleep 0.02; done
}
stop_attacker() {
    kill "$ATTACKER" 2>/dev/null || true
    wait "$ATTACKER" 2>/dev/null || true
}

# start_daemon [ARGS...]: userbridged in its own listening mode on the
# default socket; waits until it answers.
start_daemon() {
    "${DAEMON_BIN:-$T/bin/userbridged}" "$@" 2>>"$T/daemon.err" &
    DAEMON_PID=$!
    BACKGROUND+=($DAEMON_PID)
    for _ in $(seq 100); do [ -S /run/userbridge.sock ] && break; sleep 0.05; done
    if [ ! -S /run/userbridge.sock ]; then
        echo "userbridged did not start:"; cat "$T/daemon.err"
        return 1
    fi
    # The socket comes first; loading libnftables, dropping privilege and
    # the seccomp filter, its last step before serving, follow. Checks of
    # its state must not see it half-way (requests would only queue).
    for _ in $(seq 100); do
        grep -qP '^Seccomp:\t2$' /proc/$DAEMON_PID/status 2>/dev/null && return 0
        sleep 0.02
    done
    return 0
}
# start_activated_daemon CMD...: CMD started by systemd-socket-activate on
# the default socket, as userbridged.socket does it (mode 0666); stop_daemon
# stops it and removes the socket.
start_activated_daemon() {
    systemd-socket-activate -l /run/userbridge.sock "$@" 2>>"$T/daemon.err" &
    DAEMON_PID=$!
    BACKGROUND+=($DAEMON_PID)
    for _ in $(seq 100); do [ -S /run/userbridge.sock ] && break; sleep 0.05; done
    chmod 666 /run/userbridge.sock  # what the unit's SocketMode=0666 does
}
stop_daemon() {
    kill "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    rm -f /run/userbridge.sock
}
# reload_daemon: SIGHUP, and wait until the reload (or refusal) is logged.
reload_daemon() {
    local before
    before=$(grep -c 'SIGHUP' "$SYSLOG" || true)
    kill -HUP "$DAEMON_PID"
    for _ in $(seq 100); do
        [ "$(grep -c 'SIGHUP' "$SYSLOG" || true)" -gt "$before" ] && return 0
        sleep 0.02
    done
    echo "userbridged did not log a reload"
    return 1
}

finish() {
    if [ -n "${UB_CASE:-}" ]; then
        echo "UB_CASE=$UB_CASE: $((PASSES + FAILS)) check(s) run, $SKIPPED skipped"
        if [ $((PASSES + FAILS)) -eq 0 ]; then
            echo "no check matches UB_CASE=$UB_CASE"
            exit 1
        fi
    fi
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}

# use_guest: the tiny test guest (tests/guest, built by the guest.build
# test) and $T/bin/qemu, its QEMU command line but for its NIC: a script, so
# that setpriv and userbridge run can exec it. The guest sets GUEST_IP
# (default 10.99.0.2/24) on eth0, pings GUEST_PING (default 10.99.0.1), then
# stays up GUEST_STAY seconds if set.
use_guest() {
    command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
    local guest=${UB_GUEST_DIR:-$UB_BUILD_DIR/guest}
    [ -s "$guest/vmlinuz" ] || { echo "FAIL: no test guest in $guest (run tests/guest/build-guest.sh)"; exit 1; }
    install -m 644 "$guest/vmlinuz" "$guest/initrd.img" "$T/bin/"
    cat >"$T/bin/qemu" <<QEMU
#!/bin/sh
exec qemu-system-x86_64 -M q35 -m 256 -nographic -no-reboot -nodefaults -serial stdio \\
    -kernel $T/bin/vmlinuz -initrd $T/bin/initrd.img \\
    -append "console=ttyS0 quiet panic=-1 ub.ip=\${GUEST_IP:-10.99.0.2/24} ub.ping=\${GUEST_PING:-10.99.0.1} \${GUEST_STAY:+ub.stay=\$GUEST_STAY}" "\$@"
QEMU
    chmod 755 "$T/bin/qemu"
}

# boot NAME CMD...: run the guest (CMD, which execs $T/bin/qemu) as alice,
# watching br0's ports meanwhile; checks that it pinged, that its tap was on
# br0 while it ran and is gone after.
boot() {
    local name=$1
    shift
    : >"$T/ports"
    # A sample every 0.2 s: time passes, the guest's tap stays for seconds.
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

# debian_packages: sets DEBS, the directory of this tree's Debian packages:
# the ones the debian.build test made in this run (UB_DEB_DIR), or built
# here by packaging/build-deb.sh (with lintian, whose errors fail it).
# Returns non-zero if they could not be built.
debian_packages() {
    if ls "${UB_DEB_DIR:-/nonexistent}"/userbridge_*.deb >/dev/null 2>&1; then
        DEBS=$UB_DEB_DIR
        echo "using the packages debian.build made: $(cd "$DEBS" && ls ./*.deb | tr '\n' ' ')"
        return 0
    fi
    DEBS=$T/debs
    if ! bash "$(dirname "${BASH_SOURCE[0]}")/../../packaging/build-deb.sh" "$DEBS" >"$T/build.log" 2>&1; then
        cat "$T/build.log"
        fail "the packages build, and lintian reports no errors"
        return 1
    fi
    pass "the packages build, and lintian reports no errors"
    grep -E '^[WI]: ' "$T/build.log" | sed 's/^/    lintian: /' || true
}
