#!/bin/bash
# userbridged's process: its socket's mode, seccomp, no-new-privs, its
# capabilities; its user database process keeping nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon
check "daemon socket is there, mode 0666" test "$(stat -c %a $D)" = 666
check "daemon runs under its seccomp filter" grep -qP '^Seccomp:\t2$' /proc/$DAEMON_PID/status
check "daemon has no-new-privs" grep -qP '^NoNewPrivs:\t1$' /proc/$DAEMON_PID/status
check "daemon keeps CAP_NET_ADMIN only effective" grep -qP '^CapEff:\t0000000000001000$' /proc/$DAEMON_PID/status
# Permitted: CAP_NET_ADMIN (12), and for the moments that need them (see
# acl_perms.sh) CAP_SETUID (7), CAP_SETGID (6), CAP_DAC_READ_SEARCH (2); CAP_MKNOD
# (27) for macvtaps' device nodes (macvtap.sh).
check "...those and CAP_SETUID, CAP_SETGID, CAP_DAC_READ_SEARCH, CAP_MKNOD permitted; an empty bounding set" \
    bash -c "grep -qP '^CapPrm:\t00000000080010c4$' /proc/$DAEMON_PID/status && grep -qP '^CapBnd:\t0{16}$' /proc/$DAEMON_PID/status"

# --- Its user database process ---------------------------------------------
# NSS runs in a child that keeps nothing: its own system user (not nobody:
# userdb_kill.sh), no capabilities, only its socket to the daemon.
UDB=$(pgrep -P "$DAEMON_PID")
check "one user database process, the daemon's child" test "$(wc -w <<<"$UDB")" -eq 1
check "...as $USERDB_USER, with no-new-privs" \
    bash -c "grep -qP '^Uid:\t$USERDB_UID\t$USERDB_UID\t$USERDB_UID\t$USERDB_UID$' /proc/$UDB/status &&
             grep -qP '^Gid:\t(\d+)\t\1\t\1\t\1$' /proc/$UDB/status && grep -qP '^Groups:\s*$' /proc/$UDB/status &&
             grep -qP '^NoNewPrivs:\t1$' /proc/$UDB/status"
check "...and no capability in any set" \
    bash -c "! grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/$UDB/status | grep -qEv ':\s0{16}$'"
check "...and no fd but stdio and its socket" \
    test "$(ls /proc/$UDB/fd | sort -n | tr '\n' ' ')" = "0 1 2 $(ls /proc/$UDB/fd | sort -n | tail -n1) "
stop_daemon

finish
