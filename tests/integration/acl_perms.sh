#!/bin/bash
# The same ACL files, the same callers, three ways: the setuid helper, the
# file-capability helper and userbridged (through userbridge-client, QEMU's
# way). The helpers read the ACL as the caller, so the kernel decides which
# includes count; the daemon must decide exactly as they do, for files root
# itself cannot read, POSIX ACL entries (named users, named groups) and
# directories the caller cannot search. Each case compares the outcome and
# the deciding rule of the three audit records.
source "$(dirname "$0")/lib.sh"

bridge br0
D=/run/userbridge.sock
Q=/etc/qemu

# /etc/qemu is the test's tmpfs: POSIX ACLs need CONFIG_TMPFS_POSIX_ACL.
command -v setfacl >/dev/null || { echo "SKIP: setfacl is not installed (package acl)"; exit 77; }
touch $Q/probe
setfacl -m u:$BOB:--- $Q/probe 2>/dev/null || { echo "SKIP: no POSIX ACLs on tmpfs here"; exit 77; }
rm -f $Q/probe

acl 'allow all\n'
start_daemon

# The audit records of decisions (not of taps that went away since).
decisions() { grep -E 'event=(grant|deny|error) ' "$SYSLOG" || true; }

# outcome WHO BR WAY: "grant RULE", "deny RULE" or "error", from the audit record
# this request made (the daemon writes its record once the caller's name is
# looked up, so it is waited for).
outcome() {
    local who=$1 br=$2 way=$3 h before line event rule
    case $way in
        setuid) h=$T/bin/setuid-helper ;;
        fcap) h=$T/bin/fcap-helper ;;
        daemon) h=$T/bin/userbridge-client ;;
    esac
    before=$(decisions | wc -l)
    $who "$T/bin/ub-testtool" call stream -- "$h" --use-vnet --fd=3 --br="$br" >/dev/null 2>"$T/err.$way" || true
    for _ in $(seq 100); do
        [ "$(decisions | wc -l)" -gt "$before" ] && break
        sleep 0.02
    done
    line=$(decisions | tail -n +$((before + 1)) | tail -n1)
    event=$(sed -nE 's/.* event=([a-z]+) .*/\1/p' <<<"$line")
    rule=$(sed -nE 's/.* rule="([^"]*)".*/\1/p' <<<"$line")
    echo "$event${rule:+ $rule}"
}

# case_ NAME WHO BR WANT: WANT is "grant RULE" or "deny RULE"; all three
# ways must give it, and leave no tap behind.
case_() {
    local name=$1 who=$2 br=$3 want=$4 s f d
    wanted "$name" || return 0
    s=$(outcome "$who" "$br" setuid)
    f=$(outcome "$who" "$br" fcap)
    d=$(outcome "$who" "$br" daemon)
    if [ "$s" = "$want" ] && [ "$f" = "$want" ] && [ "$d" = "$want" ]; then
        pass "$name: all three: $want"
    else
        fail "$name: expected '$want'; setuid helper: '$s', fcap helper: '$f', daemon: '$d'"
        sed 's/^/    daemon said: /' "$T/err.daemon"
    fi
    [ -z "$(taps)" ] || fail "$name: taps left behind"
}

# setup MAIN: the main ACL, then a reload (includes written before).
setup() {
    acl "$1"
    reload_daemon
}
M=$Q/bridge.conf

# (a) An include root itself cannot read (owner root, no owner bits), which
# the group can: the daemon, uid 0 without CAP_DAC_OVERRIDE, could not load
# it and skipped it for everyone; the helper read it as the member.
acl 'deny br0\n' lab.conf 0040 root:ubvm
setup "allow all\ninclude $Q/lab.conf\n"
case_ "(a) root:ubvm 0040 include: member denied by it" as_alice br0 "deny $Q/lab.conf:1"
case_ "(a) root:ubvm 0040 include: non-member, decided by the rest" as_bob br0 "grant $M:1"

# (b) A world-readable include with a POSIX ACL entry user:ubbob:---: the
# kernel refuses bob the read, mode bits say he may.
acl 'deny br0\n' acl-user.conf 0644
setfacl -m u:$BOB:--- $Q/acl-user.conf
setup "allow all\ninclude $Q/acl-user.conf\n"
case_ "(b) 0644 include, ACL user:ubbob:---: bob skips it" as_bob br0 "grant $M:1"
case_ "(b) 0644 include, ACL user:ubbob:---: alice denied by it" as_alice br0 "deny $Q/acl-user.conf:1"

