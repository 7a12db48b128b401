#!/bin/bash
# Fault injection and attacks on userbridge-helper. Uses the test-only build
# (userbridge-helper-faulty, setuid) that fails, dies or pauses at a named
# step when UB_FAULT=ACTION@POINT; after each: no tap left, no stray helper,
# and the caller sees a clear error.
source "$(dirname "$0")/lib.sh"

bridge br0
bridge br2
ip link add br-123456789012 type bridge  # 15 bytes: the longest valid name
ip link set br-123456789012 up
acl 'allow br0\nallow br-123456789012\nallow br2 max-taps=3\n'
F=$T/bin/faulty-helper
call() { as_alice "$T/bin/ub-testtool" call stream -- "$@"; }

# killed NAME RC CMD...: CMD must exit with RC (128+signal) and leave no tap.
killed() {
    local name=$1 want=$2 rc=0
    shift 2
    wanted "$name" || return 0
    "$@" >/dev/null 2>"$T/err" || rc=$?
    if [ "$rc" = "$want" ] && no_taps; then pass "$name (exit $rc, no tap)"; else fail "$name: exit $rc, want $want; taps: $(taps | tr '\n' ' ')"; fi
}

# Each step of the work: an error there, then death there.
for point in after-create after-setup after-no-ipv6 after-attach after-guard after-up before-send; do
    refused "fail@$point" "injected failure at $point" as_alice env UB_FAULT=fail@$point \
         "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br0
    killed "kill@$point" 137 as_alice env UB_FAULT=kill@$point \
         "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br0
done
# A quota is userbridged's (its lock and count: daemon_faults.sh): the
# helper refuses the rule as it decides, before any step of the act. (The
# helper sets no filter either, so has no after-pin.)
for point in after-create after-up; do
    refused "a max-taps= rule: refused before $point" "asks for max-taps=, which only userbridged does" \
        as_alice env UB_FAULT=fail@$point "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br2
done
check "...and no tap left" no_taps

# The caller kills its own helper as soon as the tap's fd arrives (kill(2)
# goes by the real uid, which a setuid helper keeps; pause@after-send
# widens the window the helper leaves on its own): the caller holds a
# working tap, so the record of the grant must already be out. (Killed
# before sending, the record may be out too, but no tap was given: the
# helper's last close deletes it, as the kill@ checks above show.)
as_alice env UB_FAULT=pause@after-send "$T/bin/ub-testtool" call stream --kill-on-fd -- "$F" --fd=3 --br=br0 \
    >"$T/out" 2>/dev/null || true
got_tap=$(sed -nE 's/^tap=([^ ]+).*/\1/p' "$T/out")
check "killed by its caller once the fd is out: the caller got a tap ($got_tap)" test -n "$got_tap"
check "...and its grant is on record" \
    grep -qE "userbridge-helper\[[0-9]+\]: event=grant user=ubalice .*tap=$got_tap " "$SYSLOG"

# Killed right after sending: the caller holds the fd but the helper failed;
# userbridge run must report it and drop the tap. (userbridge run gives the
# helper an empty environment, so a wrapper sets UB_FAULT.)
wrapper() {
    printf '#!/bin/sh\nexec env UB_FAULT=%s %s "$@"\n' "$1" "$F" >"$T/bin/fault-wrapper"
    chmod 755 "$T/bin/fault-wrapper"
}
wrapper kill@after-send
refused "kill@after-send through userbridge run" "failed (exit status 137)" \
    as_alice "$T/bin/userbridge" run --helper="$T/bin/fault-wrapper" -- true
wrapper fail@after-attach
refused "userbridge run reports an injected failure" "injected failure at after-attach" \
    as_alice "$T/bin/userbridge" run --helper="$T/bin/fault-wrapper" -- true

# seccomp: a syscall outside the allow-list kills the helper (SIGSYS).
killed "open() after the sandbox is killed by seccomp" $((128 + 31)) as_alice env UB_FAULT=syscall@after-seccomp \
     "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br0
check "a normal grant passes under seccomp" grep -q tap= <(call "$F" --fd=3 --br=br0)

# The ACL replaced between the checks and the read: we read what we checked.
acl 'allow br0\n'
acl 'allow all\n' evil.conf 0644 $ALICE:$ALICE
(soon fault_paused faulty-helper >/dev/null; mv /etc/qemu/evil.conf /etc/qemu/bridge.conf) &
swapper=$!
refused "ACL swapped after its checks: the checked file decides" "access to bridge br1 denied" \
    as_alice env UB_FAULT=pause@after-acl-open  "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br1
wait $swapper
refused "...and the swapped-in file is refused next time" "is not owned by root" call "$F" --fd=3 --br=br0
acl 'allow br0\nallow br-123456789012\n'

