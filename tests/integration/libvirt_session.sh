#!/bin/bash
# libvirt, unmodified: an unprivileged user's qemu:///session guest with
#   <interface type='bridge'><source bridge='br0'/></interface>
# gets its network through our helper, named by bridge_helper in the user's
# own ~/.config/libvirt/qemu.conf (docs/USER-GUIDE.md follows the same
# steps). The session libvirtd runs as ubalice; libvirt runs the helper as
# `HELPER --use-vnet --br=br0 --fd=N` and hands the tap to QEMU. The guest
# pings the bridge; its tap is on br0 while it runs and gone after.
source "$(dirname "$0")/lib.sh"

command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
    { echo "SKIP: libvirt-daemon and libvirt-clients not installed"; exit 77; }
use_guest
bridge br0
ip addr add 10.99.0.1/24 dev br0
acl 'allow br0\n'

# ubalice's home, as libvirt's session mode expects one.
H=$T/home/alice
mkdir -p "$H/.config/libvirt" "$T/run-alice"
cat >"$H/.config/libvirt/qemu.conf" <<CONF
bridge_helper = "$T/bin/fcap-helper"
CONF
cat >"$H/guest.xml" <<XML
<domain type='qemu'>
  <name>ubguest</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$T/bin/vmlinuz</kernel>
    <initrd>$T/bin/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 ub.ip=10.99.0.2/24 ub.ping=10.99.0.1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <interface type='bridge'>
      <source bridge='br0'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='$H/console.log'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
chown -R $ALICE:$ALICE "$H" "$T/run-alice"
chmod 700 "$T/run-alice"

alice_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$H" USER=ubalice LOGNAME=ubalice
    XDG_RUNTIME_DIR="$T/run-alice")
# Started without a shell function in between, so that $! is libvirtd
# itself (setpriv and env exec it) and the cleanup's kill reaches it.
"${AS_ALICE[@]}" "${alice_env[@]}" libvirtd >"$T/libvirtd.log" 2>&1 &
BACKGROUND+=($!)
virsh_alice() { as_alice "${alice_env[@]}" virsh -c qemu:///session "$@"; }
for _ in $(seq 100); do [ -S "$T/run-alice/libvirt/libvirt-sock" ] && break; sleep 0.1; done
check "ubalice's session libvirtd is up" virsh_alice version

: >"$T/ports"
# A sample every 0.2 s: time passes, the guest's tap stays for seconds.
(while :; do ip -o link show master br0 type tun >>"$T/ports"; sleep 0.2; done) &
watcher=$!
BACKGROUND+=($watcher)
check "virsh create starts the guest" virsh_alice create "$H/guest.xml"
# libvirtd started the session's log daemon, which would outlive us by its
# idle timeout: it goes with the rest at exit.
virtlogd=$(cat "$T/run-alice/libvirt/virtlogd.pid" 2>/dev/null || true)
[ -z "$virtlogd" ] || BACKGROUND+=($virtlogd)
for _ in $(seq 1200); do
    virsh_alice domstate ubguest >/dev/null 2>&1 || break
    sleep 0.1
done
kill $watcher
grep '^guest:' "$H/console.log" 2>/dev/null | sed 's/^/    /' || true
check "the libvirt guest pinged the bridge" grep -q UB-GUEST-PING-OK "$H/console.log"
check "its tap was on br0 while it ran" grep -q 'tap[0-9]*: .*master br0' "$T/ports"
check "the tap belongs to ubalice, made by our helper" \
    grep -q 'userbridge-helper.*event=grant user=ubalice .*bridge="br0"' "$SYSLOG"
check "the tap is gone after the guest" test -z "$(taps)"
if [ "$FAILS" -ne 0 ]; then
    sed 's/^/    libvirtd: /' "$T/libvirtd.log" | tail -20
    ls "$H/.cache/libvirt/qemu/log/" 2>/dev/null && tail -20 "$H"/.cache/libvirt/qemu/log/*.log | sed 's/^/    qemu log: /'
fi
finish
