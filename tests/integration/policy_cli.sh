#!/bin/bash
# userbridge check, explain and status on the policy's ACL.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# --- check, explain, status ---------------------------------------------------
check "check: the installed ACL is valid" grep -q 'bridge.conf: OK (6 rules in 1 file)' <("$ub" check)
acl 'allow br0 frob=1\nallow br 0\ninclude sub.conf\nwhat\n' candidate.conf
acl 'deny br0 user=ghost\nallow br0 group=nosuch\n' sub.conf
"$ub" check /etc/qemu/candidate.conf >"$T/out" 2>"$T/err" && fail "check: a bad file passes" || true
for want in "candidate.conf:1: unknown option 'frob'" "candidate.conf:2: '0': expected key=value" \
    "sub.conf:1: user ghost does not exist; a deny rule must not lapse" \
    "warning: /etc/qemu/sub.conf:2: group nosuch does not exist; the rule matches nobody" \
    "candidate.conf:4: 'what' needs an argument" "candidate.conf: 4 problems"; do
    check "check reports: $want" grep -qF "$want" "$T/err"
done
# Group entries past the lookups' first buffers: one of about 200 KiB is
# read (the buffer grows), one past the 1 MiB bound is not, and a deny
# naming it refuses the ACL rather than lapse. The group file is restored
# in place (it is bound over /etc/group).
cp "$T/group" "$T/group.saved"
printf 'ubbig:x:4801:%subalice\n' "$(printf 'ubfiller%06d,' $(seq 13000))" >>"$T/group"
printf 'ubhuge:x:4802:%s\n' "$(printf 'ubfiller%06d,' $(seq 75000) | head -c -1)" >>"$T/group"
acl 'allow br0 group=ubbig\n' big.conf
out=$("$ub" check /etc/qemu/big.conf 2>&1)
check "a group entry of $(grep ^ubbig: "$T/group" | wc -c) bytes is read" \
    grep -qF 'big.conf: OK (1 rule in 1 file)' <<<"$out"
check "...so no warning says the group does not exist" fails grep -q 'does not exist' <<<"$out"
acl 'deny br0 group=ubhuge\nallow br0\n' huge.conf
refused "a deny naming a group past the 1 MiB lookup bound refuses the ACL" \
    "huge.conf:1: cannot look up group ubhuge: its entry is larger than 1 MiB; a deny rule must not lapse" \
    "$ub" check /etc/qemu/huge.conf
cat "$T/group.saved" >"$T/group"
acl 'allow br0\n' loose.conf 0666
refused "check: a world-writable file" "loose.conf is writable by group or others" "$ub" check /etc/qemu/loose.conf
refused "check: a missing file" "cannot open /etc/qemu/none.conf" "$ub" check /etc/qemu/none.conf
# max-taps= is userbridged's: check and explain say the helper refuses it.
acl 'allow br0 user=ubalice max-taps=2\n' quota.conf
out=$("$ub" check /etc/qemu/quota.conf 2>&1)
check "check: a max-taps= rule needs userbridged" \
    grep -qF "quota.conf:1: 'allow br0 user=ubalice max-taps=2' needs userbridged: it counts a quota (max-taps=); the helper refuses it" <<<"$out"
quota_acl
check "explain: a max-taps= rule, only through userbridged" \
    grep -qF '; only through userbridged (userbridge-client, userbridge run): the helper refuses max-taps=' \
    <("$ub" explain --user=ubalice --br=br0)
out=$("$ub" explain --user=ubalice --br=br1)
check "explain: names the deny that decides" \
    grep -qF '/etc/qemu/bridge.conf:2: deny br1 user=ubalice: applies (for user ubalice), DECIDES' <<<"$out"
check "explain: and the allow it beats" \
    grep -qF '/etc/qemu/bridge.conf:3: allow br1: applies (for everyone), but a deny wins' <<<"$out"
refused "explain: an unknown user" "no such user: nobody-here" "$ub" explain --user=nobody-here --br=br0
refused "explain: a uid beyond any uid" "no such user: 99999999999999999999" \
    "$ub" explain --user=99999999999999999999 --br=br0
check "explain: a numeric uid names the user" \
    grep -q "^user ubalice (uid $ALICE), bridge br0:" <("$ub" explain --user=$ALICE --br=br0)
refused "explain: a bad bridge name" "bridge name 'a/b' contains '/'" "$ub" explain --br=a/b
refused "explain: no bridge" "explain: --br=BRIDGE is required" "$ub" explain
# A user the group database lists in a group their process does not run
# with (added since they logged in): userbridged counts it (review item
# 29-2). Explaining himself, ubbob cannot have the files read with it
# (that needs root), and is told so rather than refused. The group file is
# rewritten in place (it is bound over /etc/group).
cp "$T/group" "$T/group.saved"
with_bob=$(sed 's/^\(ubvm:.*\)$/\1,ubbob/' "$T/group.saved")
printf '%s\n' "$with_bob" >"$T/group"
out=$(as_bob "$ub" explain --br=br0 2>&1) || true
cat "$T/group.saved" >"$T/group"
check "explain: a group the database adds counts for ubbob's rules ($(head -n2 <<<"$out" | tail -n1))" \
    grep -qE "^  /etc/qemu/bridge.conf:1: allow br0 group=ubvm .*: applies \(for group ubvm\)" <<<"$out"
check "explain: ...and he is told the files were read without it" \
    grep -q "warning: which files the groups the group database lists ubbob in" <<<"$out"
# The quota's count, of a tap userbridged granted under it.
start_daemon
as_alice "$T/bin/ub-testtool" call stream --hold=1500 -- "$client" --vm=db --fd=3 --br=br0 >"$T/held" &
holder=$!
granted "$T/held"
out=$(as_alice "$ub" status)
wait $holder
stop_daemon
check "status: the bridges ubalice may use, with limits" \
    grep -qE '^  br0  max-taps=2 max-queues=4 .* taps: 1 held, 1 left' <<<"$out"
check "status: the pinned bridge" grep -qF "br3  max-taps=unlimited max-queues=8 mac=$pinned" <<<"$out"
check "status: not the bridges denied to her" bash -c "! grep -qE '^  br(1|2) ' <<<'$out'"
check "status: the taps she holds, with their VM" grep -qE '^  tap[0-9]+  bridge br0  vm db' <<<"$out"

finish
