# Shared set-up for the daemon_*.sh tests (source it after lib.sh): three
# bridges, an ACL allowing br0, the daemon's socket path ($D).
for b in br0 br1 br2; do bridge $b; done
D=/run/userbridge.sock
acl 'allow br0\n'
TT=$T/bin/ub-testtool
# table ACL [VM-ACL]: the ACL (and vm.conf, group ubvm's), reloaded.
table() {
    acl "$1"
    [ -n "${2:-}" ] && acl "$2" vm.conf 0640 root:ubvm
    reload_daemon
}
