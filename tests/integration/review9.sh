#!/bin/bash
# Ninth and tenth outside reviews (docs/SECURITY.md, items 32-N) where no
# other script fits. 32-2: a bridge's alternative name (altname) led every
# front end to the bridge while the ACL judged the name asked for, so a
# deny of the bridge's name was had through the other. 32-4: a frame to a
# link-local group address (01:80:c2:00:00:0X), which the bridge does not
# forward, went up the port's own IP stack past every bridge rule: a
# router advertisement gave the host a default route through the guest.
# 32-7: a pinned guest's neighbour advertisement cut into fragments, its
# target or link-layer address in the second, where no rule reads it.
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^altname' .
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
bridge br0
bridge br1
ip link property add dev br1 altname lanbridge
acl 'deny br1\nallow all\n'
start_daemon

# got FRONT BRIDGE: ubbob asks FRONT (a helper, or userbridge-client) for a
# tap on BRIDGE, as QEMU does; what it says is in $T/out.
got() { as_bob "$TT" call stream -- "$1" --fd=3 --br="$2" >"$T/out" 2>&1; }
for front in setuid-helper fcap-helper userbridge-client; do
    check "altname: $front: br1 is denied by its name" fails got "$T/bin/$front" br1
    check "altname: $front: ...and by its alternative name, lanbridge" fails got "$T/bin/$front" lanbridge
    check "altname: $front: ...which it says does not exist" grep -q 'bridge lanbridge does not exist' "$T/out"
    check "altname: $front: no tap on br1" test -z "$(ip -o link show master br1 type tun)"
done
check "altname: br0 is granted as before" got "$T/bin/setuid-helper" br0
# --- 32-4: frames to a link-local group, up the port's own stack -----------
bridge br3
ip addr add 10.99.3.1/24 dev br3
acl 'allow br3 user=ubalice mac=52:54:00:12:34:56 servers=no ip=2001:db8::7\nallow br0\n'
reload_daemon
# The guest's packets, as hex for ub-testtool --send-hex: a router
# advertisement from its link-local address (preference high, a prefix
# with on-link and autonomous flags), and a UDP datagram from an address
# ip= does not list to the host's address on br3, port 5555.
packets() {
    python3 - "$1" <<'PY'
import struct, sys
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
if sys.argv[1] == 'ra':
    src = bytes.fromhex('fe80000000000000505400fffe123456'); dst = bytes.fromhex('ff02' + '0' * 26 + '01')
    ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0x08, 1800, 0, 0) + bytes([1, 1]) + bytes.fromhex('525400123456')
    ra += struct.pack('!BBBBIII', 3, 4, 64, 0xc0, 86400, 14400, 0) + bytes.fromhex('20010db80bad' + '0' * 20)
    c = csum(src + dst + struct.pack('!I', len(ra)) + b'\0\0\0\x3a' + ra)
    ra = ra[:2] + struct.pack('!H', c) + ra[4:]
    print((struct.pack('!IHBB', 0x60000000, len(ra), 58, 255) + src + dst + ra).hex())
else:
    sip, dip = (bytes([10, 99, 3, 200]), bytes([10, 99, 3, 1])) if sys.argv[1] == 'udp' else (bytes(4), bytes([255] * 4))
    data = b'linklocal-' + sys.argv[1].encode()
    udp = struct.pack('!HHHH', 4444, 5555, 8 + len(data), 0) + data
    udp = udp[:6] + struct.pack('!H', csum(sip + dip + struct.pack('!BBH', 0, 17, len(udp)) + udp)) + udp[8:]
    ip = struct.pack('!BBHHHBBH', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0) + sip + dip
    print((ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + udp).hex())
PY
}
RA=$(packets ra)
UDP=$(packets udp)
BCAST=$(packets bcast)  # from 0.0.0.0 to 255.255.255.255, which no reverse-path filter judges
# udp_to_host FRONT BRIDGE HEX ADDRESS OUT: ubalice's guest sends the IPv4
# packet HEX to 01:80:c2:00:00:0e; a host socket bound to ADDRESS, port
# 5555, says in OUT whether it heard it.
udp_to_host() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 5555)); s.settimeout(1.5)
try: print("heard", s.recv(100))
except socket.timeout: print("nothing")' "$4" >"$5" &
    local udp=$!
    sleep 0.3
    as_alice "$TT" call stream --src=52:54:00:12:34:56 --dst=01:80:c2:00:00:0e --ethertype=0x0800 \
        --send-hex="$3" -- "$1" --fd=3 --br="$2" >"$T/udp.grant" 2>&1 || true
    wait $udp || true
}
# linklocal FRONT BRIDGE: ubalice's guest (FRONT, on BRIDGE) sends the
# datagrams, then an ARP probe (from 0.0.0.0) for the host's address, to
# 01:80:c2:00:00:0e, then, from a tap it holds for a moment, the
# advertisement to 01:80:c2:00:00:03.
linklocal() {
    udp_to_host "$1" "$2" "$BCAST" 0.0.0.0 "$T/bcast.out"
    udp_to_host "$1" "$2" "$UDP" 10.99.3.1 "$T/udp.out"
    as_alice "$TT" call stream --src=52:54:00:12:34:56 --dst=01:80:c2:00:00:0e --arp=0.0.0.0 \
        --arp-target=10.99.3.1 --send=probe -- "$1" --fd=3 --br="$2" >/dev/null 2>&1 || true
    as_alice "$TT" call stream --src=52:54:00:12:34:56 --dst=01:80:c2:00:00:03 --ethertype=0x86dd \
        --send-hex="$RA" --hold=1500 -- "$1" --fd=3 --br="$2" >"$T/ra.out" 2>&1 &
    local ra=$!
    sleep 0.8  # the advertisement has been taken, if it was
    ip -6 route show default >"$T/routes"
    ip -6 addr show >"$T/addrs"
    wait $ra || true
}
for front in setuid-helper:br0 fcap-helper:br0 userbridge-client:br3; do
    linklocal "$T/bin/${front%:*}" "${front#*:}"
    check "linklocal: ${front%:*}: the guest was granted, twice" \
        bash -c "grep -q '^tap=' '$T/udp.grant' && grep -q '^tap=' '$T/ra.out'"
    check "linklocal: ${front%:*}: its router advertisement to 01:80:c2:00:00:03 gave the host no route" \
        bash -c "! grep -q 'dev tap' '$T/routes'"
    check "linklocal: ${front%:*}: ...and no address from its prefix" bash -c "! grep -q '2001:db8:bad' '$T/addrs'"
    check "linklocal: ${front%:*}: its UDP to the host's address, to 01:80:c2:00:00:0e, reached no socket" \
        grep -qx nothing "$T/udp.out"
    check "linklocal: ${front%:*}: ...nor its broadcast from 0.0.0.0" grep -qx nothing "$T/bcast.out"
