#!/bin/bash
# Veth pairs into network namespaces through userbridged (`userbridge
# netns`, and the lxc-user-nic drop-in): a namespace its caller owns gets a
# bridged veth that pings across the bridge; one another user owns, the
# host's own, or an fd that is no network namespace is refused, and nothing
# is made; max-taps holds under 16 concurrent requests, counting veth pairs
# with taps; the pair goes with its namespace, with an expiry record.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
install -m 0755 "$UB_BUILD_DIR/userbridge-lxc-user-nic" "$T/bin/"
UB=$T/bin/userbridge
ip addr add 10.23.0.1/24 dev br0
# Subordinate ids for ubalice (newuidmap, and the daemon reads them as it
# starts), in this mount namespace only.
printf 'ubalice:200000:65536\n' >"$T/etc/subuid"
cp "$T/etc/subuid" "$T/etc/subgid"
for f in subuid subgid; do touch /etc/$f; mount --bind "$T/etc/$f" /etc/$f; done
# AS_ALICE_ROOT: as root of a user namespace of ubalice's mapped to her
# subordinate uids (newuidmap), as in her LXC containers: uid 200000.
SUB_ROOT=(unshare --user --map-users=200000,0,65536 --map-groups=200000,0,65536 --setuid 0 --setgid 0)
AS_ALICE_ROOT=("${AS_ALICE[@]}" "${SUB_ROOT[@]}")
start_daemon --max-per-uid=16  # 16 concurrent requests of one user

