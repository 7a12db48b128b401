#!/bin/bash
# Grants through the daemon decide exactly as the helper does: one table of
# ACLs and callers, run both ways; group membership is the caller's running
# groups. One difference, on purpose (review item 29-2): the daemon also
# counts the groups the group database lists the caller's account in,
# which its callers can drop in a user namespace of their own (the
# helper's cannot: there it has no privilege).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon

# --- The shared table: the same ACL, the same callers, both ways ----------
# way: "helper" (setuid helper) or "daemon" (userbridge-client, QEMU's way)
decides() {
    local who=$1 br=$2 way=$3 h=$T/bin/setuid-helper
    [ "$way" = daemon ] && h=$T/bin/userbridge-client
    if $who "$T/bin/ub-testtool" call stream -- "$h" --use-vnet --fd=3 --br="$br" >/dev/null 2>"$T/err"; then
        echo allow
    else
        echo deny
    fi
}
# case_ NAME WHO BRIDGE WANT [DAEMON_WANT]: the daemon's answer, where it
# differs on purpose.
case_() {
    local name=$1 who=$2 br=$3 want=$4 dwant=${5:-$4} h d
    wanted "$name" || return 0
    h=$(decides "$who" "$br" helper)
    d=$(decides "$who" "$br" daemon)
    if [ "$h" = "$want" ] && [ "$d" = "$dwant" ]; then pass "$name: helper $want, daemon $dwant"; else
        fail "$name: expected helper $want, daemon $dwant; helper: $h, daemon: $d ($(cat "$T/err"))"; fi
    [ -z "$(taps)" ] || fail "$name: taps left behind"
}
table 'allow br0\n'
case_ "allow br0" as_alice br0 allow
case_ "default deny" as_alice br1 deny
table 'allow all\ndeny br1\n'
case_ "deny wins over allow all" as_bob br1 deny
case_ "allow all" as_bob br2 allow
table 'allow br0\ninclude /etc/qemu/vm.conf\n' 'allow br1\n'
case_ "group include: member (ubvm)" as_alice br1 allow
case_ "group include: non-member" as_bob br1 deny
case_ "group include: main rules for all" as_bob br0 allow
table 'include /etc/qemu/vm.conf\nallow br2\n' 'deny all\n'
case_ "group deny all: member denied" as_alice br2 deny
case_ "group deny all: non-member allowed" as_bob br2 allow
# Group membership is the groups the caller's process runs with (the
# kernel's, SO_PEERGROUPS for the daemon), and for the daemon the group
# database's too: ubalice is listed in ubvm but runs without it here,
# ubbob is not listed but runs with it.
as_alice_ungrouped() { setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- "$@"; }
as_bob_in_vm() { setpriv --reuid=$BOB --regid=$BOB --groups=$VMGROUP -- "$@"; }
case_ "group deny all: listed in the database, not running with it" as_alice_ungrouped br2 allow deny
case_ "group deny all: running with the group, not listed" as_bob_in_vm br2 deny
table 'allow br0\ninclude /etc/qemu/vm.conf\n' 'allow br1\n'
case_ "group include: listed in the database, not running with it" as_alice_ungrouped br1 deny
case_ "group include: running with the group, not listed" as_bob_in_vm br1 allow
table 'deny br2 group=ubvm\nallow all\n'
case_ "deny group=: running with the group, not listed" as_bob_in_vm br2 deny
case_ "deny group=: listed in the database, not running with it" as_alice_ungrouped br2 allow deny
table 'allow br2 group=ubvm\n'
case_ "allow group=: running with the group, not listed" as_bob_in_vm br2 allow
case_ "allow group=: listed in the database, not running with it" as_alice_ungrouped br2 deny allow
table 'allow br0\n' ''
chmod 0600 /etc/qemu/bridge.conf
reload_daemon
case_ "ACL unreadable by the caller" as_alice br0 deny
table 'allow br0\n'
stop_daemon

finish
