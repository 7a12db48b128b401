#!/bin/bash
# Derived guest MACs (mac-prefix=) cannot be made to collide:
#   - the attack: ubbob searches offline, as the old unkeyed derivation let
#     anyone, for a VM name whose derived MAC is ubalice's VM's, then asks
#     for a tap with that name; his tap must not be pinned to her MAC
#     (through the setuid helper and through userbridged);
#   - the key it is derived with now is root's alone, so bob cannot compute
#     what he would need;
#   - collisions forced otherwise are refused while the first tap lives:
#     the same user and VM name twice, an administrator's mac= equal to a
#     live derived MAC, across the helper and the daemon;
#   - a file-capability helper refuses mac-prefix= (it cannot read the key)
#     and names the alternatives, no key refuses with how to make one, a
#     key file anyone else may read is refused, userbridged makes the key
#     at its first start.
source "$(dirname "$0")/lib.sh"

bridge br0
bridge br1
acl 'allow br0 mac-prefix=52:54:00\n'
setuid=$T/bin/setuid-helper
client=$T/bin/userbridge-client
searcher=$T/bin/ub-testtool

guest_mac_of() { ip -d -o link show dev "$1" 2>/dev/null | grep -o 'mac=[0-9a-f:]*' | cut -d= -f2 || true; }

# hold NAME UID HELPER ARGS...: a tap granted to UID and held in the
# background as NAME; sets HELD (its name, empty if refused).
declare -A HOLDER
hold() {
    local name=$1 uid=$2
    shift 2
    setpriv --reuid="$uid" --regid="$uid" --clear-groups -- \
        "$T/bin/ub-testtool" call stream --hold=60000 -- "$@" --fd=3 >"$T/$name.out" 2>"$T/$name.err" &
    HOLDER[$name]=$!
    BACKGROUND+=($!)
    for _ in $(seq 200); do
        grep -q 'tap=' "$T/$name.out" && break
        kill -0 "${HOLDER[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    HELD=$(sed -n 's/^tap=\([^ ]*\).*/\1/p' "$T/$name.out")
}
release() {
    kill "${HOLDER[$1]}" 2>/dev/null || true
    wait "${HOLDER[$1]}" 2>/dev/null || true
}
# refused_while_held NAME EXPECTED-STDERR AS HELPER ARGS...: a grant that
# must fail with EXPECTED-STDERR and leave the taps as they were.
refused_while_held() {
    local name=$1 want=$2 who=$3 before rc=0
    shift 3
    wanted "$name" || return 0
    before=$(taps | sort | tr '\n' ' ')
    "$who" "$T/bin/ub-testtool" call stream -- "$@" --fd=3 >"$T/out" 2>"$T/err" || rc=$?
    if [ $rc -eq 0 ]; then
        fail "$name: granted ($(cat "$T/out")), expected: $want"
    elif ! grep -qF -- "$want" "$T/err"; then
        fail "$name: stderr lacks '$want':"
        sed 's/^/    /' "$T/err"
    elif [ "$(taps | sort | tr '\n' ' ')" != "$before" ]; then
        fail "$name: taps changed: $before -> $(taps | sort | tr '\n' ' ')"
    else
        pass "$name: $(head -n1 "$T/err")"
    fi
}

# --- the attack: an offline search for a colliding VM name ----------------
attack() {
    local path=$1
    shift
    hold alice $ALICE "$@" --vm=web --br=br0
    local alice_tap=$HELD alice_mac
    alice_mac=$(guest_mac_of "$alice_tap")
    check "$path: ubalice's VM web has a derived MAC ($alice_mac)" grep -q '^52:54:00:' <<<"$alice_mac"
    local found vm
    found=$(as_bob timeout 120 "$searcher" mac-search $BOB br0 52:54:00 "${alice_mac:-52:54:00:00:00:00}" || true)
    echo "    ubbob's offline search, with the unkeyed derivation: ${found:-nothing found}"
    vm=$(sed -n 's/^vm=\([^ ]*\).*/\1/p' <<<"$found")
    hold bob $BOB "$@" --vm="${vm:-x0}" --br=br0
    local bob_mac
    bob_mac=$(guest_mac_of "$HELD")
    check "$path: ubbob's VM ${vm:-?} is not pinned to ubalice's MAC (his: ${bob_mac:-no tap}, hers: $alice_mac)" \
        test -n "$bob_mac" -a "$bob_mac" != "$alice_mac"
    release bob
    release alice
}
attack "setuid helper" "$setuid"
start_daemon
attack "userbridged" "$client"

