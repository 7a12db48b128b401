#!/bin/bash
# `cmake --install` into a staging root: every binary, man page, unit,
# example and completion where it belongs, the helper given cap_net_admin+ep
# (not setuid), and the installed files work: the installed helper grants a
# tap to an unprivileged user, `userbridge run` execs through it, the
# installed daemon serves the installed client, the man pages render, the
# example ACL passes `userbridge check`, the completion loads. Then into the
# real system at the configured prefix, used, and removed again.
source "$(dirname "$0")/lib.sh"

bridge br0
acl 'allow br0\n'
S=$T/stage
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$UB_BUILD_DIR/CMakeCache.txt")
DESTDIR=$S cmake --install "$UB_BUILD_DIR" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install failed"; finish; }
P=$S$prefix

for f in bin/userbridge sbin/userbridged libexec/userbridge-helper libexec/userbridge-client \
    lib/libuserbridge.so.0 include/userbridge/userbridge.h include/userbridge/userbridge.hpp \
    lib/pkgconfig/libuserbridge.pc lib/systemd/system/userbridged.service \
    lib/systemd/system/userbridged.socket share/man/man1/userbridge.1 \
    share/man/man5/userbridge-acl.5 share/man/man8/userbridge-helper.8 \
    share/man/man8/userbridged.8 share/man/man8/userbridge-client.8 share/doc/userbridge/examples/bridge.conf \
    share/bash-completion/completions/userbridge; do
    check "installed: $f" test -e "$P/$f"
done
check "the helper has cap_net_admin+ep" grep -q 'cap_net_admin=ep' <(getcap "$P/libexec/userbridge-helper")
check "the helper is not setuid" test ! -u "$P/libexec/userbridge-helper"
check "the unit runs the installed daemon" grep -qx "ExecStart=$prefix/sbin/userbridged" \
    "$P/lib/systemd/system/userbridged.service"
for page in man1/userbridge.1 man5/userbridge-acl.5 man8/userbridge-helper.8 man8/userbridged.8; do
    check "man page renders without warnings: $page" \
        bash -c "man --warnings -l '$P/share/man/$page' 2>&1 >/dev/null | (! grep .)"
done
install -m 644 "$P/share/doc/userbridge/examples/bridge.conf" /etc/qemu/example.conf
check "the example ACL passes userbridge check" "$P/bin/userbridge" check /etc/qemu/example.conf
check "the bash completion loads" bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$P/share/bash-completion/completions/userbridge' && complete -p userbridge"

# The installed programs, used as an unprivileged user.
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$P/libexec/userbridge-helper" --use-vnet --fd=3 --br=br0)
check "the installed helper grants ubalice a tap" grep -q 'tap=tap' <<<"$out"
export LD_LIBRARY_PATH=$P/lib
out=$(as_alice "$P/bin/userbridge" run --helper="$P/libexec/userbridge-helper" -- sh -c 'echo fd={fd} mac={mac}')
check "the installed userbridge run execs through it" grep -qE '^fd=[0-9]+ mac=52:' <<<"$out"
unset LD_LIBRARY_PATH
DAEMON_BIN=$P/sbin/userbridged start_daemon
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$P/libexec/userbridge-client" --fd=3 --br=br0)
check "the installed daemon serves the installed client" grep -q 'tap=tap' <<<"$out"
stop_daemon
check "no tap left" test -z "$(taps)"

# Into the real system, at the configured prefix, where the paths compiled
# into the programs are the real ones: `userbridge run` finds the helper by
# itself. Then every installed file, and each directory the install made,
# is removed again.
if [ -e "$prefix/libexec/userbridge-helper" ] || [ -e "$prefix/bin/userbridge" ]; then
    echo "SKIP (real-system part): userbridge is already installed under $prefix"
    finish
    exit 0
fi
dirs_before=$T/dirs-before
find "$prefix" -xdev -type d 2>/dev/null | sort >"$dirs_before"
uninstall() {
    [ -s "$UB_BUILD_DIR/install_manifest.txt" ] || return 0
    xargs -d '\n' rm -f <"$UB_BUILD_DIR/install_manifest.txt"
    find "$prefix" -xdev -type d 2>/dev/null | sort | comm -13 "$dirs_before" - | sort -r |
        xargs -r -d '\n' rmdir 2>/dev/null || true
}
trap 'rc=$?; set +e; uninstall; (exit $rc); ub_cleanup' EXIT
cmake --install "$UB_BUILD_DIR" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install into $prefix failed"; }
check "installed into $prefix: the helper has cap_net_admin+ep" \
    grep -q 'cap_net_admin=ep' <(getcap "$prefix/libexec/userbridge-helper")
out=$(as_alice "$prefix/bin/userbridge" run -- sh -c 'echo fd={fd} mac={mac}')
check "$prefix/bin/userbridge run finds $prefix/libexec/userbridge-helper itself" \
    grep -qE '^fd=[0-9]+ mac=52:' <<<"$out"
uninstall
left=$(xargs -d '\n' ls -d 2>/dev/null <"$UB_BUILD_DIR/install_manifest.txt" || true)
check "every installed file is removed again" test -z "$left"
check "...and every directory the install made" \
    test -z "$(find "$prefix" -xdev -type d | sort | comm -13 "$dirs_before" -)"
check "no tap left" test -z "$(taps)"
finish
