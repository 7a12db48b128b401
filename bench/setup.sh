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
