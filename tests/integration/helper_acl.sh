#!/bin/bash
# The ACL files as the helper reads them for real: QEMU's semantics across
# included files, per-user policy through file permissions, and every unsafe
# file refused with its path, failing closed.
source "$(dirname "$0")/lib.sh"

bridge br0
bridge br1
bridge br2
H=$T/bin/setuid-helper
grant() { "$@" "$T/bin/ub-testtool" call stream -- "$H" --fd=3 --br="$BR"; }
granted() { local who=$1; BR=$2; grant "$who" >/dev/null 2>"$T/err"; }
denied() { local who=$1; BR=$2; ! grant "$who" >/dev/null 2>"$T/err" && grep -q 'denied' "$T/err"; }

# Per-user policy through permissions: vm.conf is readable only by group
# 4800 (alice is in it, bob is not); an unreadable include is skipped.
acl 'allow br0\ninclude vm.conf\n'
acl 'allow br1\n' vm.conf 0640 root:$VMGROUP
check "alice may use br0" granted as_alice br0
check "bob may use br0" granted as_bob br0
check "alice may use br1 (group-readable include)" granted as_alice br1
check "bob may not use br1 (include unreadable for him, skipped)" denied as_bob br1
check "nobody may use br2 (default deny)" denied as_alice br2

# Deny wins, across files, in either order.
acl 'allow all\ninclude deny.conf\n'
acl 'deny br1\n' deny.conf
check "allow all + deny br1 in an include: br1 denied" denied as_alice br1
check "allow all + deny br1 in an include: br2 allowed" granted as_alice br2
acl 'deny all\nallow br0\n'
check "deny all beats allow br0" denied as_alice br0

# Relative includes resolve against the including file's directory, never
# the caller's working directory.
mkdir -p /etc/qemu/d "$T/work/d"
acl 'include d/inner.conf\n'
acl 'allow br2\n' d/inner.conf
printf 'allow all\n' >"$T/work/d/inner.conf"
check "relative include found next to the including file" \
    bash -c "cd '$T/work' && exec \"\$0\" \"\$@\"" setpriv --reuid=$ALICE --regid=$ALICE --clear-groups \
    "$T/bin/ub-testtool" call stream -- "$H" --fd=3 --br=br2
check "relative include not taken from the working directory" \
    bash -c "cd '$T/work' && ! \"\$0\" \"\$@\" 2>/dev/null" setpriv --reuid=$ALICE --regid=$ALICE --clear-groups \
    "$T/bin/ub-testtool" call stream -- "$H" --fd=3 --br=br1

watch_links
call() { as_alice "$T/bin/ub-testtool" call stream -- "$H" --fd=3 --br=br0; }
acl 'allow br0\n' bridge.conf 0664
refused "group-writable ACL" "/etc/qemu/bridge.conf is writable by group or others; refusing it" call
acl 'allow br0\n' bridge.conf 0646
refused "world-writable ACL" "/etc/qemu/bridge.conf is writable by group or others; refusing it" call
acl 'allow br0\n' bridge.conf 0644 $ALICE:$ALICE
refused "ACL owned by the user" "/etc/qemu/bridge.conf is not owned by root (owner uid $ALICE)" call
acl 'allow br0\ninclude user.conf\n'
acl 'allow all\n' user.conf 0644 $ALICE:$ALICE
refused "included file owned by the user" "/etc/qemu/user.conf is not owned by root" call
acl 'allow br0\ninclude lax.conf\n'
acl 'allow all\n' lax.conf 0666
refused "included file writable by others" "/etc/qemu/lax.conf is writable by group or others" call
rm -f /etc/qemu/bridge.conf
acl 'allow br0\n' real.conf
ln -s real.conf /etc/qemu/bridge.conf
refused "ACL is a symlink" "/etc/qemu/bridge.conf is a symbolic link; refusing it" call
rm -f /etc/qemu/bridge.conf
acl 'allow all\n' alice-owned.conf 0644 $ALICE:$ALICE
ln /etc/qemu/alice-owned.conf /etc/qemu/bridge.conf
refused "ACL hard-linked to a user's file" "is not owned by root (owner uid $ALICE)" call
rm -f /etc/qemu/bridge.conf
mkfifo -m 644 /etc/qemu/bridge.conf
refused "ACL is a FIFO (no hang)" "/etc/qemu/bridge.conf is not a regular file" call
rm -f /etc/qemu/bridge.conf
refused "ACL missing" "cannot open /etc/qemu/bridge.conf: No such file or directory" call
acl 'allow br0\n' bridge.conf 0600
refused "ACL unreadable by the caller" "cannot open /etc/qemu/bridge.conf: Permission denied" call
acl 'allow br0\nallow\n'
refused "syntax error" "userbridge-helper: /etc/qemu/bridge.conf:2: 'allow' needs an argument" call
acl 'allow br0\ninclude bad.conf\n'
acl '# fine\nallow br0 # lab\n' bad.conf
refused "syntax error in an include" "/etc/qemu/bad.conf:2: '#': expected key=value" call
acl 'allow br0\ninclude loop.conf\n'
acl 'include bridge.conf\n' loop.conf
refused "include cycle" "/etc/qemu/bridge.conf: include cycle" call
for i in $(seq 0 9); do acl "include n$((i + 1)).conf\n" n$i.conf; done
acl 'allow br0\n' n10.conf
acl 'include n0.conf\n'
refused "include depth" "includes nested deeper than 8 levels" call
head -c $((5 << 20)) /dev/zero | tr '\0' '#' >/etc/qemu/bridge.conf
refused "oversized ACL" "is larger than 4194304 bytes; refusing it" call
no_tap_ever

# QEMU's helper takes the group-writable file we refuse above.
if [ -x "$T/bin/qemu-helper" ]; then
    acl 'allow br0\n' bridge.conf 0666
    check "for comparison: Debian's helper accepts a world-writable ACL" \
        grep -q tap= <(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/qemu-helper" --fd=3 --br=br0)
fi
finish
