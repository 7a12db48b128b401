#!/bin/bash
# Ninth and tenth outside reviews (docs/SECURITY.md, items 32-N) where no
# other script fits. 32-2: a bridge's alternative name (altname) led every
# front end to the bridge while the ACL judged the name asked for, so a
# deny of the bridge's name was had through the other.
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^altname' .
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
bridge br0
bridge br1
ip link property add dev br1 altname lanbridge
acl 'deny br1\nallow all\n'
start_daemon

# got FRONT BRIDGE: ubbob asks FRONT (a helper, or userbridge-client) for a
# tap on BRIDGE, as QEMU does; what it says is in $T/out.
got() { as_bob "$TT" call stream -- "$1" --fd=3 --br="$2" >"$T/out" 2>&1; }
for front in setuid-helper fcap-helper userbridge-client; do
    check "altname: $front: br1 is denied by its name" fails got "$T/bin/$front" br1
    check "altname: $front: ...and by its alternative name, lanbridge" fails got "$T/bin/$front" lanbridge
    check "altname: $front: ...which it says does not exist" grep -q 'bridge lanbridge does not exist' "$T/out"
    check "altname: $front: no tap on br1" test -z "$(ip -o link show master br1 type tun)"
done
check "altname: br0 is granted as before" got "$T/bin/setuid-helper" br0
check "no tap left behind" soon no_taps
finish
