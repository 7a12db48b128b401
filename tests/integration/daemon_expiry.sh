#!/bin/bash
# Expiry records: one per tap, once it is gone, for taps the daemon granted
# and taps the helper granted; none for a tap leaving its bridge.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon

# --- Expiry records: one per tap, once it is gone ---------------------------
# The kernel also says RTM_DELLINK (family AF_BRIDGE) when a port leaves its
# bridge: that is not the tap going away.
expiries() { grep -c 'event=expire' "$SYSLOG" || true; }
before=$(expiries)
as_alice "$TT" daemon grant $D >/dev/null
sleep 0.3
check "a daemon-granted tap, closed: one expiry record" test $(($(expiries) - before)) -eq 1
before=$(expiries)
as_alice "$TT" call stream -- "$T/bin/setuid-helper" --vm=expiry --fd=3 --br=br0 >/dev/null
sleep 0.3
check "a helper-granted tap, closed: one expiry record" test $(($(expiries) - before)) -eq 1
before=$(expiries)
as_alice "$TT" call stream --hold=1500 -- "$T/bin/userbridge-client" --fd=3 --br=br0 >/dev/null &
holder=$!
for _ in $(seq 50); do [ -n "$(taps)" ] && break; sleep 0.02; done
ip link set "$(taps | head -n1)" nomaster
sleep 0.3
check "a daemon-granted tap taken off its bridge while held: no expiry record" test "$(expiries)" -eq "$before"
wait $holder
sleep 0.3
check "...and one once it is closed" test $(($(expiries) - before)) -eq 1
stop_daemon

finish
