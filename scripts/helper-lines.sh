#!/bin/bash
# Counts the privileged helper's own code, from the build: what a reviewer
# of userbridge-helper has to read (docs/SECURITY.md, "How big the helper
# is"). Run through CMake:
#
#   cmake --build --preset ci --target helper-lines
#
# or directly, on a build directory in which userbridge-helper is linked:
#
#   scripts/helper-lines.sh BUILD_DIR [--max N] [--report-only]
#
# What is counted, and how it is found (nothing is listed by hand):
#  - the translation units the linker pulled into the helper: the
#    "Archive member included" section of its link map (the build links it
#    with -Wl,-Map=userbridge-helper.map) names each member of this
#    project's static libraries that some reference needed; the map's LOAD
#    lines name the helper's own objects (main.cpp and the like). Members
#    nothing referenced are not in the helper and are not counted;
#  - the project headers those units include, from the compiler's
#    dependency files (-MD: the OBJECT.o.d next to each object; with Ninja,
#    `ninja -t deps`), each header once;
#  - only files of the source tree: system headers, libmnl, libcap-ng and
#    the C++ runtime are not this project's code; generated headers (the
#    BPF tables seccomp-gen writes into the build) are listed, not counted.
#
# A line counts when it holds code once comments are taken out: blank
# lines and lines holding only comment text do not count. Comments are
# recognised as C++ lexes them: `//` to the end of the line and `/* ... */`
# across lines, but not inside string or character literals ("//" in a
# string is code); a `'` between two hex digits is a digit separator
# (10'000), not a character literal.
#
# Prints each file's code lines and physical lines, then the totals. Exits
# 1 when the code lines exceed --max (2,500 by default, issue #21), unless
# --report-only; 2 on bad usage or a build that cannot be read.
set -euo pipefail

max=2500
report_only=0
build=
while [ $# -gt 0 ]; do
    case $1 in
        --max) max=${2:?--max needs a number}; shift 2 ;;
        --max=*) max=${1#--max=}; shift ;;
        --report-only) report_only=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        -*) echo "helper-lines: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$build" ] || { echo "helper-lines: one build directory only" >&2; exit 2; }
           build=$1; shift ;;
    esac
done
case $max in ''|*[!0-9]*) echo "helper-lines: --max wants a number, not '$max'" >&2; exit 2 ;; esac
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR [--max N] [--report-only]" >&2; exit 2; }
build=$(realpath "$build")
src=$(realpath "$(dirname "$0")/..")
map=$build/userbridge-helper.map
[ -r "$map" ] || { echo "helper-lines: no link map $map: build the helper first (cmake --build BUILD_DIR --target userbridge-helper)" >&2; exit 2; }

die() { echo "helper-lines: $*" >&2; exit 2; }
# GNU ld's map (gcc's default linker here); lld and gold write other forms.
grep -q '^Archive member included to satisfy reference' "$map" ||
    die "$map has no \"Archive member included\" section: not a GNU ld link map"

# A path as the linker or compiler wrote it (relative to the directory it
# ran in) made absolute.
absolute() { (cd "$2" && realpath -m "$1"); }

# The objects the helper is made of, one absolute path a line.
helper_objects() {
    # The helper's own objects: LOAD lines of objects that the build made.
    sed -n 's/^LOAD \(.*\.o\)$/\1/p' "$map" | while read -r obj; do
        obj=$(absolute "$obj" "$build")
        case $obj in "$build"/*) echo "$obj" ;; esac
    done
    # Members of the project's archives that the link pulled in. An entry
    # is `ARCHIVE(MEMBER)` at the start of a line, in the section that ends
    # at the next heading (a line of text at column 0 with no parenthesis).
    sed -n '/^Archive member included/,/^[A-Z][a-z-]* [a-z]/{s/^\([^ (][^ (]*\.a\)(\([^)]*\)).*/\1 \2/p}' "$map" |
    while read -r archive member; do
        archive=$(absolute "$archive" "$build")
        case $archive in "$build"/*) ;; *) continue ;; esac
        # CMake puts libNAME.a's objects under CMakeFiles/NAME.dir/ of the
        # archive's directory, as PATH/OF/SOURCE.cpp.o.
        local name=${archive##*/}
        name=${name#lib}
        name=${name%.a}
        local objdir
        objdir=$(dirname "$archive")/CMakeFiles/$name.dir
        [ -d "$objdir" ] || die "no object directory $objdir for $archive($member)"
        local found
        found=$(find "$objdir" -type f -name "$member")
        [ "$(printf '%s\n' "$found" | grep -c .)" -eq 1 ] ||
            die "$archive($member): not exactly one object named $member under $objdir"
        echo "$found"
    done
}

