#!/bin/bash
# Every bad input to userbridge-helper: a clear message on stderr, a non-zero
# exit (never death by a signal), nothing created at any moment, nothing left.
source "$(dirname "$0")/lib.sh"

bridge br0
ip link add vethA type veth peer name vethB
acl 'allow br0\nallow lo\nallow vethA\nallow nosuchbr\n'
H=$T/bin/setuid-helper
call() { as_alice "$T/bin/ub-testtool" call "$@"; }

watch_links

# Arguments (parsed before anything else happens).
refused "no arguments" "missing --br=BRIDGE" as_alice "$H"
refused "no --fd" "missing --fd=N" as_alice "$H" --br=br0
refused "unknown option" "unknown argument '--acl=/tmp/x'" as_alice "$H" --acl=/tmp/x --br=br0 --fd=3
refused "--br twice" "--br given more than once" as_alice "$H" --br=br0 --br=br1 --fd=3
refused "16-byte bridge name (CVE-2019-13164)" "is 16 bytes long, the limit is 15" \
    call stream -- "$H" --fd=3 --br=br0xxxxxxxxxxxxx
refused "4 KiB bridge name" "the limit is 15" call stream -- "$H" --fd=3 --br=$(printf 'a%.0s' $(seq 4096))
refused "bridge name with /" "contains '/'" call stream -- "$H" --fd=3 --br=../br0
refused "bridge name .." "is not a valid interface name" call stream -- "$H" --fd=3 --br=..
refused "bridge name with space" "contains whitespace" call stream -- "$H" --fd=3 "--br=br 0"
refused "bridge name with newline" "contains whitespace" call stream -- "$H" --fd=3 $'--br=br0\nallow'
refused "bridge name not UTF-8" "not printable ASCII" call stream -- "$H" --fd=3 $'--br=br\xff'
refused "empty bridge name" "is empty" call stream -- "$H" --fd=3 --br=
refused "huge argv" "too many arguments" as_alice "$H" $(seq 100000)

# --fd must be a connected unix stream socket.
refused "--fd=0 (stdin)" "names a standard stream" call stream -- "$H" --fd=0 --br=br0
refused "--fd not a number" "is not a decimal number" call stream -- "$H" --fd=3x --br=br0
refused "--fd negative" "is not a decimal number" call stream -- "$H" --fd=-3 --br=br0
refused "--fd huge" "is too large" call stream -- "$H" --fd=99999999999 --br=br0
refused "--fd closed" "--fd=3 is not an open file descriptor" call closed -- "$H" --fd=3 --br=br0
refused "--fd not open, large" "--fd=1000000 is not an open file descriptor" call stream -- "$H" --fd=1000000 --br=br0
refused "--fd a pipe" "--fd=3 is a pipe, not a unix socket" call pipe -- "$H" --fd=3 --br=br0
refused "--fd a file" "--fd=3 is a regular file, not a unix socket" call file -- "$H" --fd=3 --br=br0
refused "--fd a TCP socket" "is a socket but not an AF_UNIX one" call tcp -- "$H" --fd=3 --br=br0
refused "--fd a UDP socket" "is a socket but not an AF_UNIX one" call udp -- "$H" --fd=3 --br=br0
refused "--fd a datagram socket" "is a unix socket but not a stream socket" call dgram -- "$H" --fd=3 --br=br0
refused "--fd a seqpacket socket" "is a unix socket but not a stream socket" call seqpacket -- "$H" --fd=3 --br=br0
refused "--fd an unconnected socket" "is a unix stream socket that is not connected" call listen -- "$H" --fd=3 --br=br0
refused "--fd whose other end is already closed" \
    "--fd=3 is a unix stream socket whose other end is already closed" call hungup -- "$H" --fd=3 --br=br0
start_daemon  # userbridge-client's daemon: it must not be asked either
refused "userbridge-client: --fd whose other end is already closed" \
    "--fd=3 is a unix stream socket whose other end is already closed" \
    call hungup -- "$T/bin/userbridge-client" --fd=3 --br=br0
stop_daemon

# The bridge must exist and be a bridge.
refused "bridge missing" "bridge nosuchbr does not exist" call stream -- "$H" --fd=3 --br=nosuchbr
refused "loopback device" "lo is not a bridge (it is a plain device)" call stream -- "$H" --fd=3 --br=lo
refused "veth device" "vethA is not a bridge (it is a veth device)" call stream -- "$H" --fd=3 --br=vethA

# Policy.
refused "ACL denies" "access to bridge br1 denied: no rule allows it" call stream -- "$H" --fd=3 --br=br1

# Privilege: an ordinary copy has none and says how to install it.
refused "not privileged" "not privileged: install userbridge-helper with 'setcap cap_net_admin+ep'" \
    call stream -- "$T/bin/plain-helper" --fd=3 --br=br0

no_tap_ever

# The caller goes away after its socket was checked, before the fd is sent
# (the faulty build pauses there): EPIPE, not SIGPIPE.
refused "caller closed its socket" "the caller closed its socket" \
    as_alice env UB_FAULT=pause@before-send "$T/bin/ub-testtool" call stream --close-after=500 -- \
    "$T/bin/faulty-helper" --fd=3 --br=br0

# The environment is not read: LD_PRELOAD, locale and the like change nothing.
out=$(as_alice env LD_PRELOAD=/nonexistent.so LC_ALL=xx_XX.UTF-8 LANG=C.UTF-8 NLSPATH=/tmp/x \
    MALLOC_CHECK_=3 TZ=/tmp/tz "$T/bin/ub-testtool" call stream -- "$T/bin/fcap-helper" --fd=3 --br=br0 2>&1)
check "hostile environment ignored" grep -q '^tap=tap' <<<"$out"
check "no stray interfaces" test -z "$(taps)"

check "denials are logged" grep -qF 'event=deny user=ubalice uid=4711' "$SYSLOG"
check "denial names the reason" grep -qF 'detail="no rule allows it (the default is deny)"' "$SYSLOG"
check "refusals after parsing are logged" grep -qF 'detail="bridge nosuchbr does not exist"' "$SYSLOG"
check "denials logged at authpriv.warning" grep -q '^<84>.*event=deny' "$SYSLOG"
finish