# (c) A directory on the include's path that bob may not search.
mkdir -m 0750 $Q/lab && chown root:ubvm $Q/lab
acl 'deny br0\n' lab/inc.conf 0644
setup "allow all\ninclude $Q/lab/inc.conf\n"
case_ "(c) include in a 0750 root:ubvm directory: bob skips it" as_bob br0 "grant $M:1"
case_ "(c) include in a 0750 root:ubvm directory: alice denied by it" as_alice br0 "deny $Q/lab/inc.conf:1"
# ... and one root itself may not search (group search only).
chmod 0050 $Q/lab
reload_daemon
case_ "(c) include in a 0050 root:ubvm directory: alice denied by it" as_alice br0 "deny $Q/lab/inc.conf:1"
case_ "(c) include in a 0050 root:ubvm directory: bob skips it" as_bob br0 "grant $M:1"

# (d) A named group's ACL entry on a 0600 file: its mode bits then say
# 0640 root:root, and ubvm is not root's group.
acl 'deny br0\n' acl-group.conf 0600
setfacl -m g:ubvm:r $Q/acl-group.conf
setup "allow all\ninclude $Q/acl-group.conf\n"
case_ "(d) 0600 include, ACL group:ubvm:r: alice denied by it" as_alice br0 "deny $Q/acl-group.conf:1"
case_ "(d) 0600 include, ACL group:ubvm:r: bob skips it" as_bob br0 "grant $M:1"
# ... and a named user's entry that grants the read.
acl 'deny br0\n' acl-user.conf 0600
setfacl -m u:$BOB:r $Q/acl-user.conf
setup "allow all\ninclude $Q/acl-user.conf\n"
case_ "(d) 0600 include, ACL user:ubbob:r: bob denied by it" as_bob br0 "deny $Q/acl-user.conf:1"
case_ "(d) 0600 include, ACL user:ubbob:r: alice skips it" as_alice br0 "grant $M:1"

# (e) Nested: what an include includes counts only when the caller may read
# the whole chain; here the outer one is root-unreadable (as in (a)).
acl "include $Q/inner.conf\n" lab.conf 0040 root:ubvm
acl 'deny br0\n' inner.conf 0644
setup "allow all\ninclude $Q/lab.conf\n"
case_ "(e) include inside a root:ubvm 0040 include: alice denied by it" as_alice br0 "deny $Q/inner.conf:1"
case_ "(e) include inside a root:ubvm 0040 include: bob skips both" as_bob br0 "grant $M:1"

# (f) The main file with an ACL entry refusing bob: he is refused as the
# helper refuses him, with an error (no rule decides).
acl 'allow all\n'
setfacl -m u:$BOB:--- $M
reload_daemon
case_ "(f) main ACL unreadable through user:ubbob:---" as_bob br0 "error"
case_ "(f) ... others still read it" as_alice br0 "grant $M:1"
setfacl -b $M

# (g) A file replaced since the daemon loaded it: the daemon cannot know
# what it says now, so it refuses until reloaded, and says so.
acl 'deny br0\n' swap.conf 0644
setup "allow all\ninclude $Q/swap.conf\n"
acl 'allow br0\n' swap.new 0644
mv $Q/swap.new $Q/swap.conf
refused "(g) an include replaced since load: the daemon refuses, asking for a reload" \
    "changed since the ACL was loaded" as_alice "$T/bin/ub-testtool" daemon grant $D br0
reload_daemon
case_ "(g) ... and after a reload decides by the new file" as_alice br0 "grant $Q/swap.conf:1"

# After all that, the daemon wears its own identity again: root in every id,
# including the filesystem ones, its own groups, and CAP_NET_ADMIN
# alone effective.
st=/proc/$DAEMON_PID/status
check "between requests: uid and gid 0, filesystem ids too" \
    bash -c "grep -qP '^Uid:\t0\t0\t0\t0$' $st && grep -qP '^Gid:\t0\t0\t0\t0$' $st"
check "...its own groups (those it started with), not a caller's" \
    test "$(grep '^Groups:' $st)" = "$(grep '^Groups:' /proc/$$/status)"
check "...and CAP_NET_ADMIN alone effective" grep -qP '^CapEff:\t0000000000001000$' $st
stop_daemon

# A daemon that cannot take its own identity back must not serve on with
# the caller's: it exits (the fault makes the restore fail).
acl 'allow all\n'
UB_FAULT=fail@fs-restore DAEMON_BIN=$T/bin/faulty-daemon start_daemon
as_alice "$T/bin/ub-testtool" daemon grant $D br0 >/dev/null 2>&1 || true
rc=0
wait "$DAEMON_PID" || rc=$?
rm -f $D
check "a daemon that cannot take its own identity back exits (71) at once" test $rc -eq 71
check "...saying why" grep -q 'cannot take back our own identity' "$T/daemon.err"
check "no tap left" test -z "$(taps)"
finish