# The source and the headers one object was compiled from, absolute, one a
# line: the compiler's dependency file, read where the compiler ran (the
# directory that holds CMakeFiles/).
object_inputs() {
    local obj=$1
    if [ -r "$obj.d" ]; then
        sed -e 's/\\$//' -e 's/^[^ ]*: *//' "$obj.d" | tr -s ' \t' '\n\n' | grep . |
            (cd "${obj%%/CMakeFiles/*}" && xargs -r realpath -m --)
    elif [ -r "$build/build.ninja" ]; then
        ninja -C "$build" -t deps "${obj#"$build"/}" | sed -n 's/^    //p' |
            (cd "$build" && xargs -r realpath -m --)
    else
        die "no dependency file $obj.d"
    fi
}

# Code lines and physical lines of FILE, as "CODE LINES".
count_file() {
    awk '
    BEGIN { block = 0 }
    {
        code = 0; quote = ""; prev = ""
        n = length($0)
        for (i = 1; i <= n; i++) {
            c = substr($0, i, 1); next2 = substr($0, i, 2)
            if (block) {
                if (next2 == "*/") { block = 0; i++ }
                continue
            }
            if (quote != "") {
                code = 1
                if (c == "\\") { i++; continue }
                if (c == quote) quote = ""
                continue
            }
            if (next2 == "//") break
            if (next2 == "/*") { block = 1; i++; continue }
            if (c == "\"") quote = c
            else if (c == "'\''" && !(prev ~ /[0-9A-Fa-f]/ && substr($0, i + 1, 1) ~ /[0-9A-Fa-f]/)) quote = c
            if (c !~ /[ \t\r\f\v]/) code = 1
            prev = c
        }
        if (code) lines++
    }
    END { printf "%d %d\n", lines, NR }' "$1"
}

objects=$(helper_objects | sort -u)
[ -n "$objects" ] || die "no object of this project in $map"

units=()
headers=()
generated=()
while read -r obj; do
    first=1
    while read -r input; do
        if [ $first = 1 ]; then
            units+=("$input"); first=0; continue
        fi
        case $input in
            "$build"/*) generated+=("$input") ;;
            "$src"/*) headers+=("$input") ;;
        esac
    done < <(object_inputs "$obj")
done <<<"$objects"
mapfile -t units < <(printf '%s\n' "${units[@]}" | sort -u)
mapfile -t headers < <(printf '%s\n' "${headers[@]}" | sort -u)
mapfile -t generated < <(printf '%s\n' "${generated[@]}" | grep . | sort -u || true)

total_code=0
total_lines=0
show() {
    local heading=$1; shift
    echo "$heading"
    local f code lines
    for f in "$@"; do
        read -r code lines < <(count_file "$f")
        printf '%7d %7d  %s\n' "$code" "$lines" "${f#"$src"/}"
        total_code=$((total_code + code))
        total_lines=$((total_lines + lines))
    done
}

echo "userbridge-helper: this project's code it is built from"
echo "   code   lines  file (code: non-blank lines outside comments)"
show "translation units the linker pulled in (${#units[@]}):" "${units[@]}"
show "project headers they include (${#headers[@]}):" "${headers[@]}"
printf '%7d %7d  total, %d files\n' "$total_code" "$total_lines" $((${#units[@]} + ${#headers[@]}))
for f in "${generated[@]}"; do
    echo "not counted, generated at build time: ${f#"$build"/}"
done

if [ "$total_code" -gt "$max" ]; then
    echo "helper-lines: $total_code code lines, over the limit of $max (issue #21)"
    [ $report_only = 1 ] || exit 1
else
    echo "helper-lines: $total_code code lines, within the limit of $max"
fi