# --- the key -----------------------------------------------------------------
check "ubbob cannot read the MAC key" fails as_bob cat "$MAC_KEY"
check "the key is root's, mode 0600, 32 bytes" \
    test "$(stat -c '%U %a %s' "$MAC_KEY")" = "root 600 32"

# --- collisions forced otherwise are refused ------------------------------------
hold alice $ALICE "$setuid" --vm=web --br=br0
alice_mac=$(guest_mac_of "$HELD")
refused_while_held "the same user and VM name twice (helper)" \
    "guest MAC $alice_mac is already pinned to $HELD" as_alice "$setuid" --vm=web --br=br0
refused_while_held "the same user and VM name twice (helper, then userbridged)" \
    "guest MAC $alice_mac is already pinned to $HELD" as_alice "$client" --vm=web --br=br0
acl "allow br0 mac-prefix=52:54:00\nallow br1 user=ubbob mac=$alice_mac\n"
reload_daemon
refused_while_held "an administrator's mac= equal to a live derived MAC (helper)" \
    "guest MAC $alice_mac is already pinned to $HELD" as_bob "$setuid" --br=br1
refused_while_held "an administrator's mac= equal to a live derived MAC (userbridged)" \
    "guest MAC $alice_mac is already pinned to $HELD" as_bob "$client" --br=br1
check "the refusal is audited" \
    grep -qE "event=deny user=ubbob .*bridge=\"br1\".*guest MAC $alice_mac is already pinned" "$SYSLOG"
release alice
hold bob $BOB "$setuid" --br=br1
check "once ubalice's tap is gone, the MAC is free again" test -n "$HELD"
release bob
stop_daemon

# --- without a readable key, no derived MAC -------------------------------------
acl 'allow br0 mac-prefix=52:54:00\n'
refused "a file-capability helper refuses mac-prefix= and names the alternatives" \
    "this helper cannot read the MAC key (it runs with file capabilities, as you, and only root may read $MAC_KEY): use userbridged (userbridge-client" \
    as_alice "$T/bin/ub-testtool" call stream -- "$T/bin/fcap-helper" --vm=web --br=br0 --fd=3
chmod 0644 "$MAC_KEY"
refused "a key file others may read is refused" "$MAC_KEY is readable or writable by group or others" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --vm=web --br=br0 --fd=3
rm -f "$MAC_KEY"
refused "no key: derived MACs are refused, and the message says how to make one" \
    "no MAC key at $MAC_KEY: start userbridged once" \
    as_alice "$T/bin/ub-testtool" call stream -- "$setuid" --vm=web --br=br0 --fd=3
check "...while rules without mac-prefix= still grant" bash -c "
    printf 'allow br0\n' >/etc/qemu/bridge.conf
    setpriv --reuid=$ALICE --regid=$ALICE --clear-groups -- '$T/bin/ub-testtool' call stream -- '$setuid' --br=br0 --fd=3 | grep -q tap="
acl 'allow br0 mac-prefix=52:54:00\n'
rmdir /var/lib/userbridge 2>/dev/null || true  # a mount point: stays
start_daemon
check "userbridged made the key at its first start" \
    test "$(stat -c '%U %a %s' "$MAC_KEY" 2>/dev/null)" = "root 600 32"
check "...and grants derived MACs with it" \
    grep -q 'tap=' <(as_alice "$T/bin/ub-testtool" call stream -- "$client" --vm=web --br=br0 --fd=3)
stop_daemon
check "no tap left" test -z "$(taps)"
finish
