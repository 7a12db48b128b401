#!/bin/bash
# Builds userbridge's Debian packages from this source tree and checks them
# with lintian (any error fails the build):
#
#   packaging/build-deb.sh [OUTDIR]      default OUTDIR: build-deb/
#
# dpkg-buildpackage wants debian/ at the top of the source; ours lives in
# packaging/debian, so the build runs in a copy of the tree (the files git
# tracks or would track: no build directories, nothing ignored).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$src/build-deb}")
version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/userbridge-$version
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$tree"
else
    tar -C "$src" --exclude='./build*' -cf - . | tar -xf - -C "$tree"
fi
cp -r "$src/packaging/debian" "$tree/debian"

(cd "$tree" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log"
    echo "build-deb: dpkg-buildpackage failed" >&2
    exit 1
}
changes=$(ls "$work"/userbridge_"$version"_*.changes)
# lintian: errors fail the build, warnings are shown.
lintian --fail-on error --allow-root "$changes" | tee "$work/lintian.log"

mkdir -p "$out"
cp "$work"/*.deb "$out/"
echo "build-deb: $(cd "$out" && ls ./*.deb | tr '\n' ' ')in $out"
