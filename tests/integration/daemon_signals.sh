#!/bin/bash
# userbridged under signals: SIGSTOP and SIGCONT, and a SIGHUP reload of a
# bad ACL, which keeps the old one.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_daemon.sh"
start_daemon

# --- SIGSTOP and SIGCONT (job control, a debugger, a cgroup freeze) -------
# The kernel resumes the daemon's poll, which has a timeout, through
# restart_syscall: its seccomp filter must allow that.
kill -STOP $DAEMON_PID
sleep 0.3
kill -CONT $DAEMON_PID
sleep 0.3
check "SIGSTOP then SIGCONT: the daemon lives on" kill -0 $DAEMON_PID
check "...and grants" grep -q '^tap=' <(as_alice "$TT" daemon grant $D)

# --- SIGHUP with a bad ACL keeps the old one --------------------------------
acl 'allow br0\nbogus\n'
reload_daemon
check "bad new ACL refused and logged" grep -q 'new ACL refused, keeping the old one: /etc/qemu/bridge.conf:2' "$SYSLOG"
check "old ACL still in force" grep -q '^tap=' <(as_alice "$TT" daemon grant $D)
acl 'allow br0\n'
stop_daemon

finish
