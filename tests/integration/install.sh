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
    share/bash-completion/completions/userbridge lib/sysusers.d/userbridge.conf \
    share/polkit-1/actions/org.userbridge.policy; do
    check "installed: $f" test -e "$P/$f"
done
check "the helper has cap_net_admin+ep" grep -q 'cap_net_admin=ep' <(getcap "$P/libexec/userbridge-helper")
check "the sysusers.d file names the user database process's user" \
    grep -qE "^u +$USERDB_USER " "$P/lib/sysusers.d/userbridge.conf"
check "...which a staged install leaves to the package" grep -q "Not creating user $USERDB_USER under DESTDIR" "$T/install.log"
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

# The installed daemon under its installed unit's sandbox, as far as it can
# be had without systemd running: the unit's capability bounding set and
# its SystemCallFilter= lines made into one allow list the way systemd does
# it (the first line is the list, a "~" line takes calls out, a later plain
# line puts them back; each @group expanded by systemd-analyze), applied
# with no-new-privs and death on any other call. The shipped unit once
# killed the daemon at start (capset is in @privileged).
U=$P/lib/systemd/system/userbridged.service
expand() {
    local item
    for item in "$@"; do
        if [[ $item == @* ]]; then
            # shellcheck disable=SC2046  # one word per member
            expand $(systemd-analyze syscall-filter "$item" | awk 'NR > 1 && $1 !~ /^#/ {print $1}')
        else
            echo "$item"
        fi
    done
}
: >"$T/allowed"
while read -r list; do
    if [[ $list == "~"* ]]; then
        # shellcheck disable=SC2086  # a list of words
        expand ${list#"~"} | sort -u >"$T/drop"
        grep -vxFf "$T/drop" "$T/allowed" >"$T/kept" || true
        mv "$T/kept" "$T/allowed"
    else
        # shellcheck disable=SC2086
        expand $list >>"$T/allowed"
    fi
done < <(sed -n 's/^SystemCallFilter=//p' "$U")
sort -u -o "$T/allowed" "$T/allowed"
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$U" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_/+/p' | paste -sd,)
check "the unit's filter allows the usual calls (read, sendmsg, capset)" \
    bash -c "grep -qx read '$T/allowed' && grep -qx sendmsg '$T/allowed' && grep -qx capset '$T/allowed'"
check "...and not mount, reboot, init_module or setuid" \
    bash -c "! grep -qxE 'mount|reboot|init_module|setuid' '$T/allowed'"
check "the unit's bounding set is CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH, CAP_MKNOD, CAP_BPF, CAP_PERFMON" \
    test "$bounding" = "+net_admin,+setuid,+setgid,+dac_read_search,+mknod,+bpf,+perfmon"
# ProtectKernelTunables=yes: /proc/sys read-only, but for the unit's
# ReadWritePaths= ("-": where they exist), as systemd mounts them.
check "the unit protects the kernel's tunables" grep -qx 'ProtectKernelTunables=yes' "$U"
writable=$(sed -n 's/^ReadWritePaths=//p' "$U" | tr ' ' '\n' | sed 's/^-//' | paste -sd' ')
printf '#!/bin/sh\nexec unshare --mount --propagation private sh -ec '"'"'%s'"'"' sh "$@"\n' \
    "mount --bind /proc/sys /proc/sys; mount -o remount,bind,ro /proc/sys
     for p in $writable; do if [ -d \$p ]; then mount --bind \$p \$p; mount -o remount,bind,rw \$p; fi; done
     exec setpriv --bounding-set=-all,$bounding -- $T/bin/ub-testtool sandbox $T/allowed -- $P/sbin/userbridged \"\$@\"" \
    >"$T/bin/unit-daemon"
chmod 755 "$T/bin/unit-daemon"
DAEMON_BIN=$T/bin/unit-daemon start_daemon
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$P/libexec/userbridge-client" --fd=3 --br=br0)
check "the installed daemon, in its unit's sandbox, serves the installed client" grep -q 'tap=tap' <<<"$out"
check "...and names the caller in its record (its user database process answers)" \
    grep -q "userbridged\[$DAEMON_PID\]: event=grant user=ubalice uid=$ALICE " "$SYSLOG"
check "...which runs as $USERDB_USER with no capability" \
    bash -c "grep -qP '^Uid:\t$USERDB_UID\t' /proc/$(pgrep -P "$DAEMON_PID")/status &&
             ! grep -E '^Cap(Inh|Prm|Eff|Amb):' /proc/$(pgrep -P "$DAEMON_PID")/status | grep -qEv ':\s0{16}$'"
check "...while the daemon keeps CAP_NET_ADMIN alone" grep -qP '^CapEff:\t0000000000001000$' /proc/$DAEMON_PID/status
check "...having loaded the exact checksum guard of filtered ports (bpf, CAP_BPF and CAP_PERFMON, as it started)" \
    fails grep -qE 'cannot load the (exact )?checksum guard' "$SYSLOG"
check "...and kept neither CAP_BPF nor CAP_PERFMON" \
    bash -c "(( (0x\$(sed -n 's/^CapPrm:\t//p' /proc/$DAEMON_PID/status) >> 38 & 3) == 0 ))"
acl 'allow br0\ndeny br1 user=ubbob\n'
reload_daemon
check "...reloads its ACL on SIGHUP" grep -q 'SIGHUP: ACL reloaded' "$SYSLOG"
acl 'allow br0 mac=52:54:00:12:34:56 servers=no\n'
reload_daemon
out=$(as_alice "$T/bin/ub-testtool" call stream -- "$P/libexec/userbridge-client" --fd=3 --br=br0)
check "...and grants a MAC-pinned tap (libnftables, in the unit's filter)" grep -q 'tap=tap' <<<"$out"
check "...whose table it made" nft list set bridge userbridge clients
nft delete table bridge userbridge 2>/dev/null || true
acl 'allow br0\n'
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
# (lib.sh's /etc/passwd, private to the test, already has the user: the
# real one is not touched.)
check "installed into $prefix: the user database process's user is there" \
    grep -qE "(User $USERDB_USER exists|Created system user $USERDB_USER)" "$T/install.log"
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
