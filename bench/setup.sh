# Sourced by bench/run.sh and bench/trace.sh inside the test sandbox
# (tests/integration/lib.sh): br0, allowed by the ACL; Debian's helper
# checked; the setuid no-op and ub-bench installed. Sets B to ub-bench.
bench_setup() {
    bridge br0
    acl 'allow br0\n'
    [ -x "$T/bin/qemu-helper" ] ||
        { echo "bench: Debian's qemu-bridge-helper is missing (qemu-system-common)" >&2; exit 1; }
    install -m 4755 "$UB_BUILD_DIR/bench/ub-noop" "$T/bin/setuid-noop"
    install -m 0755 "$UB_BUILD_DIR/bench/ub-bench" "$T/bin/"
    B=$T/bin/ub-bench
}

# Background pinned taps (bench/datapath.sh, bench/pinned.sh): persistent
# taps bg0.. made by hand (never up, on no bridge), each given the elements
# userbridged gives a tap granted under `mac=... ip=ADDR servers=no`: the
# same number of elements in the same sets as that many such grants held
# open, for the price of a batch. background_taps N makes the taps;
# background_elements N prints the first N's elements, one
# "element bridge userbridge SET { ... }" line a set, for `add` or `delete`.
background_taps() {
    local i
    for ((i = 0; i < $1; i++)); do echo "tuntap add dev bg$i mode tap"; done >"$T/bg.batch"
    ip -batch "$T/bg.batch"
}
background_elements() {
    local n=$1 i set v4=ip4_allowed
    # A table from before the single-address sets has its addresses in
    # the interval set.
    nft list set bridge userbridge ip4_single >/dev/null 2>&1 && v4=ip4_single
    for set in pinned allowed allowed_lla clients $v4 ip_guarded; do
        for ((i = 0; i < n; i++)); do
            case $set in
                allowed) printf '"bg%d" . 52:54:01:00:%02x:%02x\n' $i $((i / 256)) $((i % 256)) ;;
                allowed_lla) printf '"bg%d" . 0x01525401%04x%02x\n' $i $((i / 256)) $((i % 256)) ;;
                ip4_allowed) printf '"bg%d" . 10.10.%d.%d/32\n' $i $((i / 256)) $((i % 256)) ;;
                ip4_single) printf '"bg%d" . 10.10.%d.%d\n' $i $((i / 256)) $((i % 256)) ;;
                *) printf '"bg%d"\n' $i ;;
            esac
        done | paste -sd, | sed "s/^/element bridge userbridge $set { /; s/$/ }/"
    done
}
