#!/bin/bash
# QEMU's own helper, still privileged on the host, reads our ACL too, but
# takes a deny's options as part of the interface name: `deny br0
# user=ubbob` denies it nothing (review item 31-3). userbridge check and
# userbridged warn, naming that helper's path and each such deny line, and
# say nothing once the helper is not privileged.
#
# Debian's helper, setuid ($T/bin/qemu-helper, lib.sh), is bound over
# /usr/lib/qemu/qemu-bridge-helper inside the test's mount namespace only;
# the host's file is never touched.
source "$(dirname "$0")/lib.sh"

[ -x "$T/bin/qemu-helper" ] || { echo "SKIP: Debian's qemu-bridge-helper is not installed"; exit 77; }
QEMU_PATH=/usr/lib/qemu/qemu-bridge-helper
UB=$T/bin/userbridge
bridge br0
acl 'deny br0 user=ubbob\nallow br0\n'

# call HELPER: ubbob asks HELPER for a tap on br0, as QEMU does.
call() { as_bob "$T/bin/ub-testtool" call stream -- "$1" --use-vnet --fd=3 --br=br0; }

# --- the premise ---------------------------------------------------------------
refused "premise: userbridge-helper refuses ubbob under 'deny br0 user=ubbob'" \
    "denied by /etc/qemu/bridge.conf:1" call "$T/bin/setuid-helper"
check "premise: QEMU's setuid helper grants ubbob a tap all the same" grep -q '^tap=' <(call "$T/bin/qemu-helper")
check "premise: ...which is gone with its fd" soon no_taps

mount --bind "$T/bin/qemu-helper" "$QEMU_PATH"

# --- privileged: both warn ----------------------------------------------------
rc=0
"$UB" check >"$T/out" 2>"$T/err" || rc=$?
check "check warns: names $QEMU_PATH and its setuid bit" \
    grep -qF "QEMU's bridge helper $QEMU_PATH is privileged (setuid root)" "$T/err"
check "check warns: says what to do" grep -qF "remove its privilege (chmod u-s $QEMU_PATH)" "$T/err"
check "check warns: names the deny at line 1" \
    grep -qF "warning: /etc/qemu/bridge.conf:1: 'deny br0 user=ubbob': QEMU's bridge helper takes 'br0 user=ubbob' for a name: it denies nothing by it" \
    "$T/err"
check "check warns: the ACL is still valid (exit 0)" test "$rc" = 0
check "check --json: the warning is in its warnings" \
    grep -qF "/etc/qemu/bridge.conf:1: 'deny br0 user=ubbob'" <("$UB" check --json)

start_daemon
check "userbridged logs the warning at start, naming $QEMU_PATH" \
    soon grep -qF "ACL: QEMU's bridge helper $QEMU_PATH is privileged (setuid root)" "$SYSLOG"
check "userbridged logs the deny at line 1" \
    grep -qF "ACL: /etc/qemu/bridge.conf:1: 'deny br0 user=ubbob': QEMU's bridge helper takes 'br0 user=ubbob' for a name: it denies nothing by it" "$SYSLOG"
warned() { grep -cF "is privileged (setuid root)" "$SYSLOG" || true; }
check "userbridged grants ubalice a tap under the same ACL" \
    grep -q '^tap=' <(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0)
check "userbridged warns once per start, not per request" test "$(warned)" = 1
reload_daemon
check "userbridged warns again on reload" test "$(warned)" = 2

# --- what else QEMU's helper reads otherwise -----------------------------------
# An include by a relative path: QEMU's helper opens it from its caller's
# directory, so ubbob writes the rules it reads (a second cold review).
mkdir -m 0755 "$T/bob"
chown "$BOB" "$T/bob"
printf 'allow all\n' >"$T/bob/lab.conf"
printf 'allow br1\n' >/etc/qemu/lab.conf
acl 'include lab.conf\n'
refused "relative include: userbridge-helper refuses ubbob br0" "no rule allows it" call "$T/bin/setuid-helper"
check "relative include: QEMU's helper, run from ubbob's directory, grants him br0" \
    grep -q '^tap=' <(cd "$T/bob" && call "$T/bin/qemu-helper")
soon no_taps || true
check "relative include: check warns, naming the line" \
    grep -qF "/etc/qemu/bridge.conf:1: 'include lab.conf': QEMU's bridge helper opens lab.conf from its caller's working directory" \
    <("$UB" check 2>&1)
# In an included file, a line QEMU 7.2 cannot parse (a name of 16 bytes or
# more) ends its reading of the file: the plain deny after it is lost.
printf 'allow br9 user=ubalice\ndeny br0\n' >/etc/qemu/lab.conf
acl 'allow all\ninclude /etc/qemu/lab.conf\n'
refused "an included file: userbridge-helper refuses ubbob br0 by its deny" "denied by /etc/qemu/lab.conf:2" \
    call "$T/bin/setuid-helper"
if grep -q '^tap=' <(call "$T/bin/qemu-helper"); then
    echo "    (this QEMU's helper stops reading lab.conf at line 1, and grants br0)"
fi
soon no_taps || true
check "an included file: check warns that QEMU's helper reads nothing more of it" \
    grep -qF "/etc/qemu/lab.conf:1: 'allow br9 user=ubalice': QEMU's bridge helper (7.2) cannot parse it and reads nothing more of this file: line 2's deny" \
    <("$UB" check 2>&1)
# A line longer than QEMU's 4,095-byte buffer: the rest is a line to it,
# here the tail of a comment (a third cold review).
printf '#%s allow all\n' "$(head -c 4093 /dev/zero | tr '\0' x)" >/etc/qemu/bridge.conf
refused "a long comment: userbridge-helper refuses ubbob br0" "no rule allows it" call "$T/bin/setuid-helper"
check "a long comment: QEMU's helper grants him br0 by its tail" grep -q '^tap=' <(call "$T/bin/qemu-helper")
soon no_taps || true
check "a long comment: check warns of it" \
    grep -qF "/etc/qemu/bridge.conf:1: '#xxxx" <("$UB" check 2>&1)
# A vertical tab, which userbridge takes for a space and QEMU 7.2 keeps in
# the name (a fourth cold review).
printf 'allow all\ndeny br0\v\n' >/etc/qemu/bridge.conf
refused "a vertical tab: userbridge-helper refuses ubbob br0" "denied by /etc/qemu/bridge.conf:2" \
    call "$T/bin/setuid-helper"
check "a vertical tab: QEMU's helper grants him br0" grep -q '^tap=' <(call "$T/bin/qemu-helper")
soon no_taps || true
check "a vertical tab: check warns of it" \
    grep -qF "/etc/qemu/bridge.conf:2: 'deny br0\\x0b': QEMU's bridge helper takes 'br0\\x0b' for a name" \
    <("$UB" check 2>&1)
acl 'deny br0 user=ubbob\nallow br0\n'

# --- not privileged: neither warns --------------------------------------------
# userbridged looks for the helpers as it starts (its filter allows no link
# read), so restarted.
chmod 0755 "$T/bin/qemu-helper"
check "helper 0755: check does not warn" fails grep -q "QEMU's bridge helper" <("$UB" check 2>&1)
stop_daemon
start_daemon
# Serving, so its ACL is loaded.
as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0 >/dev/null 2>&1 || true
check "helper 0755: userbridged, started again, does not warn" test "$(warned)" = 2
stop_daemon
umount "$QEMU_PATH"
finish
