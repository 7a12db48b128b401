#!/bin/bash
# `userbridge run`: taps obtained through a QEMU-compatible helper (ours or
# Debian's), placeholders filled in, exactly the taps and stdio inherited by
# the command, taps gone when it exits; every failure a clear error that
# leaves nothing behind.
source "$(dirname "$0")/lib.sh"

bridge br0 1450
bridge br1
acl 'allow br0\nallow br1\nallow br9\n'
UB=$T/bin/userbridge
H=$T/bin/setuid-helper

# Placeholders and inherited fds. fd 9 is open in the caller: it must not leak.
out=$(as_alice "$UB" run --helper="$H" --nic br=br0 --nic br=br1,vnet_hdr=off -- \
    "$T/bin/ub-testtool" fds '{fd}' '{ifname}' '{mac}' '{tapmac}' '{mtu}' '{fd1}' '{ifname1}' '{mtu1}' 'x={unknown}' 9</etc/hostname)
echo "$out" | sed 's/^/    /'
read -r _ fd0 _ _ _ _ fd1 _ < <(grep ^args: <<<"$out")
check "command inherits exactly stdio and the two taps" grep -qx "fds: 0 1 2 $fd0 $fd1" <<<"$out"
check "{ifname} {mac} {tapmac} {mtu} filled in" \
    grep -qE "^args: $fd0 tap[0-9]+ 52(:[0-9a-f]{2}){5} fe(:[0-9a-f]{2}){5} 1450 $fd1 tap[0-9]+ 1500 x=\{unknown\}$" <<<"$out"
check "guest MAC {mac} pairs with the tap MAC {tapmac}" \
    bash -c '[ "$(cut -d" " -f4 <<<"$1" | cut -c4-)" = "$(cut -d" " -f5 <<<"$1" | cut -c4-)" ]' _ "$(grep ^args: <<<"$out")"
out=$(as_alice "$UB" run --helper="$H" --nic br=br0 --nic br=br1 -- \
    sh -c 'ip -o link show master br0; ip -o link show master br1')
check "first NIC on br0" grep -q "tap.*master br0" <<<"$out"
check "second NIC on br1" grep -q "tap.*master br1" <<<"$out"
check "taps gone after the command exited" test -z "$(taps)"

# The fd really is a working tap: a frame written through it crosses br0.
marker="run-$RANDOM"
"$T/bin/ub-testtool" listen br0-peer "$marker" 6000 >"$T/listener" &
listener=$!
listening "$T/listener"
# A frame every 0.1 s for 2 s: time passes while the port learns.
as_alice "$UB" run --helper="$H" --nic br=br0,vnet_hdr=off -- \
    bash -c 'for i in $(seq 20); do printf "\xff\xff\xff\xff\xff\xff\x52\x54\x00\x00\x00\x01\x88\xb5%s%40s" "$1" "" >&$0; sleep 0.1; done' '{fd}' "$marker"
check "frame written to {fd} crosses the bridge" wait $listener

# Debian's helper works through the same command.
if [ -x "$T/bin/qemu-helper" ]; then
    check "works with Debian's qemu-bridge-helper" \
        grep -q '^tap[0-9]' <(as_alice "$UB" run --helper="$T/bin/qemu-helper" -- echo '{ifname}')
fi

# libuserbridge's C interface, as a C VMM would use it.
out=$(as_alice env LD_LIBRARY_PATH="$T/bin" "$T/bin/ub-c-client" "$H" br0)
check "C API: tap with name, MACs, MTU, vnet_hdr, close-on-exec fd" \
    grep -qE '^ifname=tap[0-9]+ mac=fe(:[0-9a-f]{2}){5} guest_mac=52(:[0-9a-f]{2}){5} mtu=1450 vnet_hdr=1 fd_is_cloexec=1$' <<<"$out"
