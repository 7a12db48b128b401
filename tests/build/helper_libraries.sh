#!/bin/bash
# What the privileged helper runs besides this project's code: its shared
# libraries must be libc (with its dynamic loader), libcap-ng and libmnl,
# and it must load nothing at run time (issue #21, item 5; docs/SECURITY.md,
# "How big the helper is"). A library the helper dlopens is code a reviewer
# of the helper has to read too, chosen at run time and invisible to
# `ldd`: so an import of dlopen or dlmopen fails here, whatever it is for.
#
#   tests/build/helper_libraries.sh PATH/TO/userbridge-helper
#
# Reads the ELF file only (readelf): the DT_NEEDED entries of its dynamic
# section, and the undefined symbols of its dynamic symbol table. Exits 0
# when both hold, 1 (naming each offender) when not, 2 on bad usage.
set -euo pipefail

helper=${1:?usage: $0 PATH/TO/userbridge-helper}
[ -r "$helper" ] || { echo "helper_libraries: cannot read $helper" >&2; exit 2; }
readelf -h "$helper" >/dev/null || exit 2

# libc.so.6, ld-linux-x86-64.so.2 (or another architecture's loader name),
# libcap-ng.so.0, libmnl.so.0.
allowed='^(libc\.so\.[0-9]+|ld-linux[-a-z0-9_.]*\.so\.[0-9]+|libcap-ng\.so\.[0-9]+|libmnl\.so\.[0-9]+)$'
loaders='^(dlopen|dlmopen)$'

echo "target: shared libraries only libc (and its loader), libcap-ng, libmnl; nothing dlopened"
failed=0
needed=$(readelf -d "$helper" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
for lib in $needed; do
    if [[ $lib =~ $allowed ]]; then
        echo "ok      NEEDED $lib"
    else
        echo "FAIL    NEEDED $lib: not one of libc, its loader, libcap-ng, libmnl"
        failed=1
    fi
done
# Undefined dynamic symbols are what the helper imports: "dlopen@GLIBC_2.34".
imports=$(readelf --dyn-syms -W "$helper" | awk '$7 == "UND" { sub(/@.*/, "", $8); print $8 }')
for sym in $imports; do
    if [[ $sym =~ $loaders ]]; then
        echo "FAIL    imports $sym: the helper loads a library at run time"
        failed=1
    fi
done
[ $failed = 1 ] || echo "ok      imports no dlopen or dlmopen"
exit $failed
