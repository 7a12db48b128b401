# Shared set-up for the policy_*.sh tests (source it after lib.sh): four
# bridges, the ACL every policy test starts from (its checks name its
# lines), and the helpers that send frames through a pinned tap. Its br3
# rules filter traffic, which only userbridged does: taps on br3 come
# from userbridge-client, with the daemon a test starts. quota_acl puts
# max-taps=2 on br0's rule (line 1 still), which only userbridged grants.
bridge br0
bridge br1
bridge br2
bridge br3
policy_acl() {
acl "allow br0 group=ubvm ${1:-}max-queues=4
deny br1 user=ubalice
allow br1
allow br2 user=ubbob
allow br3 user=ubalice mac=52:54:00:12:34:56
allow br3 user=ubbob mac-prefix=52:54:00
"
}
policy_acl
quota_acl() { policy_acl 'max-taps=2 '; }
setuid=$T/bin/setuid-helper
fcap=$T/bin/fcap-helper
pinned=52:54:00:12:34:56
ub=$T/bin/userbridge
client=$T/bin/userbridge-client

source "$(dirname "${BASH_SOURCE[0]}")/lib_tables.sh"
# crosses CALLER MS CALL-OPTION...: ubalice gets a tap on br3 through CALLER
# and sends a frame into it (ub-testtool call CALL-OPTION... makes it); does
# it reach the wire within MS ms? (The frame carries a marker to look for;
# LISTEN_FOR names another.) A grant that fails ends the test, so that
# "does not cross" can never pass because nothing was sent.
crosses() {
    local caller=$1 ms=$2 marker="pin$RANDOM$RANDOM"
    shift 2
    "$T/bin/ub-testtool" listen br3-peer "${LISTEN_FOR:-$marker}" "$ms" >"$T/listener" &
    local listener=$!
    listening "$T/listener"
    as_alice "$T/bin/ub-testtool" call stream "$@" --send="$marker" -- \
        "$caller" --fd=3 --br=br3 >/dev/null ||
        { echo "FAIL: no tap from $caller to send the frame"; exit 1; }
    sent_frame_seen $listener
}
# msg_crosses CALLER CALL-OPTION...: crosses, from the pinned MAC.
msg_crosses() { crosses "$1" 3000 --src=$pinned "${@:2}"; }
# nd_crosses_from KIND SOURCE TARGET: an NS or NA from SOURCE about
# TARGET; the listener looks for TARGET.
nd_crosses_from() {
    LISTEN_FOR=ip6:$3 crosses "$client" 3000 --src=$pinned --nd="$1:$pinned" --ip6="$2" --nd-target="$3"
}

# flood_out CALLER: how many of the guest's frames reach the wire;
# flood_in CALLER: how many sent from the wire reach the guest.
flood_out() {
    local marker="rate$RANDOM$RANDOM"
    "$T/bin/ub-testtool" count br3-peer "$marker" 1500 >"$T/count" &
    local counter=$!
    listening "$T/count"
    as_alice "$T/bin/ub-testtool" call stream --src=$pinned --flood=300 --send="$marker" -- \
        "$1" --fd=3 --br=br3 >/dev/null || { echo "FAIL: no tap from $1 to flood"; exit 1; }
    wait $counter
    sed -n 's/^count=//p' "$T/count"
}
flood_in() {
    local marker="rate$RANDOM$RANDOM"
    as_alice "$T/bin/ub-testtool" call stream --count="$marker:1500" -- "$1" --fd=3 --br=br3 >"$T/count" &
    local caller=$!
    granted "$T/count"  # from then on, the tap queues what the bridge sends it
    "$T/bin/ub-testtool" flood br3-peer "$marker" 300
    wait $caller || { echo "FAIL: no tap from $1 to be flooded"; exit 1; }
    sed -n 's/^count=//p' "$T/count"
}

# derived VM: the MAC (mac=...) ubbob's tap on br3 gets for VM.
derived() {
    as_bob "$T/bin/ub-testtool" call stream --hold=800 -- "$client" --vm="$1" --fd=3 --br=br3 >"$T/held" &
    local holder=$!
    granted "$T/held"
    ip -d -o link show master br3 type tun | grep -o 'mac=[0-9a-f:]*'
    wait $holder
}
