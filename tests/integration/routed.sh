#!/bin/bash
# VMs on Wi-Fi: the routed pseudo-bridge (issue 24, part 3). A Wi-Fi
# station cannot be bridged: its access point drops every frame whose
# source MAC is not the station's. Here the uplink wl0 is a veth into an
# "access point" namespace that does exactly that (nftables), with a LAN
# host and a gateway behind it. `allow wl0 mode=routed ip=ADDR` gives a tap
# routed to wl0 for ADDR alone: proxy ARP entries on wl0, a host route to
# the tap, nftables rules that forward only tap<->wl0 for ADDR. The fake
# guests are network namespaces whose tap ub-testtool relays to the one
# userbridged granted (call --relay), so a kernel's IP stack is the guest.
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^attack' .
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
client=$T/bin/userbridge-client
GUEST=192.168.77.50
LAN=192.168.77.20
GW=192.168.77.1
GUEST6=2001:db8:77::50
LAN6=2001:db8:77::20
GW6=2001:db8:77::1
# Named namespaces: their names are bind mounts in the test's own /run
# (lib.sh), so they go with its mount namespace; the prefix keeps them
# apart from any other run's in messages.
P=ubr$$-
NETNS=(ap lan gw guest guest2)

# The access point: a bridge whose station port passes only the station's MAC.
for ns in "${NETNS[@]}"; do ip netns add "$P$ns"; done
ip link add wl0 type veth peer name ap-sta netns ${P}ap
ip -n ${P}ap link add apbr type bridge
ip -n ${P}ap link set ap-sta master apbr up
for host in lan gw; do
    ip -n ${P}ap link add "ap-$host" type veth peer name "${host}0" netns "$P$host"
    ip -n ${P}ap link set "ap-$host" master apbr up
    ip -n "$P$host" link set "${host}0" up
done
ip -n ${P}ap link set apbr up
STA_MAC=$(cat /sys/class/net/wl0/address)
ip netns exec ${P}ap nft -f - <<EOF
table bridge ap {
    chain pre {
        type filter hook prerouting priority 0;
        iifname "ap-sta" ether saddr != $STA_MAC counter drop
    }
}
EOF
ip link set lo up
ip link set wl0 up
ip addr add 192.168.77.10/24 dev wl0
ip route add default via $GW
ip -n ${P}lan addr add $LAN/24 dev lan0
ip -n ${P}lan route add default via $GW
ip -n ${P}gw addr add $GW/24 dev gw0
# IPv6 forwarding is the administrator's (ADMIN-GUIDE.md): done here, in
# the test's own network namespace, as the guide says.
sysctl -qw net.ipv6.conf.wl0.accept_ra=2 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.wl0.proxy_ndp=1
ip addr add 2001:db8:77::10/64 dev wl0 nodad
ip -n ${P}lan addr add $LAN6/64 dev lan0 nodad
ip -n ${P}lan route add default via $GW6
ip -n ${P}gw addr add $GW6/64 dev gw0 nodad
# What reaches the gateway and the LAN host from each source.
for host in lan gw; do
    ip netns exec "$P$host" nft -f - <<EOF
table inet seen {
    chain in {
        type filter hook input priority 0;
        ip saddr $GUEST counter
        ip saddr 192.168.77.66 counter
        ip saddr 192.168.77.51 counter
    }
}
EOF
done
seen() { ip netns exec "$P$1" nft list chain inet seen in | awk -v a="$2" '$3 == a {print $6}'; }
ap_drops() { ip netns exec ${P}ap nft list chain bridge ap pre | grep -o 'packets [0-9]*' | cut -d' ' -f2; }

# guest NS USER ADDR: a guest namespace whose tap gtap (owned by USER) has
# ADDR/24 and the gateway; started by start_guest.
guest_ns() {
    ip -n "$P$1" tuntap add dev gtap mode tap user "$2"
    ip -n "$P$1" link set lo up
    ip -n "$P$1" link set gtap up
    ip -n "$P$1" addr add "$3/24" dev gtap
    ip -n "$P$1" route add default via $GW
}
guest_ns guest $ALICE $GUEST
ip -n ${P}guest addr add $GUEST6/128 dev gtap nodad
ip -n ${P}guest route add default via fe80::1 dev gtap
guest_ns guest2 $BOB 192.168.77.51