# in_ns PID CMD...: CMD in PID's network namespace (as root, to look).
in_ns() { local pid=$1; shift; nsenter -t "$pid" -n "$@"; }
veths() { ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^ubv' || true; }
no_veths() { [ -z "$(veths)" ]; }
on_br0() { ip -o link show master br0 type veth 2>/dev/null | grep -c ': ubv' || true; }
# refused_netns NAME WANT CMD...: CMD is refused with WANT, and no veth of ours exists.
refused_netns() {
    local name=$1
    refused "$@"
    wanted "$name" || return 0
    check "$name: no veth pair left" test -z "$(veths)"
}

AS_BOB=(setpriv --reuid=$BOB --regid=$BOB --clear-groups --)
hold_ns alice_ns "${AS_ALICE[@]}"
hold_ns bob_ns "${AS_BOB[@]}"

# --- Attacks: namespaces that are not the caller's -------------------------
# ubbob reaches ubalice's namespace through a path he may open (an nsfs bind
# mount is mode 0444; `ip netns add` makes such mounts): the path is no
# proof of ownership, the namespace's owner is.
touch "$T/work/alice-net"
mount --bind /proc/$alice_ns/ns/net "$T/work/alice-net"
watch_links
refused_netns "ubbob asking for ubalice's namespace (a bind mount) is refused" \
    "the network namespace belongs to uid $ALICE, not to you (uid $BOB)" \
    as_bob "$UB" netns --br=br0 --netns="$T/work/alice-net"
refused_netns "...and through an fd he holds" "not to you (uid $BOB)" \
    as_bob bash -c "exec 7<'$T/work/alice-net'; exec '$UB' netns --br=br0 --netns-fd=7"
check "ubalice's namespace has no interface of ubbob's" \
    test "$(in_ns "$alice_ns" ip -o link show | grep -vc ': lo:')" -eq 0
umount "$T/work/alice-net"
refused_netns "the host's namespace is refused to root" "the host's own network namespace" \
    "$UB" netns --br=br0 --netns=/proc/self/ns/net
refused_netns "...and to ubalice" "the host's own network namespace" \
    as_alice "$UB" netns --br=br0 --netns=/proc/self/ns/net
refused_netns "a user namespace is not a network namespace" "not a network namespace" \
    as_alice "$UB" netns --br=br0 --netns=/proc/$alice_ns/ns/user
refused_netns "a plain file is not a namespace" "is not a namespace" \
    as_alice "$UB" netns --br=br0 --netns=/etc/passwd
refused_netns "a name the namespace has already fails, leaving nothing" "already has an interface named lo" \
    as_alice "$UB" netns --br=br0 --name=lo --netns=/proc/$alice_ns/ns/net
refused_netns "her subordinate uid asking for ubalice's own namespace is refused" \
    "belongs to uid $ALICE, not to you (uid 200000)" \
    as_alice bash -c "exec 7</proc/$alice_ns/ns/net; exec ${SUB_ROOT[*]} '$UB' netns --br=br0 --netns-fd=7"
# Review item 35-2: a container root made, whose user namespace maps
# ubalice's uid (systemd-nspawn --bind-user, an Incus raw.idmap), and in it
# a user and network namespace a process of her uid made. The kernel names
# her its owner, yet gives her, on the host, no right there: root's
# namespace is between (it walks up to the one under the host's). Her
# process in the container sends her the namespace's fd (over a socket in
# a directory both see); root opens it for her here.
unshare --user sleep 120 &
container=$!
BACKGROUND+=($container)
# (asked anew each try: `within` runs its command again, not its arguments)
within 2 bash -c "[ \"\$(readlink /proc/$container/ns/user)\" != \"\$(readlink /proc/self/ns/user)\" ]"
echo "$ALICE $ALICE 1" >/proc/$container/uid_map
echo "$ALICE $ALICE 1" >/proc/$container/gid_map
hold_ns nested_ns nsenter -t $container -U --setuid $ALICE --setgid $ALICE --
refused_netns "ubalice asking for a namespace of hers nested in one root made is refused" \
    "is in a user namespace uid 0 made, not you (uid $ALICE)" \
    as_alice "$UB" netns --br=br0 --netns-fd=7 7</proc/$nested_ns/ns/net
no_tap_ever
check "refusals are audited" \
    soon grep -qE "event=deny user=ubbob uid=$BOB .*bridge=\"br0\".*detail=\"the network namespace belongs to uid $ALICE" "$SYSLOG"

# --- A veth pair into the caller's own namespace ---------------------------
check "ubalice gets a bridged veth in her namespace" \
    grep -qE '^eth0 \(ifindex [0-9]+ in the namespace\) <-> ubv[0-9]+ on br0, MTU 1500$' \
    <(as_alice "$UB" netns --br=br0 --netns=/proc/$alice_ns/ns/net)
check "its host end is on br0, up" test "$(on_br0)" -eq 1
# ubalice configures her end herself: she is root in her namespace.
check "ubalice configures her end, as root of her namespace" \
    as_alice nsenter -t "$alice_ns" -U -n --preserve-credentials sh -c \
    'ip addr add 10.23.0.2/24 dev eth0 && ip link set eth0 up && ip link set lo up'
check "ubalice's namespace pings the bridge" in_ns "$alice_ns" busybox ping -c1 -W3 10.23.0.1
check "the grant is audited" \
    soon grep -qE "event=grant user=ubalice uid=$ALICE .*bridge=\"br0\" tap=ubv[0-9]+ .*veth pair: its end eth0" "$SYSLOG"

# A namespace her subordinate uid 200000 made (root of her container
# making a user namespace of its own) is hers too.
hold_ns sub_ns "${AS_ALICE_ROOT[@]}"
check "a namespace ubalice's subordinate uid owns is hers" \
    grep -q '<-> ubv' <(as_alice "$UB" netns --br=br0 --netns=/proc/$sub_ns/ns/net)
kill "$sub_ns"
wait "$sub_ns" 2>/dev/null || true
check "userbridge status lists the pair" \
    grep -qE '^  ubv[0-9]+  bridge br0  veth pair' <(as_alice "$UB" status)

# --- A pinned MAC: the namespace's end gets it, the bridge port its filter -
table 'allow br0 mac=52:54:00:23:02:01\n'
hold_ns mac_ns "${AS_ALICE[@]}"
mac_out=$(as_alice "$UB" netns --br=br0 --netns=/proc/$mac_ns/ns/net || true)
host_end=$(grep -o 'ubv[0-9]*' <<<"$mac_out" || echo none)
check "under mac=, the namespace's end has the pinned MAC" \
    grep -q 'link/ether 52:54:00:23:02:01' <(in_ns "$mac_ns" ip -o link show eth0)
host_idx=$(cat "/sys/class/net/$host_end/ifindex" 2>/dev/null || echo none)
check "...and its host end is pinned in the daemon's nftables set" \
    grep -qE "(\"$host_end\"|\b$host_idx\b)" <(nft list set bridge userbridge pinned)
kill "$mac_ns"
wait "$mac_ns" 2>/dev/null || true
gone() { ! ip link show "$1" >/dev/null 2>&1; }
check "...gone with its namespace" within 10 gone "$host_end"
table 'allow br0\n'

# --- The lxc-user-nic drop-in: LXC's command line and output ---------------
out=$(as_alice "$T/bin/userbridge-lxc-user-nic" create /var/lib/lxc c1 "$alice_ns" veth br0 eth1)
check "lxc-user-nic create prints NIC:IFINDEX:HOST:IFINDEX, as LXC parses it" \
    grep -qE '^eth1:[0-9]+:ubv[0-9]+:[0-9]+$' <<<"$out"
IFS=: read -r nic cidx host hidx <<<"$out"
check "...the container's ifindex is its end's" \
    test "$(in_ns "$alice_ns" ip -o link show eth1 | cut -d: -f1)" = "$cidx"
check "...the host's is the host end's" test "$(cat /sys/class/net/$host/ifindex)" = "$hidx"
refused "lxc-user-nic for ubbob's namespace, as ubalice, is refused" "" \
    as_alice "$T/bin/userbridge-lxc-user-nic" create /var/lib/lxc c1 "$bob_ns" veth br0 eth0
before=$(veths | wc -l)
refused "lxc-user-nic with a name of 16 bytes is refused" "bytes long, the limit is 15" \
    as_alice "$T/bin/userbridge-lxc-user-nic" create /var/lib/lxc c1 "$alice_ns" veth br0 eth0123456789abc
check "...and no pair is made, not even one cut short" \
    test "$(veths | wc -l)" = "$before" -a -z "$(in_ns "$alice_ns" ip -o link show | grep eth0123)"
check "lxc-user-nic delete has nothing to do" \
    as_alice "$T/bin/userbridge-lxc-user-nic" delete /var/lib/lxc c1 /proc/$alice_ns/ns/net veth br0 eth1
printf 'ubalice veth br0 2\n@ubvm veth br1 3\nubbob vxlan br0 1\n' >"$T/usernet"
check "lxc-usernet converts to ACL rules" \
    diff <("$T/bin/userbridge-lxc-user-nic" --convert-usernet "$T/usernet" | grep -v '^# converted\|^# per bridge') \
    <(printf 'allow br0 user=ubalice max-taps=2\nallow br1 group=ubvm max-taps=3\n# line 3 skipped (type vxlan: only veth): ubbob vxlan br0 1\n')

# --- The pair goes with its namespace -------------------------------------
kill "$alice_ns"
wait "$alice_ns" 2>/dev/null || true
check "the namespace gone, its veth pairs are gone" within 10 no_veths
check "...with expiry records" \
    soon grep -qE "event=expire user=ubalice .*tap=ubv[0-9]+ .*detail=\"the veth pair is gone" "$SYSLOG"

# --- max-taps under 16 concurrent requests, veth pairs and taps together ---
table 'allow br0 max-taps=2\n'
hold_ns quota_ns "${AS_ALICE[@]}"
rm -f "$T"/q.*
pids=()
for i in $(seq 16); do
    as_alice "$UB" netns --br=br0 --name=n$i --netns=/proc/$quota_ns/ns/net >"$T/q.$i.out" 2>"$T/q.$i.err" &
    pids+=($!)
done
most=0
for _ in $(seq 40); do
    n=$(on_br0)
    if [ "$n" -gt "$most" ]; then most=$n; fi
    sleep 0.05
done
wait "${pids[@]}" || true
granted=$(cat "$T"/q.*.out | grep -c '<-> ubv' || true)
denied=$(cat "$T"/q.*.err | grep -c 'quota reached: you hold' || true)
check "exactly 2 of 16 concurrent requests granted (got $granted)" test "$granted" -eq 2
check "the other 14 denied by the quota (got $denied: $(cat "$T"/q.*.err | grep -v 'quota reached' | sort | uniq -c | head -3))" \
    test "$denied" -eq 14
check "never more than 2 veth pairs on br0 (most seen: $most)" test "$most" -le 2
check "the refused ones left nothing (2 pairs)" test "$(veths | wc -l)" -eq 2
refused "a tap counts against the same quota" "quota reached" \
    as_alice "$TT" daemon grant $D br0
kill "$quota_ns" "$bob_ns"
wait "$quota_ns" "$bob_ns" 2>/dev/null || true
check "nothing left behind" within 10 no_veths

stop_daemon

refused_netns "without userbridged, it says the pair needs it" "veth pairs need userbridged" \
    as_alice "$UB" netns --br=br0 --netns=/proc/self/ns/net

# --- A grant that fails part-way leaves nothing (net::TapUndo) -------------
hold_ns fault_ns "${AS_ALICE[@]}"
for point in after-create after-setup after-attach after-up; do
    UB_FAULT=fail@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon --max-per-uid=16
    refused_netns "daemon fail@$point" "userbridged: injected failure at $point" \
        as_alice "$UB" netns --br=br0 --netns=/proc/$fault_ns/ns/net
    check "...and nothing in the namespace" test "$(in_ns "$fault_ns" ip -o link show | grep -vc ': lo:')" -eq 0
    stop_daemon
done
kill "$fault_ns"
wait "$fault_ns" 2>/dev/null || true

# --- Stopped part-way: the next userbridged finishes the job ---------------
# Killed between making the pair and bringing its host end up on the
# bridge (a crash, or root), userbridged leaves a pair that carries
# nothing, that no record names, and that its caller never got. The next
# one deletes it as it starts; a finished pair (up, on a bridge) it keeps.
hold_ns kill_ns "${AS_ALICE[@]}"
for point in after-create after-setup after-attach; do
    UB_FAULT=kill@$point DAEMON_BIN=$T/bin/faulty-daemon start_daemon --max-per-uid=16
    before=$(wc -l <"$SYSLOG")
    refused "daemon killed at $point" "userbridged closed the connection" \
        as_alice "$UB" netns --br=br0 --netns=/proc/$kill_ns/ns/net
    check "...its unfinished pair is there" test -n "$(veths)"
    stop_daemon
    start_daemon --max-per-uid=16
    check "...and the next userbridged deletes it as it starts" within 5 no_veths
    check "...with its peer in the namespace" \
        within 5 bash -c "[ \"\$(nsenter -t $kill_ns -n ip -o link show | grep -vc ': lo:')\" -eq 0 ]"
    check "...and says so" soon bash -c "tail -n +$((before + 1)) '$SYSLOG' | grep -q 'deleted the veth pair ubv[0-9]*.*unfinished'"
    stop_daemon
done
start_daemon --max-per-uid=16
check "a finished pair" as_alice "$UB" netns --br=br0 --netns=/proc/$kill_ns/ns/net
stop_daemon
start_daemon --max-per-uid=16
check "...survives a restart, on br0 still" test "$(on_br0)" -eq 1
stop_daemon
kill "$kill_ns"
wait "$kill_ns" 2>/dev/null || true
check "...until its namespace goes" within 10 no_veths
finish