done
arp_dropped=$( (nft list table arp userbridge_ports 2>/dev/null || true) | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "linklocal: the ARP probes to 01:80:c2:00:00:0e were dropped before ARP (${arp_dropped:-no table})" \
    test "${arp_dropped:-0}" -ge 3
# An administrator's `nft flush ruleset` takes the port tables away; the
# next request after 10 s makes them again.
nft delete table inet userbridge_ports
nft delete table arp userbridge_ports
sleep 10.2
as_alice "$TT" call stream -- "$T/bin/userbridge-client" --fd=3 --br=br0 >/dev/null 2>&1 || true
check "linklocal: a request makes the port tables again once an nft flush removed them" \
    bash -c 'nft list table inet userbridge_ports >/dev/null && nft list table arp userbridge_ports >/dev/null'

# --- 32-7: neighbour discovery split into fragments --------------------------
# A pinned guest's advertisement for a target ip= does not list, naming a
# MAC not its own, cut after its first 8 bytes (no target in the first
# fragment) or 24 (no option in it): the first fragment must not cross.
# Whole, the same advertisement is dropped by the rules that read it; one
# for its own address and MAC crosses.
na_fragment() {  # na_fragment TARGET LLA BYTES: BYTES of the NA, after a fragment header (0: the NA whole)
    python3 - "$@" <<'PY'
import ipaddress, struct, sys
target, lla, cut = ipaddress.IPv6Address(sys.argv[1]).packed, bytes.fromhex(sys.argv[2].replace(':', '')), int(sys.argv[3])
src = ipaddress.IPv6Address('fe80::5054:ff:fe12:3456').packed
dst = ipaddress.IPv6Address('fe80::1234:5678').packed
na = struct.pack('!BBHI', 136, 0, 0, 0x60000000) + target + bytes([2, 1]) + lla
b = src + dst + struct.pack('!I', len(na)) + b'\0\0\0\x3a' + na
s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
while s >> 16: s = (s & 0xffff) + (s >> 16)
na = na[:2] + struct.pack('!H', ~s & 0xffff) + na[4:]
if cut == 0:
    body, nh = na, 58
else:
    body, nh = struct.pack('!BBHI', 58, 0, 1, 0x3207) + na[:cut], 44
print((struct.pack('!IHBB', 0x60000000, len(body), nh, 255) + src + dst + body).hex())
PY
}
# nd_crosses BRIDGE HEX: ubalice's pinned guest on BRIDGE sends the IPv6
# packet HEX; the bridge's peer sees it (its destination's 16 bytes) or not.
nd_crosses() {
    "$TT" listen "$1-peer" ip6:fe80::1234:5678 2500 >"$T/nd.listen" &
    local l=$!
    listening "$T/nd.listen"
    as_alice "$TT" call stream --src=52:54:00:12:34:56 --dst=33:33:00:00:00:01 --ethertype=0x86dd \
        --send-hex="$2" -- "$T/bin/userbridge-client" --fd=3 --br="$1" >/dev/null 2>&1 || true
    wait $l
}
bridge br4
acl 'allow br3 user=ubalice mac=52:54:00:12:34:56 servers=no ip=2001:db8::7\nallow br4 user=ubalice mac=52:54:00:12:34:56\nallow br0\n'
reload_daemon
check "ndfrag: a whole advertisement of its own address and MAC crosses br3" \
    nd_crosses br3 "$(na_fragment 2001:db8::7 52:54:00:12:34:56 0)"
check "ndfrag: ...one for another target and MAC, whole, does not" \
    fails nd_crosses br3 "$(na_fragment 2001:db8::99 52:54:00:66:66:66 0)"
check "ndfrag: ...nor its first fragment cut after 8 bytes (no target in it)" \
    fails nd_crosses br3 "$(na_fragment 2001:db8::99 52:54:00:66:66:66 8)"
check "ndfrag: ...nor cut after 24 bytes (no link-layer address in it)" \
    fails nd_crosses br3 "$(na_fragment 2001:db8::99 52:54:00:66:66:66 24)"
check "ndfrag: under mac= alone (br4), a whole one naming another MAC does not cross" \
    fails nd_crosses br4 "$(na_fragment 2001:db8::99 52:54:00:66:66:66 0)"
check "ndfrag: ...nor its first fragment cut after 24 bytes" \
    fails nd_crosses br4 "$(na_fragment 2001:db8::99 52:54:00:66:66:66 24)"
check "ndfrag: ...nor after 8" fails nd_crosses br4 "$(na_fragment 2001:db8::99 52:54:00:66:66:66 8)"

check "no tap left behind" soon no_taps
finish