# Signals from the caller mid-run.
as_alice env UB_FAULT=pause@after-attach  "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br0 >"$T/out" 2>&1 &
caller=$!
soon fault_paused faulty-helper >/dev/null
# The helper itself (its command name), not the caller whose command line
# names it: the stop interrupts the helper's sleep, which the kernel resumes
# through restart_syscall, under the seccomp filter.
pid=$(fault_paused faulty-helper)
as_alice kill -STOP "$pid"
soon stopped "$pid"
as_alice kill -CONT "$pid"
rc=0
wait $caller || rc=$?
check "SIGSTOP/SIGCONT from the caller: the grant completes" test $rc -eq 0
check "...with a tap" grep -q tap= "$T/out"
as_alice env UB_FAULT=pause@after-attach  "$T/bin/ub-testtool" call stream -- "$F" --fd=3 --br=br0 >/dev/null 2>&1 &
caller=$!
soon fault_paused faulty-helper >/dev/null
as_alice kill -KILL "$(fault_paused faulty-helper)"
rc=0
wait $caller || rc=$?
check "SIGKILL from the caller mid-run: helper dies (137)" test $rc -eq 137
check "...and its half-made tap is gone" no_taps
check "no helper left running" bash -c '! pgrep -f "faulty-helper --fd=[3]"'

# Resource limits set by the caller.
# Tiny RLIMIT_NOFILE: at every limit, a clean success or a clear failure.
for n in 4 5 6 7 8; do
    rc=0
    as_alice "$T/bin/ub-testtool" call stream -- /usr/bin/prlimit --nofile=$n -- \
        "$T/bin/setuid-helper" --fd=3 --br=br0 >"$T/out" 2>"$T/err" || rc=$?
    if [ $rc -eq 0 ] && grep -q tap= "$T/out" && no_taps; then
        pass "RLIMIT_NOFILE $n: granted"
    elif [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ -s "$T/err" ] && no_taps; then
        pass "RLIMIT_NOFILE $n: $(head -n1 "$T/err")"
    else
        fail "RLIMIT_NOFILE $n: exit $rc, stderr: $(head -n1 "$T/err"), taps: $(taps)"
    fi
done
rc=0
as_alice bash -c "ulimit -f 0; exec \"\$0\" \"\$@\" 2>\"$T/work/stderr-file\"" \
    "$T/bin/ub-testtool" call stream -- "$T/bin/setuid-helper" --fd=3 --br=nosuch >/dev/null || rc=$?
check "RLIMIT_FSIZE 0 on stderr's file: exit 11 (the ACL refused), not SIGXFSZ" test $rc -eq 11

# Huge environment, and names at the limit.
big=$(head -c 1000 /dev/zero | tr '\0' x)
out=$(as_alice env $(for i in $(seq 1000); do echo "V$i=$big"; done) \
    "$T/bin/ub-testtool" call stream -- "$T/bin/setuid-helper" --fd=3 --br=br0)
check "1 MB of environment is ignored" grep -q tap= <<<"$out"
check "15-byte bridge name: granted" grep -q tap= <(call "$T/bin/setuid-helper" --fd=3 --br=br-123456789012)

# A caller in its own user and network namespace: the setuid bit gives no
# root there, and nothing appears in ours.
refused "caller in its own user+net namespace" "userbridge-helper:" \
    as_alice unshare --user --map-root-user --net \
    "$T/bin/ub-testtool" call stream -- "$T/bin/setuid-helper" --fd=3 --br=br0
check "no tap in our namespace after the namespaced caller" no_taps

# Privilege where it is used: while it reads the ACL and decides, the
# helper holds CAP_NET_ADMIN in its permitted set only; it is effective
# while the helper acts (the tap's ioctls and rtnetlink requests), and no
# other capability is anywhere, setuid or with file capabilities
# (SECURITY.md, review item 21-4).
install -m 0755 "$UB_BUILD_DIR/userbridge-helper-faulty" "$T/bin/faulty-fcap"
setcap cap_net_admin+ep "$T/bin/faulty-fcap"
# caps_at BINARY POINT: "CapEff CapPrm CapInh CapAmb" of the helper while
# it pauses at POINT (in its sleep, which /proc/PID/wchan shows).
caps_at() {
    local bin=$1 point=$2 pid="" sets="" _i
    as_alice env UB_FAULT=pause@$point "$T/bin/ub-testtool" call stream -- "$T/bin/$bin" --fd=3 --br=br0 \
        >/dev/null 2>&1 &
    local caller=$!
    for _i in $(seq 150); do
        pid=$(pgrep -x "$bin" || true)
        if [ -n "$pid" ] && grep -q nanosleep "/proc/$pid/wchan" 2>/dev/null; then
            sets=$(awk '/^Cap(Eff|Prm|Inh|Amb):/ {c[$1] = $2}
                END {print c["CapEff:"], c["CapPrm:"], c["CapInh:"], c["CapAmb:"]}' "/proc/$pid/status")
            break
        fi
        sleep 0.02
    done
    wait $caller || true
    echo "$sets"
}
none=0000000000000000
net_admin=0000000000001000  # bit 12, CAP_NET_ADMIN
for bin in faulty-helper faulty-fcap; do
    sets=$(caps_at $bin after-acl-open)
    check "$bin deciding: CAP_NET_ADMIN permitted only ($sets)" test "$sets" = "$none $net_admin $none $none"
    sets=$(caps_at $bin after-create)
    check "$bin acting: CAP_NET_ADMIN effective ($sets)" test "$sets" = "$net_admin $net_admin $none $none"
    check "...and no tap left" no_taps
done
finish
