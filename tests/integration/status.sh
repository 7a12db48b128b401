#!/bin/bash
# Where is my VM? (issue 25, parts 2 and 3). `userbridge status` lists,
# under each of the caller's taps, the guest MACs behind it and the
# addresses they use: learned by userbridged's nftables chain from what
# the guests send (ARP, DHCP, ICMPv6), never from what others send them.
# A user sees only their own taps; root sees all. A guest of ubbob's that
# claims ubalice's guest's MAC and another address neither hides nor adds
# to what ubalice sees. --json output of status, explain and check is
# valid against docs/schema, errors included.
#
# One case: UB_CASE=REGEX (lib.sh), e.g. UB_CASE='^dhcp'.
source "$(dirname "$0")/lib.sh"

TT=$T/bin/ub-testtool
client=$T/bin/userbridge-client
ub=$T/bin/userbridge
SCHEMAS=$(cd "$(dirname "$0")/../../docs/schema" && pwd)
VALIDATE=$(cd "$(dirname "$0")" && pwd)/validate_json.py
valid() { /usr/bin/python3 "$VALIDATE" "$SCHEMAS" "$@"; }

# The LAN: br0 with the host's address on it and a DHCP server.
bridge br0
ip addr add 10.77.0.1/24 dev br0
acl 'allow br0\n'
start_daemon
# --no-ping: dnsmasq would otherwise ping an address for 3 s before it
# offers it, a wait this test does not look at.
dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-ping --interface=br0 --bind-interfaces \
    --except-interface=lo --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h \
    --dhcp-leasefile="$T/leases" --pid-file= --user=root --group=root 2>"$T/dnsmasq.err" &
DNSMASQ=$!
BACKGROUND+=($DNSMASQ)

check "the daemon made its learning table" nft list chain bridge userbridge_seen learn

# Alice's guests: one with a static IPv4 address (it ARPs from it), one
# with IPv6 (an NA for its global address, from its link-local one), one by
# DHCP (it ARPs from what it got, as RFC 5227 has it announce it).
# shows USER MAC ADDRESS AS: USER's status (run with AS, as_alice or
# as_bob) lists ADDRESS under guest MAC.
shows() { "$4" "$ub" status | has -E "^    guest $2: (.*, )?$3(,|$)"; }
as_alice "$TT" call stream --src=52:54:00:00:aa:01 --arp=10.77.0.50 --send=static --hold=15000 \
    -- "$client" --fd=3 --br=br0 --vm=static >"$T/static.out" &
GUESTS=($!)
as_alice "$TT" call stream --src=52:54:00:00:aa:03 --nd=na:52:54:00:00:aa:03 --ip6=fe80::aa:3 \
    --nd-target=2001:db8::53 --send=v6 --hold=15000 -- "$client" --fd=3 --br=br0 --vm=six >"$T/six.out" &
GUESTS+=($!)
as_alice "$TT" call stream --src=52:54:00:00:aa:02 --dhcp --send=dhcp --hold=15000 \
    -- "$client" --fd=3 --br=br0 --vm=dhcp >"$T/dhcp.out" &
GUESTS+=($!)
check "the guests have their taps" granted "$T/static.out"
check "static: alice sees her guest's MAC and address within 3 s" within 3 shows alice 52:54:00:00:aa:01 10.77.0.50 as_alice
shows6() { shows alice 52:54:00:00:aa:03 fe80::aa:3 as_alice && shows alice 52:54:00:00:aa:03 2001:db8::53 as_alice; }
check "ipv6: ...and the IPv6 guest's link-local and global addresses" within 3 shows6
check "dhcp: the DHCP guest got an address from dnsmasq" within 15 grep -q '^dhcp=10\.77\.0\.' "$T/dhcp.out"
dhcp_ip=$(sed -n 's/^dhcp=//p' "$T/dhcp.out")
check "dhcp: alice sees it ($dhcp_ip) within 3 s" within 3 shows alice 52:54:00:00:aa:02 "${dhcp_ip:-none}" as_alice
as_alice "$ub" status --json >"$T/alice.json"
check "dhcp: the bridge's forwarding entry has the guest's MAC on its tap" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
g = [g for t in d["taps"] if t["vm"] == "dhcp" for g in t["guests"] if g["mac"] == "52:54:00:00:aa:02"]
sys.exit(0 if g and g[0]["in_forwarding_table"] and g[0]["addresses"][0]["source"] == "seen" else 1)' \
    "$T/alice.json"
