#!/bin/bash
# libvirt, unmodified: an unprivileged user's qemu:///session guest with
#   <interface type='bridge'><source bridge='br0'/></interface>
# gets its network through our helper, named by bridge_helper in the user's
# own ~/.config/libvirt/qemu.conf (docs/USER-GUIDE.md follows the same
# steps). The session libvirtd runs as ubalice; libvirt runs the helper as
# `HELPER --use-vnet --br=br0 --fd=N` and hands the tap to QEMU. The guest
# pings the bridge; its tap is on br0 while it runs and gone after.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/libvirt_lib.sh"

command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
    { echo "SKIP: libvirt-daemon and libvirt-clients not installed"; exit 77; }
use_guest
bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'

libvirt_session_guest "bridge_helper = \"$T/bin/fcap-helper\""
check "the tap belongs to ubalice, made by our helper" \
    grep -q 'userbridge-helper.*event=grant user=ubalice .*bridge="br0"' "$SYSLOG"
finish