check "C API: vnet_hdr off on request" \
    grep -q 'vnet_hdr=0' <(as_alice env LD_LIBRARY_PATH="$T/bin" "$T/bin/ub-c-client" "$H" br0 novnet)
if [ -x "$T/bin/qemu-helper" ]; then
    check "C API: works with Debian's helper" \
        grep -q '^ifname=tap' <(as_alice env LD_LIBRARY_PATH="$T/bin" "$T/bin/ub-c-client" "$T/bin/qemu-helper" br0)
fi
refused "C API: denial comes back with the helper's words" \
    "ub-c-client: userbridge-helper: access to bridge br2 denied" \
    as_alice env LD_LIBRARY_PATH="$T/bin" "$T/bin/ub-c-client" "$H" br2
check "C API: no tap left" test -z "$(taps)"

# Failure paths.
printf '#!/bin/sh\nexec sleep 61.2345\n' >"$T/bin/hang-helper"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/silent-helper"
printf '#!/bin/sh\necho "something broke" >&2\nexit 7\n' >"$T/bin/broken-helper"
chmod 755 "$T/bin/hang-helper" "$T/bin/silent-helper" "$T/bin/broken-helper"
run() { as_alice "$UB" run "$@"; }
refused "helper missing" "cannot execute $T/bin/nothere: No such file or directory" \
    run --helper="$T/bin/nothere" -- true
refused "helper not privileged" "hint: the helper is not installed setuid or with cap_net_admin" \
    run --helper="$T/bin/plain-helper" -- true
refused "ACL denies" "hint: bridge br2 is not allowed for you by /etc/qemu/bridge.conf" \
    run --helper="$H" --br=br2 -- true
acl 'allow br0\nallow br1 rate=10mbit\nallow br9\n'
refused "a filtered rule through the helper: the hint names the daemon" \
    "hint: only userbridged grants br1 under this rule: run with --via=daemon (userbridged must run)" \
    run --helper="$H" --br=br1 -- true
acl 'allow br0\nallow br1\nallow br9\n'
refused "bridge missing" "bridge br9 does not exist" run --helper="$T/bin/fcap-helper" --nic br=br9 -- true
refused "helper hangs" "$T/bin/hang-helper did not finish within 1000 ms and was killed" \
    run --helper="$T/bin/hang-helper" --timeout=1 -- true
check "hung helper was killed" bash -c '! pgrep -f "sleep 61.234[5]"'
refused "helper exits 0 without an fd" "exited 0 but the helper closed the socket without sending a tap fd" \
    run --helper="$T/bin/silent-helper" -- true
refused "helper fails" "failed (exit status 7): something broke" run --helper="$T/bin/broken-helper" -- true
refused "second NIC fails: first tap released too" "access to bridge br2 denied" \
    run --helper="$H" --nic br=br0 --nic br=br2 -- true
refused "placeholder for a NIC not requested" "placeholder {fd1} refers to NIC 1, but only 1 NIC(s) requested" \
    run --helper="$H" -- echo '{fd1}'
refused "command missing" "cannot run /nonexistent: No such file or directory" run --helper="$H" -- /nonexistent
refused "no command" "missing COMMAND" run --helper="$H"
refused "bad bridge name" "bridge name 'br0/x' contains '/'" run --helper="$H" --br=br0/x -- true
refused "unknown --nic key" "unknown --nic option 'mq'" run --helper="$H" --nic mq=2 -- true
refused "--nic queues out of range" "--nic queues=65: expected 1 to 64" run --helper="$H" --nic queues=65 -- true
refused "relative helper path" "--helper needs an absolute path" run --helper=helper -- true
refused "unknown subcommand" "unknown command 'fly'" as_alice "$UB" fly
check "userbridge --help" grep -q '^Usage: userbridge' <(as_alice "$UB" --help)
check "userbridge run --help" grep -q '^Usage: userbridge run' <(as_alice "$UB" run --help)
check "no tap left at the end" test -z "$(taps)"
finish
