#!/bin/bash
# The helper reads the options only userbridged acts on (mode=, mac=,
# mac-prefix=, servers=, ip=, rate=, lease=, auth=) by name alone, never
# their values (userbridge-acl(5)). An ACL line with one, its value well
# formed or garbage, must never get a caller a tap from the helper as if
# the option were absent: the helper refuses that rule as userbridged's.
# A deny takes no such option: one written there refuses the whole ACL,
# so the deny is never read without its subject. `userbridge check` still
# reports each malformed value.
source "$(dirname "$0")/lib.sh"

bridge br0
H=$T/bin/setuid-helper
call() { local who=$1; shift; $who "$T/bin/ub-testtool" call stream -- "$H" --fd=3 "$@"; }
needs="which only userbridged does: use userbridge-client (QEMU's helper=) or userbridge run"

watch_links
for opt in ip=garbage ip=10.0.0.300 rate=garbage rate=0mbit mode=garbage mode=bridge lease=forever \
    auth=garbage servers=maybe mac=zz mac-prefix=52:54:00 rate=10mbit 'mac=52:54:00:00:00:01 ip=10.0.0.2'; do
    acl "allow br0 $opt\n"
    refused "helper: 'allow br0 $opt' gets no unfiltered tap" "$needs" call as_alice --br=br0
done
# The most specific rule decides; the helper does not fall back to a
# looser one when it cannot act on the deciding rule.
acl 'allow br0\nallow br0 user=ubalice rate=garbage\n'
refused "helper: a less specific allow does not stand in for the refused rule" \
    "bridge.conf:2 asks for rate=, $needs" call as_alice --br=br0
# A deny with an option other than its subject fails the whole file, in
# the helper as in userbridged: never a deny read without its subject.
for opt in rate=garbage ip=10.0.0.1 mode=routed; do
    acl "allow br0\ndeny br0 user=ubbob $opt\n"
    refused "helper: 'deny br0 user=ubbob $opt' still keeps ubbob out" \
        "${opt%%=*}= is for allow rules only" call as_bob --br=br0
done
acl 'allow br0\ndeny br0 user=ubbob rate=garbage\n'
refused "helper: that broken ACL grants nobody" "is for allow rules only" call as_alice --br=br0
# A daemon-only value never swallows the options after it (SECURITY.md
# 21-7): read as rate='10mbit,user=ubalice', the rule would name nobody,
# and the helper would fall to the looser group rule and give ubalice an
# unfiltered tap on br0.
for sep in , $'\v' $'\xc2\xa0'; do
    acl "allow all group=ubvm\nallow br0 rate=10mbit${sep}user=ubalice\n"
    out=$(call as_alice --br=br0 2>&1 || true)
    check "helper: rate=10mbit<$(printf %q "$sep")>user=ubalice gets ubalice no tap" fails has '^tap=' <<<"$out"
done
no_tap_ever

# What the helper refuses unread, `userbridge check` reads and reports.
acl 'allow br0 ip=garbage\nallow br0 user=ubbob rate=fast\nallow br0 rate=10mbit\n'
out=$("$T/bin/userbridge" check 2>&1 || true)
check "check: reports the malformed ip=" has -F "bridge.conf:1: ip=garbage: 'garbage' is not an IP address" <<<"$out"
check "check: reports the malformed rate=" has -F "bridge.conf:2: rate=fast: expected a whole number" <<<"$out"
# A rule the helper acts on is still granted beside the refused ones.
acl 'allow br0 user=ubalice rate=10mbit\nallow br0 user=ubbob\n'
check "helper: ubbob's own rule still grants (a tap)" has '^tap=' < <(call as_bob --br=br0)

finish
