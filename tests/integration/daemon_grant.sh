#!/bin/bash
# What the daemon answers and what it logs: vnet_hdr taps, denials in the
# helper's words, a missing bridge, callers in many groups or with huge user
# entries, userbridge-client's own checks.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon

# --- What the daemon answers, and what it logs -----------------------------
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --use-vnet --fd=3 --br=br0)
check "userbridge-client hands over a vnet_hdr tap" grep -q 'tap=tap[0-9]* vnet_hdr=1' <<<"$out"
check "daemon grants are logged with via=daemon" \
    grep -qE 'userbridged\[[0-9]+\]: event=grant user=ubalice uid=4711 peer_pid=[0-9]+ bridge="br0" tap=tap[0-9]+ mac=fe:[0-9a-f:]+ rule="[^"]+" via=daemon' "$SYSLOG"
refused "daemon denial, with the helper's words" "userbridge-client: userbridged: access to bridge br1 denied: no rule allows it" \
    as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br1
table 'allow br0\nallow br9\n'
refused "bridge missing" "userbridged: bridge br9 does not exist" \
    as_alice "$TT" daemon grant $D br9
# More groups than the daemon's first buffer holds (64): it asks the kernel
# again with room for all, and a rule for the last one decides.
table 'allow br0 group=4990\n'
many=$(seq -s, 4901 4990)
check "a caller in 90 groups is decided by its 90th" \
    grep -q '^tap=' <(setpriv --reuid=$BOB --regid=$BOB --groups="$many" -- "$TT" daemon grant $D br0)
refused "...and without it, denied" "access to bridge br0 denied" \
    setpriv --reuid=$BOB --regid=$BOB --groups="$(seq -s, 4901 4989)" -- "$TT" daemon grant $D br0
table 'allow br0\n'
# A caller whose user entry the daemon cannot read in full (past the
# lookups' 1 MiB): their groups come from the kernel, not the database, so
# nothing is decided on a guess; only the audit record lacks their name.
# The file is bound over /etc/passwd, so it is restored in place.
cp "$T/passwd" "$T/passwd.saved"
printf 'ubhuge:x:4799:4799:%s:/nonexistent:/usr/sbin/nologin\n' "$(head -c 1100000 /dev/zero | tr '\0' x)" >>"$T/passwd"
out=$(setpriv --reuid=4799 --regid=4799 --clear-groups -- "$TT" daemon grant $D br0 2>&1) || true
cat "$T/passwd.saved" >"$T/passwd"
check "a caller whose user entry is past the lookup bound is served" grep -q '^tap=' <<<"$out"
check "...and logged without a name" grep -qF 'event=grant user=? uid=4799' "$SYSLOG"
table 'allow br0\n'
refused "userbridge-client: bad --fd, nothing asked" "--fd=3 is a pipe, not a unix socket" \
    as_alice "$T/bin/ub-testtool" call pipe -- "$T/bin/userbridge-client" --fd=3 --br=br0
stop_daemon

finish
