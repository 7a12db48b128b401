# Sourced first by bench/run.sh and bench/datapath.sh: their options,
# --smoke and --out DIR (default docs/perf), into $smoke and $out; then the
# integration tests' sandbox, which re-executes the calling script inside
# fresh namespaces (tests/integration/lib.sh). Sets here and root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export UB_BUILD_DIR=${UB_BUILD_DIR:-$root/build}

smoke=0
out=$root/docs/perf
args=("$@")
while [ $# -gt 0 ]; do
    case $1 in
        --smoke) smoke=1 ;;
        --out) out=$2; shift ;;
        *) echo "usage: bench/$(basename "$0") [--smoke] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
set -- "${args[@]}"

source "$root/tests/integration/lib.sh"
trap 'ub_cleanup' EXIT
