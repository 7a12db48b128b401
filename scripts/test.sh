#!/bin/bash
# The whole test suite, from nothing: dependencies, the CI build (-Werror),
# unit and integration tests under CTest. Run as root (the integration tests
# make namespaces, bridges and setuid copies of the helper; all of it is gone
# when they end). Usage: scripts/test.sh [PRESET]   (default: ci)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-ci}
bash scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
ctest --preset "$preset"
