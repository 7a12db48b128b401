#!/bin/bash
# The whole test suite, from nothing, as CI runs it. Run as root (the
# integration tests make namespaces, bridges and setuid copies of the helper;
# all of it is gone when they end).
#
#   scripts/test.sh            dependencies, then all three below
#   scripts/test.sh ci         build with -Werror; unit + integration tests,
#                              then the benchmarks' smoke runs
#   scripts/test.sh asan       the same suite built with ASan + UBSan
#   scripts/test.sh fuzz       each libFuzzer target for UB_FUZZ_SECONDS
#                              (default 30) plus its regression inputs
set -euo pipefail
cd "$(dirname "$0")/.."

run_preset() {
    local preset=$1
    echo "==> $preset: configure, build, test"
    cmake --preset "$preset" ${UB_FUZZ_SECONDS:+-DUB_FUZZ_SECONDS=$UB_FUZZ_SECONDS} >/dev/null
    cmake --build --preset "$preset" -j"$(nproc)"
    ctest --preset "$preset"
    # The benchmarks' smoke runs, in their own CTest configuration (a plain
    # ctest leaves them out): run here so that the scripts cannot rot.
    ctest --preset "$preset" -C bench -L '^bench$' --no-tests=ignore
}

bash scripts/install-deps.sh
if [ $# -eq 0 ]; then
    set -- ci asan fuzz
fi
for preset in "$@"; do
    run_preset "$preset"
done
echo "==> all test presets passed: $*"
