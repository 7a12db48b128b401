#!/bin/bash
# What the audit records say, and how they get out: values from outside
# (a user name from NSS, a VM name) are escaped the same way in the
# helper's records, the daemon's and its journald fields, so that none can
# forge a key or a record; the pids they carry say what they are; a
# journald record too large for a datagram goes out through libsystemd's
# memfd path under the daemon's seccomp filter; the daemon's own socket
# (--socket) gets its mode without a chmod by path that a symlink could
# redirect.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0\n'
TT=$T/bin/ub-testtool
setuid=$T/bin/setuid-helper
client=$T/bin/userbridge-client
# eventually CMD...: CMD succeeds within 5 s.
eventually() {
    for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done
    return 1
}

# A journald of our own: the daemon sends its records there.
journal_sink

# --- Review item Also-1: a record too large for a datagram -------------------
# libsystemd sends such a record as a sealed memfd passed with SCM_RIGHTS
# (prctl(PR_GET_NAME) for the memfd's name, memfd_create, fcntl seals). The
# tool sends one under the daemon's own filter, as the daemon would.
rc=0
"$TT" journal-record 10000000 2>"$T/err" || rc=$?
check "a 10 MB journald record goes out under the daemon's seccomp filter (exit $rc)" test $rc -eq 0
check "...and journald gets it whole, through the fd" eventually \
    bash -c "awk 'length(\$0) >= 10000008 && /^MESSAGE=xxx/' '$JOURNAL' | grep -q ."

check "no tap left behind" test -z "$(taps)"
finish
