#!/bin/bash
# journald keeps a unit's messages of one priority up to a burst in each
# interval (RateLimitBurst=, 10,000 in 30 s by default) and drops the
# rest, whoever they are about. A user who floods userbridged with refused
# requests must not push another user's records out of the journal:
# denies, revokes and releases are all of one priority (docs/SECURITY.md,
# review item 32-1). A real systemd-journald with its default rate limit,
# and userbridged in a cgroup named as a unit, which is what journald
# limits by.
source "$(dirname "$0")/lib.sh"

bridge br0
bridge br1
acl 'deny br1 user=ubalice\nallow br1\nallow br0 lease=1h\n'
D=/run/userbridge.sock
TT=$T/bin/ub-testtool

# The cgroup hierarchies journald reads a sender's unit from, where the
# host has them (the sandbox's fresh /sys shows none): the unified one
# alone, or systemd's own (name=systemd) with the unified one beside it.
# The unit's cgroup is made in each, and removed at the end.
UNIT=ub-test-${T##*.}.service
CG=/sys/fs/cgroup
CGDIRS=()
if [ "$(grep -c . /proc/self/cgroup)" = 1 ] && grep -q '^0::' /proc/self/cgroup; then
    mount -t cgroup2 cgroup2 $CG
    CGDIRS+=("$CG/$UNIT")
else
    mount -t tmpfs -o mode=755 tmpfs $CG
    mkdir $CG/systemd
    mount -t cgroup -o none,name=systemd cgroup $CG/systemd
    CGDIRS+=("$CG/systemd/$UNIT")
    if grep -q '^0::' /proc/self/cgroup; then
        mkdir $CG/unified
        mount -t cgroup2 cgroup2 $CG/unified
        CGDIRS+=("$CG/unified/$UNIT")
    fi
fi
for d in "${CGDIRS[@]}"; do mkdir "$d"; done
cat >"$T/bin/in-unit" <<EOF
#!/bin/sh
for d in ${CGDIRS[*]}; do echo \$\$ >"\$d/cgroup.procs"; done
exec "\$@"
EOF
chmod 755 "$T/bin/in-unit"

# journald's defaults but for where it writes: only to /run (this
# sandbox's), and nothing read from or sent to elsewhere.
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nAudit=no\nForwardToSyslog=no\nForwardToWall=no\n' >"$T/journald.conf"
mount --bind "$T/journald.conf" /etc/systemd/journald.conf
mkdir -p /run/systemd/journal /run/log/journal
JD_PID=
flood_cleanup() {
    local rc=$?
    stop_daemon
    if [ -n "$JD_PID" ]; then kill "$JD_PID" 2>/dev/null; wait "$JD_PID" 2>/dev/null; fi
    for d in "${CGDIRS[@]}"; do rmdir "$d" 2>/dev/null; done
    umount -R $CG 2>/dev/null
    umount /etc/systemd/journald.conf 2>/dev/null
    return $rc
}
trap 'flood_cleanup; ub_cleanup' EXIT
/lib/systemd/systemd-journald 2>"$T/journald.err" &
JD_PID=$!
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
journal() { journalctl -D /run/log/journal --no-pager -o cat "$@" 2>/dev/null; }

DAEMON_BIN=$T/bin/in-unit start_daemon "$T/bin/userbridged"
as_alice "$TT" daemon grant $D br0 >/dev/null
unit_of_records() { journal USERBRIDGE_EVENT=grant _SYSTEMD_UNIT="$UNIT" | grep -q "uid=$ALICE"; }
check "journald names userbridged's unit, $UNIT, in its records" soon unit_of_records

# ubbob, whom no rule names for anything, sends requests of garbage as fast
# as two threads can, each refused and recorded; then, within journald's
# interval, ubalice is denied br1, and takes and releases a lease on br0.
as_bob "$TT" daemon bad-flood $D 4000 2 >"$T/flood.out"
echo "    ubbob: $(cat "$T/flood.out")"
rc=0
as_alice "$TT" daemon grant $D br1 >"$T/deny.out" 2>&1 || rc=$?
check "ubalice is denied br1" test $rc -ne 0
as_alice "$T/bin/userbridge" lease --br=br0 --name=fl0 --for=10m >"$T/lease.out" 2>&1
as_alice "$T/bin/userbridge" release fl0 >"$T/release.out" 2>&1

check "ubalice's deny is in the journal, after ubbob's flood" \
    soon bash -c "journal() { journalctl -D /run/log/journal --no-pager -o cat \"\$@\"; }
                  journal USERBRIDGE_EVENT=deny USERBRIDGE_UID=$ALICE | grep -q 'bridge=\"br1\"'"
check "...and so is her release" \
    soon bash -c "journalctl -D /run/log/journal --no-pager -o cat USERBRIDGE_EVENT=release | grep -q 'uid=$ALICE .*fl0'"
bob_records=$(journal USERBRIDGE_UID=$BOB | wc -l)
echo "    ubbob's records in the journal: $bob_records"
check "ubbob's refusals were recorded up to his bound (30), not each" test "$bob_records" -le 30 -a "$bob_records" -ge 1
# The rest are counted, and the count is logged as his window ends, or as
# userbridged stops.
stop_daemon
check "...and the rest were counted, in one line" \
    grep -qE "userbridged.*did not record [0-9]+ more refused requests of uid $BOB" "$SYSLOG"

finish
