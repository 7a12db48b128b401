#!/bin/bash
# The privileged helper's hardening, as the linker left it: how it is linked
# may change for start-up time (docs/PERFORMANCE.md), its hardening may not.
# A position-independent executable (at a random address), full RELRO
# (relocations read-only, every symbol bound at start: BIND_NOW), no text
# relocations, a stack that is not executable, the stack protector, and,
# unless --no-fortify (Debug builds, which define no _FORTIFY_SOURCE),
# glibc's checked functions.
#
#   tests/build/helper_hardening.sh PATH/TO/userbridge-helper [--no-fortify]
#
# Reads the ELF file only (readelf). Exits 0 when all hold, 1 (naming each
# that does not) when not, 2 on bad usage.
set -euo pipefail

helper=${1:?usage: $0 PATH/TO/userbridge-helper [--no-fortify]}
fortify=1
[ "${2:-}" != --no-fortify ] || fortify=0
[ -r "$helper" ] || { echo "helper_hardening: cannot read $helper" >&2; exit 2; }
header=$(readelf -h "$helper") || exit 2
dynamic=$(readelf -dW "$helper")
segments=$(readelf -lW "$helper")
imports=$(readelf --dyn-syms -W "$helper" | awk '$7 == "UND" { sub(/@.*/, "", $8); print $8 }')

failed=0
check() {  # check NAME CONDITION...
    local name=$1
    shift
    if "$@"; then echo "ok      $name"; else echo "FAIL    $name"; failed=1; fi
}
has() { grep -E "$1" >/dev/null <<<"$2"; }
lacks() { ! has "$@"; }

check "PIE (ELF type DYN, DT_FLAGS_1 PIE)" \
    bash -c 'grep -q "Type:.*DYN" <<<"$1" && grep -q "FLAGS_1.*PIE" <<<"$2"' _ "$header" "$dynamic"
check "RELRO (a GNU_RELRO segment)" has '^ *GNU_RELRO ' "$segments"
check "full RELRO (BIND_NOW)" has '\((FLAGS|FLAGS_1)\).*(BIND_NOW|NOW)' "$dynamic"
check "no text relocations" lacks 'TEXTREL' "$dynamic"
check "stack not executable" has '^ *GNU_STACK( +[^ ]+){5} +RW ' "$segments"
check "stack protector (imports __stack_chk_fail)" has '^__stack_chk_fail$' "$imports"
if [ $fortify = 1 ]; then
    check "_FORTIFY_SOURCE (imports glibc's __*_chk functions)" has '^__[a-z_]+_chk$' "$imports"
fi
exit $failed
