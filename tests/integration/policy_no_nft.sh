#!/bin/bash
# Without libnftables: pinning and rate rules refused with a clear message
# by the helper and by userbridged, while other grants go on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# --- Without libnftables: pinning is refused, clearly; the rest still works --
# The library made unloadable in this test's mount namespace only.
lib=$(readlink -f "$(ldconfig -p | awk '/libnftables\.so\.1 / {print $NF; exit}')")
: >"$T/not-a-library.so"
mount --bind "$T/not-a-library.so" "$lib"
acl 'allow br0 mac=52:54:00:12:34:56\nallow br1\n'
# without_nft WHO CALLER MESSAGE: a pinning rule refused with MESSAGE, and
# a rule that pins nothing still granted.
without_nft() {
    local who=$1 caller=$2 want=$3
    refused "$who without libnftables refuses a rule that pins a MAC" "$want" \
        as_alice "$T/bin/ub-testtool" call stream -- "$caller" --fd=3 --br=br0
    check "...and still grants where the rule pins nothing" \
        grep -q '^tap=' <(as_alice "$T/bin/ub-testtool" call stream -- "$caller" --fd=3 --br=br1)
}
without_nft "the helper" "$setuid" "MAC pinning and rate limits need libnftables (package libnftables1)"
start_daemon
check "the daemon starts without libnftables and says what will fail" \
    grep -q 'rules with mac=, mac-prefix= or rate= will fail' "$SYSLOG"
without_nft "the daemon" "$client" "the ACL pins a MAC, but userbridged runs without libnftables"
acl 'allow br0 rate=400kbit\nallow br1\n'
reload_daemon
refused "the daemon without libnftables refuses a rule with a rate" \
    "the ACL sets a rate, but userbridged runs without libnftables" \
    as_alice "$T/bin/ub-testtool" call stream -- "$client" --fd=3 --br=br0
refused "...and so does the helper" "MAC pinning and rate limits need libnftables" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --fd=3 --br=br0
stop_daemon
umount "$lib"

finish
