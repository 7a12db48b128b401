#!/bin/bash
# `cmake --install` into a staging root: every binary, man page, unit,
# example and completion where it belongs, the helper given cap_net_admin+ep
# (not setuid), and the installed files work: the installed helper grants a
# tap to an unprivileged user, `userbridge run` execs through it, the
# installed daemon serves the installed client, the man pages render, the
# example ACL passes `userbridge check`, the completion loads.
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
    share/man/man8/userbridged.8 share/doc/userbridge/examples/bridge.conf \
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
finish
