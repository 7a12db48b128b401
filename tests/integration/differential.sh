#!/bin/bash
# Differential test: every ACL case whose meaning QEMU's helper shares is run
# against our helper and Debian's qemu-bridge-helper, both setuid, both called
# by the same QEMU-protocol client as the same unprivileged users. They must
# decide alike, and as the table says.
source "$(dirname "$0")/lib.sh"

[ -x "$T/bin/qemu-helper" ] || { echo "SKIP: Debian's qemu-bridge-helper is not installed"; exit 77; }
for b in br0 br1 br2; do bridge $b; done

# decides WHO BRIDGE HELPER: prints "allow" or "deny".
decides() {
    local who=$1 br=$2 helper=$3
    if $who "$T/bin/ub-testtool" call stream -- "$helper" --use-vnet --fd=3 --br="$br" >/dev/null 2>&1; then
        echo allow
    else
        echo deny
    fi
}

# case NAME WHO BRIDGE EXPECTED: the ACL files must already be written.
case_() {
    local name=$1 who=$2 br=$3 want=$4
    wanted "$name" || return 0
    local ours theirs
    ours=$(decides "$who" "$br" "$T/bin/setuid-helper")
    theirs=$(decides "$who" "$br" "$T/bin/qemu-helper")
    if [ "$ours" = "$want" ] && [ "$theirs" = "$want" ]; then
        pass "$name: both $want"
    else
        fail "$name: expected $want, userbridge-helper: $ours, qemu-bridge-helper: $theirs"
    fi
    [ -z "$(taps)" ] || fail "$name: taps left behind"
}

acl ''
case_ "empty ACL: default deny" as_alice br0 deny
acl '# only a comment\n\n'
case_ "comments and blank lines only" as_alice br0 deny
acl 'allow br0\n'
case_ "allow br0 grants br0" as_alice br0 allow
case_ "allow br0 does not grant br1" as_alice br1 deny
acl '  allow   br0  \n'
case_ "blanks around and between words" as_alice br0 allow
acl 'allow all\n'
case_ "allow all" as_bob br2 allow
acl 'allow all\ndeny br1\n'
case_ "allow all, deny br1: br1" as_alice br1 deny
case_ "allow all, deny br1: br2" as_alice br2 allow
acl 'deny br1\nallow all\n'
case_ "deny before allow all still wins" as_alice br1 deny
acl 'deny all\nallow br0\n'
case_ "deny all beats a later allow" as_alice br0 deny
acl 'allow br0\ndeny all\n'
case_ "deny all beats an earlier allow" as_alice br0 deny
acl 'allow br0\nallow br0\n'
case_ "duplicate allows" as_alice br0 allow
acl 'allow BR0\n'
case_ "names are case-sensitive" as_alice br0 deny
acl 'allow br\n'
case_ "no prefix matching" as_alice br0 deny
acl 'include /etc/qemu/inc.conf\n'
acl 'allow br1\n' inc.conf
case_ "rules from an absolute include" as_alice br1 allow
acl 'allow all\ninclude /etc/qemu/inc.conf\n'
acl 'deny br2\n' inc.conf
case_ "deny in an include beats allow all" as_alice br2 deny
acl 'include /etc/qemu/nothere.conf\nallow br0\n'
case_ "missing include is skipped" as_alice br0 allow
acl 'allow br0\ninclude /etc/qemu/group.conf\n'
acl 'allow br1\n' group.conf 0640 root:$VMGROUP
case_ "group-readable include: member granted" as_alice br1 allow
case_ "group-readable include: non-member skipped" as_bob br1 deny
case_ "group-readable include: main file still applies" as_bob br0 allow
acl 'include /etc/qemu/group.conf\n'
acl 'deny all\n' group.conf 0640 root:$VMGROUP
acl 'include /etc/qemu/group.conf\nallow br0\n'
case_ "unreadable deny all is skipped for non-members" as_bob br0 allow
case_ "readable deny all applies to members" as_alice br0 deny
acl 'allow br0\nbogus br0\n'
case_ "unknown keyword: fails closed" as_alice br0 deny
acl 'allow br0\nallow 1234567890123456\n'
case_ "16-byte name in the ACL: fails closed" as_alice br0 deny
acl 'allow all\n'
case_ "16-byte bridge requested (CVE-2019-13164)" as_alice 1234567890123456 deny
finish
