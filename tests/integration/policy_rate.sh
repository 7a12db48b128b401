#!/bin/bash
# rate=: each way, a tap is policed to the rule's rate, with a pinned MAC
# or without; the next grant collects dead taps' limits.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_policy.sh"

# rate=: each way, a tap is policed to the rule's rate. A flood of 300
# frames of 1000 bytes (300 kB, sent in a few ms) crosses whole without it;
# at 400 kbit/s (50 kB/s; nft's bucket holds a second's worth) about a
# sixth does.
n=$(flood_out "$fcap")
check "without rate=, the guest's flood reaches the wire whole ($n of 300)" test "$n" -ge 290
n=$(flood_in "$fcap")
check "...and a flood to the guest reaches it whole ($n of 300)" test "$n" -ge 290
sed -i "s|^allow br3 user=ubalice mac=$pinned\$|& rate=400kbit|" /etc/qemu/bridge.conf
for mode in setuid fcap; do
    n=$(flood_out "$T/bin/$mode-helper")
    check "$mode, rate=400kbit: of the guest's flood, a burst's worth reaches the wire ($n of 300)" \
        test "$n" -ge 5 -a "$n" -le 100
    n=$(flood_in "$T/bin/$mode-helper")
    check "$mode, rate=400kbit: and of a flood to it, a burst's worth reaches the guest ($n of 300)" \
        test "$n" -ge 5 -a "$n" -le 100
done
check "the rate drops were counted, each way" bash -c "
    nft list chain bridge userbridge prerouting | grep -qE 'rate_out counter packets [1-9]' &&
    nft list chain bridge userbridge postrouting | grep -qE 'rate_in counter packets [1-9]'"
as_alice "$T/bin/ub-testtool" call stream --hold=1200 -- "$setuid" --fd=3 --br=br3 >/dev/null &
holder=$!
sleep 0.6
for map in rate_out rate_in; do
    elements=$(nft list map bridge userbridge $map | tr -d '\n\t')
    check "the next grant collects the dead taps' $map elements (left: $elements)" \
        grep -qE 'elements = \{ "tap[0-9]+" : "rate[0-9]+_(in|out)" \}' <<<"$elements"
done
check "...and their limit objects (left: $(nft list limits table bridge userbridge | grep -c 'rate over'))" \
    test "$(nft list limits table bridge userbridge | grep -c 'rate over')" -eq 2
wait $holder
# A rate needs no pinned MAC.
sed -i "s|^allow br3 user=ubalice mac=$pinned rate=400kbit\$|allow br3 user=ubalice rate=400kbit|" /etc/qemu/bridge.conf
n=$(flood_out "$fcap")
check "rate=400kbit without mac=: the flood is policed all the same ($n of 300)" test "$n" -ge 5 -a "$n" -le 100
sed -i "s|^allow br3 user=ubalice rate=400kbit\$|allow br3 user=ubalice mac=$pinned|" /etc/qemu/bridge.conf

finish
