#!/bin/bash
# The helper and userbridged decide through one engine (src/grant/): one
# table of ACL files and requests, run through the setuid helper and through
# userbridged (userbridge-client, QEMU's way), as the same unprivileged
# users, must give the same decision and the same audit record, field by
# field. Run alone: UB_BUILD_DIR=build-ci bash tests/integration/grant_differential.sh
# (UB_CASE=REGEX: only the cases whose name matches).
#
# Fields that must differ, and are not compared:
#   the syslog prefix   time stamp and program[pid]: two processes, two moments
#   parent_pid, peer_pid  the helper names its parent, the daemon its peer
#   via, mode           which program granted, and how the helper was
#                       given privilege (the daemon has no such mode)
#   tap, mac            the tap's name (the helper's counts from its pid, the
#                       daemon's from 0) and its port MAC (random, fe:...)
# Not in the table: rules with a filter (mac=, mac-prefix=, ip=, rate=,
# servers=no), which only the daemon enforces, and auth=polkit, which only
# the daemon asks: there the two differ by design (userbridge-acl(5)).
# Nor, for the same reason, any other daemon-only option (max-taps=, whose
# quota only the daemon counts: policy_quota.sh; mode=, lease=),
# and above all not one with a malformed value: the helper reads no such
# value, so it refuses that rule only ("needs userbridged") and decides
# the file's other rules, where userbridged refuses the whole file (does
# not start, or keeps the ACL it had on a reload). That
# is the designed difference, tested on the helper's side by
# helper_daemon_only.sh ("The helper's reading", userbridge-acl(5)).
source "$(dirname "$0")/lib.sh"

for b in br0 br1; do bridge $b; done
acl ''
start_daemon

# record PROG BEFORE: the first grant, deny or error record PROG logged
# after line BEFORE of the log, without its prefix; waits for it (the daemon
# logs after its client has the tap). Others (the previous case's tap
# expiring, say) may land in between.
record() {
    local prog=$1 before=$2 line=""
    for _ in $(seq 150); do
        line=$(tail -n +"$((before + 1))" "$SYSLOG" | grep -m1 -E "$prog\[[0-9]+\]: event=(grant|deny|error) " || true)
        [ -n "$line" ] && break
        sleep 0.02
    done
    sed -E 's/^.*\]: (event=)/\1/' <<<"$line"
}

# fields RECORD: one key=value per line, without the fields that must differ.
fields() {
    grep -oE '[a-z_]+=("([^"\\]|\\.)*"|[^ ]*)' <<<"$1" |
        grep -vE '^(parent_pid|peer_pid|via|mode|tap|mac)=' || true
}

# ask WHO WAY ARGS...: runs the request; prints "grant" or "refused", and
# leaves the record in $T/rec.WAY.
ask() {
    local who=$1 way=$2 h=$T/bin/setuid-helper prog=userbridge-helper before
    shift 2
    if [ "$way" = daemon ]; then h=$T/bin/userbridge-client; prog=userbridged; fi
    # The stand-in for QEMU takes as many fds as it asked queues.
    local tool=() a
    for a in "$@"; do [[ $a == --queues=* ]] && tool+=("$a"); done
    before=$(wc -l <"$SYSLOG")
    if $who "$T/bin/ub-testtool" call stream "${tool[@]}" -- "$h" --fd=3 "$@" >/dev/null 2>"$T/err.$way"; then
        echo grant
    else
        echo refused
    fi
    record "$prog" "$before" >"$T/rec.$way"
}

# case NAME WANT-EVENT WHO ARGS...: the ACL files are written and loaded.
case_() {
    local name=$1 want=$2 who=$3 h d
    shift 3
    # UB_CASE=REGEX runs one case (lib.sh's wanted, where it has one).
    if declare -F wanted >/dev/null && ! wanted "$name"; then return 0; fi
    h=$(ask "$who" helper "$@")
    d=$(ask "$who" daemon "$@")
    local hr dr
    hr=$(cat "$T/rec.helper")
    dr=$(cat "$T/rec.daemon")
    if [ "$h" != "$d" ]; then
        fail "$name: helper: $h, daemon: $d"
        sed 's/^/    helper: /' "$T/err.helper"
        sed 's/^/    daemon: /' "$T/err.daemon"
    elif [ -z "$hr" ] || [ -z "$dr" ]; then
        fail "$name: a record is missing: helper '$hr', daemon '$dr'"
    elif ! grep -q "^event=$want " <<<"$hr" || { [ "$want" = grant ] && [ "$h" != grant ]; } ||
        { [ "$want" != grant ] && [ "$h" = grant ]; }; then
        fail "$name: expected $want, got $h and: $hr"
        sed 's/^/    helper: /' "$T/err.helper"
    elif ! diff <(fields "$hr") <(fields "$dr") >"$T/diff"; then
        fail "$name: the records differ (< helper, > daemon):"
        sed 's/^/    /' "$T/diff"
    else
        pass "$name: both $want, records alike"
    fi
    [ -z "$(taps)" ] || fail "$name: taps left behind: $(taps | tr '\n' ' ')"
}

# load TEXT: the main ACL, and userbridged reloads it.
load() {
    acl "$1"
    reload_daemon
}

load ''
case_ "empty ACL: the default deny" deny as_alice --br=br0 --use-vnet
load 'allow br0\n'
case_ "allow br0 grants br0" grant as_alice --br=br0 --use-vnet
case_ "allow br0, no vnet_hdr asked" grant as_alice --br=br0
case_ "allow br0 does not grant br1" deny as_alice --br=br1 --use-vnet
case_ "a VM name and two queues are recorded" grant as_alice --br=br0 --use-vnet --vm=web --queues=2
load 'allow all\ndeny br1\n'
case_ "allow all, deny br1: br1" deny as_alice --br=br1
case_ "allow all: a bridge that does not exist" error as_alice --br=nosuchbr
load 'deny br0 user=ubalice\nallow all\n'
case_ "a deny for the user beats allow all" deny as_alice --br=br0
case_ "the deny is for the user only" grant as_bob --br=br0
load 'allow br0 group=ubvm\n'
case_ "group=: a member" grant as_alice --br=br0
case_ "group=: not a member" deny as_bob --br=br0
load 'allow br0 user=ubbob\n'
case_ "user=: another user" deny as_alice --br=br0
case_ "user=: the user" grant as_bob --br=br0
# An include readable by group ubvm only: the helper reads it as the
# caller; the daemon asks the kernel with the caller's identity on.
acl 'allow br0\n' vm.conf 0640 root:$VMGROUP
load 'include /etc/qemu/vm.conf\n'
case_ "an include the caller may read" grant as_alice --br=br0
case_ "an include the caller may not read" deny as_bob --br=br0
rm /etc/qemu/vm.conf
load 'allow br0 max-queues=1\n'
case_ "max-queues=1: one queue" grant as_alice --br=br0 --queues=1
case_ "max-queues=1: two queues" deny as_alice --br=br0 --queues=2

stop_daemon
finish
