#!/bin/bash
# Whom rules are for, end to end with real users in different groups:
# user= and group= rules, deny winning, and the deciding rule in the denial's
# audit record; setuid and file-capability helpers alike.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# --- whom rules are for ---------------------------------------------------
for mode in setuid fcap; do
    helper=$T/bin/$mode-helper
    check "$mode: ubalice (group ubvm) may use br0" \
        grep -q 'tap=tap' <(as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0)
    refused "$mode: ubbob (not in ubvm) may not use br0" \
        "access to bridge br0 denied: no rule allows it (the default is deny)" \
        as_bob "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br0
    refused "$mode: deny user=ubalice wins over allow br1" \
        "access to bridge br1 denied: denied by /etc/qemu/bridge.conf:2" \
        as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br1
    check "$mode: ubbob may use br1" \
        grep -q 'tap=tap' <(as_bob "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br1)
    check "$mode: ubbob may use br2 (user=ubbob)" \
        grep -q 'tap=tap' <(as_bob "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br2)
    refused "$mode: ubalice may not use br2" "access to bridge br2 denied" \
        as_alice "$T/bin/ub-testtool" call stream -- "$helper" --fd=3 --br=br2
done
check "denials are logged with the deciding rule" \
    grep -qE 'event=deny user=ubalice uid=4711 parent_pid=[0-9]+ bridge="br1" rule="/etc/qemu/bridge.conf:2" via=helper detail="denied by /etc/qemu/bridge.conf:2"' "$SYSLOG"

finish