as_alice "$ub" status >"$T/alice.txt"
check "status names the tap's VM" grep -qE '^  tap[0-9]+  bridge br0  vm static' "$T/alice.txt"

# Bob sees none of it; his own guest, claiming Alice's guest's MAC and
# another address, shows only under his tap.
as_bob "$TT" call stream --src=52:54:00:00:aa:01 --arp=10.77.0.66 --send=spoof --hold=8000 \
    -- "$client" --fd=3 --br=br0 --vm=spoof >"$T/bob.out" &
GUESTS+=($!)
check "bob's guest has its tap" granted "$T/bob.out"
check "bob: sees his own guest's claim" within 3 shows bob 52:54:00:00:aa:01 10.77.0.66 as_bob
as_bob "$ub" status >"$T/bob.txt"
check "bob: sees none of alice's taps" fails grep -qE 'vm (static|six|dhcp)' "$T/bob.txt"
check "bob: ...nor her addresses" fails grep -qE '10\.77\.0\.50|2001:db8::53' "$T/bob.txt"
as_bob "$ub" status --json >"$T/bob.json"
check "bob: the JSON holds his one tap" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if [t["vm"] for t in d["taps"]] == ["spoof"] else 1)' "$T/bob.json"
as_alice "$ub" status >"$T/alice2.txt"
check "attack: bob's claim does not hide alice's address" grep -qE '^    guest 52:54:00:00:aa:01: .*10\.77\.0\.50' "$T/alice2.txt"
check "attack: ...nor add his to her taps" fails grep -q '10\.77\.0\.66' "$T/alice2.txt"
# The bridge itself learns from Bob's frames: it moves the MAC to his port
# (a kernel limit), so the forwarding table alone would hide her guest.
as_alice "$ub" status --json >"$T/alice.json"
check "attack: her guest's MAC left her port's forwarding entry, yet its address still shows" \
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
g = [g for t in d["taps"] if t["vm"] == "static" for g in t["guests"] if g["mac"] == "52:54:00:00:aa:01"]
sys.exit(0 if g and not g[0]["in_forwarding_table"] and g[0]["addresses"][0]["address"] == "10.77.0.50" else 1)' \
    "$T/alice.json"
# A guest flooding ARP from 2000 addresses adds at most its burst (16) and
# one a second to the sets: a tap of root's own, written to directly.
ip tuntap add ubflood mode tap
ip link set ubflood master br0 up
/usr/bin/python3 - <<'PY'
import fcntl, os, struct
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"ubflood", 0x1002))  # TUNSETIFF: IFF_TAP | IFF_NO_PI
src = bytes.fromhex("525400ff0001")
for i in range(2000):
    sender = bytes([10, 78, i >> 8, i & 0xff])
    arp = bytes.fromhex("0001080006040001") + src + sender + bytes(6) + bytes([10, 78, 255, 254])
    os.write(fd, (b"\xff" * 6 + src + b"\x08\x06" + arp).ljust(60, b"\0"))
PY
flooded=$(nft list set bridge userbridge_seen seen4 | grep -o '"ubflood"' | wc -l)
check "flood: 2000 claimed addresses left $flooded elements (at most 16 and one a second)" \
    test "$flooded" -ge 1 -a "$flooded" -le 20
check "flood: ...and alice's address still shows" shows alice 52:54:00:00:aa:01 10.77.0.50 as_alice
"$ub" status >"$T/root.txt"
check "root: sees every tap, with its owner" grep -qE "uid $BOB  vm spoof" "$T/root.txt"
check "root: ...and alice's addresses" grep -q '10\.77\.0\.50' "$T/root.txt"
# Full sets (review item 33-2): 60,000 entries each in seen4 and seen6,
# root's tap's. Read whole (alice's few among them), and a status query
# answers at once: nft's text listing of them took about a second, and
# held up every request behind it.
/usr/bin/python3 - "$(cat /sys/class/net/ubflood/ifindex)" >"$T/full.nft" <<'PY'
import sys
i = sys.argv[1]
for s, fmt in (("seen4", "10.{}.{}.{}"), ("seen6", "2001:db8:ff::{:x}:{:x}:{:x}")):
    for c in range(0, 60000, 5000):
        print(f"add element bridge userbridge_seen {s} {{ " + ", ".join(
            f"{i} . 52:54:01:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x} . "
            + fmt.format(100 + (n >> 16), n >> 8 & 255, n & 255) for n in range(c, c + 5000)) + " }")
