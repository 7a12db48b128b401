#!/bin/bash
# Ways the daemon starts: socket activation with systemd's notify socket,
# and as nobody with only its four capabilities.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"

# --- Socket activation -------------------------------------------------------
# With systemd's notify socket too (the unit is Type=notify): a datagram
# socket of ours stands in for it, and must hear READY=1.
"$TT" syslog-sink "$T/work/notify" "$T/notified" &
BACKGROUND+=($!)
for _ in $(seq 50); do [ -S "$T/work/notify" ] && break; sleep 0.02; done
start_activated_daemon -E NOTIFY_SOCKET="$T/work/notify" "$T/bin/userbridged"
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0)
check "socket-activated daemon grants" grep -q '^tap=' <<<"$out"
check "...from the socket systemd passed" grep -q 'userbridged\[[0-9]*\]: event=grant' "$SYSLOG"
check "...and told systemd it is ready (READY=1 on NOTIFY_SOCKET)" grep -qx 'READY=1' "$T/notified"
stop_daemon

# --- Without root: its five capabilities (root-owned 0644 ACL files) --------
caps=+net_admin,+setuid,+setgid,+dac_read_search,+mknod
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=$caps --ambient-caps=$caps \
    "$T/bin/userbridged" --socket="$T/work/ub.sock" 2>>"$T/daemon.err" &
nonroot=$!
BACKGROUND+=($nonroot)
for _ in $(seq 100); do [ -S "$T/work/ub.sock" ] && break; sleep 0.05; done
check "daemon as nobody with only its five capabilities grants" grep -q '^tap=' <(as_alice "$TT" daemon grant "$T/work/ub.sock")
check "...its user database process has no capability left" \
    bash -c "! grep -E '^Cap(Inh|Prm|Eff|Amb):' /proc/$(pgrep -P $nonroot)/status | grep -qEv ':\s0{16}$'"
kill $nonroot 2>/dev/null || true
wait $nonroot 2>/dev/null || true
refused "without CAP_SETUID it will not start: it could not read as its callers" \
    "needs CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH and CAP_MKNOD" \
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin \
    "$T/bin/userbridged" --socket="$T/work/ub2.sock"
rm -f "$T/work/ub2.sock"

finish