# start_guest NS AS... : the guest's tap relayed to a tap userbridged grants
# for wl0, for 60 s or until stop_guest; its output in $T/NS.
start_guest() {
    local ns=$1
    shift
    : >"$T/$ns"
    ip netns exec "$P$ns" "$@" "$TT" call stream --relay=gtap --hold=60000 -- "$client" --fd=3 --br=wl0 \
        >"$T/$ns" 2>&1 &
    eval "PID_$ns=$!"
}
stop_guest() {
    local pid
    eval "pid=\${PID_$1:-}"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    eval "PID_$1="
}
tap_of() { sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/$1"; }
# reach NS ADDR [SRC]: a ping from NS (from SRC) is answered.
reach() { ip netns exec "$P$1" busybox ping -q -c3 -w4 ${3:+-I "$3"} "$2" >/dev/null 2>&1; }
reach6() { ip netns exec "$P$1" busybox ping6 -q -c3 -w4 "$2" >/dev/null 2>&1; }
pneigh() { ip neigh show proxy dev wl0 2>/dev/null | awk '{print $1}' | sort | tr '\n' ' '; }
routed_elements() {
    nft list table inet userbridge_routed 2>/dev/null | sed -n '/elements = {/,/}/p' | grep -c '[0-9]' || true
}
forwarding() { cat /proc/sys/net/ipv4/conf/wl0/forwarding; }
nothing_left() {
    [ -z "$(pneigh)" ] && [ "$(routed_elements)" = 0 ] && [ -z "$(ip route show $GUEST)" ] &&
        [ -z "$(ip -6 route show $GUEST6)" ] &&
        [ "$(forwarding)" = 0 ] && no_taps
}

acl "allow wl0 user=ubalice mode=routed ip=$GUEST,$GUEST6\nallow wl0 user=ubbob mode=routed ip=192.168.77.51\n"

# --- the helper refuses a routed rule ----------------------------------------
for helper in setuid-helper fcap-helper; do
    watch_links
    refused "$helper refuses mode=routed and names userbridge-client" "userbridge-client" \
        as_alice "$TT" call stream -- "$T/bin/$helper" --fd=3 --br=wl0
    no_tap_ever
done

start_daemon
[ -z "$(cat "$T/daemon.err")" ] || cat "$T/daemon.err"

# --- a guest on the LAN through the station --------------------------------------
start_guest guest "${AS_ALICE[@]}"
granted "$T/guest" || true
tap=$(tap_of guest)
if wanted "daemon: grant"; then
    check "daemon: grant: alice's routed tap is on no bridge" test -n "$tap" -a ! -e "/sys/class/net/$tap/master"
    check "daemon: grant: ...is owned by alice" test "$(cat "/sys/class/net/$tap/owner" 2>/dev/null)" = $ALICE
    check "daemon: grant: a host route to the guest through it" \
        grep -q "dev $tap" <<<"$(ip route show $GUEST)"
    check "daemon: grant: ...and an IPv6 one" grep -q "dev $tap" <<<"$(ip -6 route show $GUEST6)"
    check "daemon: grant: proxy entries on wl0 for exactly the guest's addresses" test "$(pneigh)" = "$GUEST $GUEST6 "
    check "daemon: grant: forwarding on for wl0 and the tap, not for all" \
        test "$(forwarding)$(cat /proc/sys/net/ipv4/conf/$tap/forwarding)$(cat /proc/sys/net/ipv4/conf/all/forwarding)" = 110
    check "daemon: grant: the record says routed" \
        soon grep -qE 'event=grant .*bridge="wl0" .*via=daemon detail="allowed by [^"]*, routed"' "$SYSLOG"
fi
if wanted "daemon: frames"; then
    check "daemon: frames: the guest reaches the gateway" reach guest $GW
    check "daemon: frames: the guest reaches the LAN host" reach guest $LAN
    check "daemon: frames: the LAN host reaches the guest" reach lan $GUEST
    check "daemon: frames: the guest's ARP for the gateway was answered on the tap" \
        test "$(ip -n ${P}guest neigh show $GW | awk '{print $5}')" = "$(cat "/sys/class/net/$tap/address")"
    check "daemon: frames: IPv6: the guest reaches the gateway" reach6 guest $GW6
    check "daemon: frames: IPv6: the guest reaches the LAN host" reach6 guest $LAN6
    check "daemon: frames: IPv6: the LAN host reaches the guest" reach6 lan $GUEST6
    check "daemon: frames: the access point dropped no frame (all from the station's MAC)" test "$(ap_drops)" = 0
fi

# --- attacks ------------------------------------------------------------------
if wanted "attack: spoof"; then
    ip -n ${P}guest addr add 192.168.77.66/32 dev gtap
    check "attack: spoofed source: a guest sending from another address gets no answer" \
        fails reach guest $LAN 192.168.77.66
    check "attack: spoofed source: ...nothing from it reached the LAN host or the gateway" \
        test "$(seen lan 192.168.77.66)$(seen gw 192.168.77.66)" = 00
    check "attack: spoofed source: the LAN host gets no ARP answer for that address" fails reach lan 192.168.77.66
    ip -n ${P}guest addr del 192.168.77.66/32 dev gtap
fi
if wanted "attack: another user"; then
    start_guest guest2 setpriv --reuid=$BOB --regid=$BOB --clear-groups --
    granted "$T/guest2" || true
    check "attack: another user: bob's own guest works (control)" reach guest2 $GW 192.168.77.51
    before=$(seen gw $GUEST)
    ip -n ${P}guest2 addr add $GUEST/32 dev gtap
    check "attack: another user: bob's guest sending from alice's address gets nothing through" \
        fails reach guest2 $GW $GUEST
    check "attack: another user: ...the gateway saw none of it" test "$(seen gw $GUEST)" = "$before"
    check "attack: another user: alice's guest still reaches the LAN host" reach guest $LAN
    stop_guest guest2
    ip -n ${P}guest2 addr del $GUEST/32 dev gtap
fi
if wanted "attack: queue race"; then
    # A routed tap is its owner's from its creation (TUNSETOWNER), and a
    # multiqueue tap's owner may attach a queue of its own by name: bob
    # joins his tap before userbridged hands him any fd, and writes from a
    # forged source as soon as it is up. Nothing he writes may reach the
    # host's stack unfiltered: a counter after userbridged's prerouting
    # chain (priority -150) sees what passed it.
    nft -f - <<EOF
table inet race {
    chain pre {
        type filter hook prerouting priority -100;
        ip saddr 192.168.77.66 counter
    }
}
EOF
    start_tool_as $BOB join-own 3000 spoof=192.168.77.66,192.168.77.10
    as_bob "$T/bin/userbridge" run --nic br=wl0,queues=2 -- sleep 1 >"$T/race" 2>&1 || cat "$T/race"
    wait "$ATTACKER" || true
    passed=$(nft list chain inet race pre | grep -o 'packets [0-9]*' | cut -d' ' -f2)
    check "attack: queue race: bob joined his tap before its hand-over ($(tr '\n' ' ' <"$T/attacker"))" \
        grep -q '^JOINED tap' "$T/attacker"
    check "attack: queue race: ...and wrote into it once it was up" grep -qE '^SPOOFED [1-9]' "$T/attacker"
    check "attack: queue race: nothing from his forged source passed the tap's filter ($passed)" test "$passed" = 0
    nft delete table inet race
fi
if wanted "attack: address held"; then
    # An administrator's mistake: bob's rule names alice's live address,
    # after one of his own (each address is looked up in turn).
    acl "allow wl0 user=ubalice mode=routed ip=$GUEST,$GUEST6\nallow wl0 user=ubbob mode=routed ip=192.168.77.51,$GUEST\n"
    reload_daemon
    # Bob joins his tap as it is made (as in the queue race) and writes
    # from her address: nothing of his may be forwarded, not even in the
    # moments before his grant is refused. A counter after userbridged's
    # prerouting chain sees what passed it on any tap but hers.
    hers=$(tap_of guest)
    nft -f - <<EOF
table inet held {
    chain pre {
        type filter hook prerouting priority -100;
        iifname != "$hers" ip saddr $GUEST counter
    }
}
EOF
    start_tool_as $BOB join-own 2000 spoof=$GUEST,192.168.77.10
    out=$(as_bob "$T/bin/userbridge" run --nic br=wl0,queues=2 -- true 2>&1 || true)
    wait "$ATTACKER" || true
    passed=$(nft list chain inet held pre | grep -o 'packets [0-9]*' | cut -d' ' -f2)
    nft delete table inet held
    check "attack: address held: a second tap for a live guest's address is refused" \
        grep -q "$GUEST is routed elsewhere already" <<<"$out"
    check "attack: address held: ...before bob could join it ($(tr '\n' ' ' <"$T/attacker"))" \
        fails grep -q '^JOINED tap' "$T/attacker"
    check "attack: address held: ...and nothing from her address on his tap passed ($passed)" test "$passed" = 0
    check "attack: address held: ...alice's proxy entry stays" test "$(pneigh)" = "$GUEST $GUEST6 "
    check "attack: address held: ...and the LAN host still reaches her guest" reach lan $GUEST
    acl "allow wl0 user=ubalice mode=routed ip=$GUEST,$GUEST6\nallow wl0 user=ubbob mode=routed ip=192.168.77.51\n"
    reload_daemon
fi
if wanted "refusing route"; then
    # A wider route that refuses packets (prohibit, unreachable, blackhole)
    # makes the kernel's lookup for bob's address fail: no interface holds
    # it, and his grant goes on (it failed, "cannot look up the route").
    ip route add prohibit 192.168.77.48/30
    out=$(as_bob "$TT" call stream --hold=200 -- "$client" --fd=3 --br=wl0 2>&1 || true)
    check "refusing route: under a wider prohibit route, bob's address is granted ($(head -n1 <<<"$out"))" \
        grep -q '^tap=' <<<"$out"
    ip route del prohibit 192.168.77.48/30
fi
if wanted "attack: link type"; then
    # A routed tap is on no bridge, whose veto keeps a port's link type:
    # once bob's tap is his and still down, he joins it by name and makes
    # it another kind of link (TUNSETLINK, 65534: ARPHRD_NONE), which the
    # kernel takes only of a tap that is down. The fault build pauses 2 s
    # there (pause@after-owner) so that he need not race for it.
    stop_daemon
    UB_FAULT=pause@after-owner DAEMON_BIN=$T/bin/faulty-daemon start_daemon
    as_bob "$T/bin/userbridge" run --nic br=wl0,queues=2 -- true >"$T/linked" 2>&1 &
    runner=$!
    soon fault_paused faulty-daemon >/dev/null || true
    hers=$(tap_of guest)
    his=$(taps | grep -vx "$hers" | head -n1)
    as_bob "$TT" tap-by-name "$his" mq link=65534 >"$T/linker" 2>&1 || true
    wait "$runner" || true
    check "attack: link type: bob made his tap, still down, another kind of link ($(head -n1 "$T/linker"))" \
        grep -q '^linked 65534' "$T/linker"
    check "attack: link type: ...and his grant is refused, saying why ($(tail -n1 "$T/linked"))" \
        grep -q 'no Ethernet link any more' "$T/linked"
    check "attack: link type: ...his tap is gone" soon bash -c "! ip link show '$his' 2>/dev/null"
    stop_daemon
    start_daemon
fi

# --- undone with the tap -----------------------------------------------------------
stop_guest guest
check "gone: nothing the daemon added remains once the tap is gone" soon nothing_left
nothing_left || { pneigh; nft list table inet userbridge_routed; ip route; forwarding; }

# --- reconciled at start: a tap that died while no daemon ran --------------------
if wanted "restart"; then
    start_guest guest "${AS_ALICE[@]}"
    granted "$T/guest" || true
    soon test "$(pneigh)" = "$GUEST $GUEST6 " || true
    stop_daemon
    stop_guest guest
    check "restart: the proxy entry outlived the tap while no daemon ran" test "$(pneigh)" = "$GUEST $GUEST6 "
    start_daemon
    check "restart: userbridged removed it, the elements and wl0's forwarding as it started" soon nothing_left
fi

# --- a real QEMU guest -------------------------------------------------------------
# The tiny test guest (the `guest` fixture): 192.168.77.50/24 on eth0, it
# pings the LAN host, whose ARP the host answers on the tap.
if wanted "qemu"; then
    use_guest
    rc=0
    GUEST_IP=$GUEST/24 GUEST_PING=$LAN timeout 120 "${AS_ALICE[@]}" "$T/bin/qemu" \
        -netdev bridge,id=n0,br=wl0,helper="$client" -device virtio-net-pci,netdev=n0,romfile= \
        >"$T/console" 2>&1 || rc=$?
    check "qemu: the guest pinged the LAN host through its routed tap" grep -q UB-GUEST-PING-OK "$T/console"
    check "qemu: QEMU exited cleanly" test $rc -eq 0
    [ $rc -eq 0 ] && grep -q UB-GUEST-PING-OK "$T/console" || sed 's/^/    console: /' "$T/console" | tail -20
    check "qemu: nothing the daemon added remains after QEMU exited" soon nothing_left
fi

# --- check and explain -------------------------------------------------------------
out=$("$T/bin/userbridge" check 2>&1)
check "check: names the routed rule as the daemon's" \
    grep -qF "'allow wl0 user=ubalice ip=$GUEST,$GUEST6 mode=routed' needs userbridged: it routes the tap" <<<"$out"
out=$(as_alice "$T/bin/userbridge" explain --br=wl0)
check "explain: the decision says routed, through userbridged only" \
    grep -q "=> allowed by .*mode=routed; only through userbridged .* routes the tap to wl0" <<<"$out"
acl "allow wl0 mode=routed ip=192.168.77.0/24\n"
check "check: mode=routed takes single addresses" \
    grep -qF 'not prefixes (192.168.77.0/24)' <<<"$("$T/bin/userbridge" check 2>&1 || true)"
acl "allow wl0 mode=routed\n"
check "check: mode=routed needs ip=" \
    grep -qF 'mode=routed needs ip=' <<<"$("$T/bin/userbridge" check 2>&1 || true)"

stop_daemon
finish