PY
nft -f "$T/full.nft"
truncated() {
    "$ub" status --json >"$T/full.json" &&
        /usr/bin/python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["learning"]["truncated"] else 1)' \
            "$T/full.json"
}
check "full sets: root's status says it shows only part of them" within 3 truncated
check "full sets: ...and alice's address, read from them, still shows" shows alice 52:54:00:00:aa:01 10.77.0.50 as_alice
ip link del ubflood

# --- JSON: valid against its schema, errors included ----------------------------
json_case() {  # json_case NAME SCHEMA CMD...: CMD's stdout is valid JSON of SCHEMA
    local name=$1 schema=$2
    shift 2
    "$@" >"$T/json" 2>"$T/json.err" || true
    check "json: $name" valid "$schema" <"$T/json"
}
json_case "status as alice" status as_alice "$ub" status --json
json_case "status as root" status "$ub" status --json
json_case "status, a bad argument" status as_alice "$ub" status --json --frob
check "json: ...which is an error object" grep -q '"error": "status: unknown argument' "$T/json"
json_case "explain, allowed" explain as_alice "$ub" explain --json --br=br0
json_case "explain, denied" explain as_alice "$ub" explain --json --br=br9
json_case "explain, no such user" explain "$ub" explain --json --user=ghost --br=br0
json_case "explain, a bad bridge name" explain as_alice "$ub" explain --json --br=../x
acl 'allow br0\n' secret.conf 0600
json_case "explain, an ACL she cannot read" explain as_alice "$ub" explain --json --br=br0 --config=/etc/qemu/secret.conf
json_case "explain, root for her, an ACL she cannot read" explain "$ub" explain --json --user=ubalice --br=br0 \
    --config=/etc/qemu/secret.conf
check "json: ...which says she cannot read it" grep -q '"acl_readable": false' "$T/json"
json_case "check, valid" check "$ub" check --json
acl 'allow br0 frob=1\n' bad.conf
json_case "check, invalid" check "$ub" check --json /etc/qemu/bad.conf
check "json: ...which says so" grep -q '"valid": false' "$T/json"
json_case "check, a bad option" check "$ub" check --json --frob
json_case "check, no such file" check "$ub" check --json /etc/qemu/none.conf
check "json: a wrong document fails validation (the validator works)" \
    fails valid status <<<'{"schema_version": 1, "command": "status"}'

# --- a link dump that links change under ------------------------------------------
# A dump of many links spans datagrams; a link made or deleted meanwhile
# flags it NLM_F_DUMP_INTR, which userbridge status (and userbridged's
# start-up and index) met as an error. It asks again instead.
if wanted "churn"; then
    for i in $(seq 300); do ip tuntap add dev churn$i mode tap; done
    (while :; do ip link add chx0 type veth peer name chx1 2>/dev/null; ip link del chx0 2>/dev/null; done) &
    churn=$!
    failed=0
    : >"$T/churn.err"
    for _ in $(seq 30); do "$ub" status >/dev/null 2>>"$T/churn.err" || failed=$((failed + 1)); done
    kill $churn
    wait $churn 2>/dev/null || true
    check "churn: status lists 300 taps while links come and go ($failed of 30 failed$(head -c 100 "$T/churn.err"))" \
        test $failed -eq 0
    for i in $(seq 300); do ip link del churn$i; done
    ip link del chx0 2>/dev/null || true
fi

# --- nothing left behind --------------------------------------------------------
# The guests hold their taps for a while (--hold), then close them.
wait "${GUESTS[@]}" 2>/dev/null || true
kill "$DNSMASQ" && wait "$DNSMASQ" 2>/dev/null || true
stop_daemon
check "no dnsmasq left" fails kill -0 "$DNSMASQ" 2>/dev/null
check "no tap left" soon no_taps

finish
