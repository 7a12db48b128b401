# A libvirt session guest of ubalice's, for tests that source lib.sh and
# call use_guest first:
#
#   libvirt_session_guest QEMU_CONF
#
# ubalice's own session libvirtd (its home and runtime directory under $T),
# with QEMU_CONF as her ~/.config/libvirt/qemu.conf (none if empty), starts
# the test guest with
#   <interface type='bridge'><source bridge='br0'/></interface>
# libvirt runs the helper as `HELPER --use-vnet --br=br0 --fd=N` and hands
# the tap to QEMU. Checks that the guest pinged the bridge and that its tap
# was on br0 while it ran; the caller checks whose helper granted it.
libvirt_session_guest() {
    command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
        { echo "SKIP: libvirt-daemon and libvirt-clients not installed"; exit 77; }
    # ubalice's home, as libvirt's session mode expects one.
    local home=$T/home/alice
    mkdir -p "$home/.config/libvirt" "$T/run-alice"
    [ -z "$1" ] || printf '%s\n' "$1" >"$home/.config/libvirt/qemu.conf"
    cat >"$home/guest.xml" <<XML
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
      <source path='$home/console.log'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
    chown -R $ALICE:$ALICE "$home" "$T/run-alice"
    chmod 700 "$T/run-alice"

    local alice_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" USER=ubalice
        LOGNAME=ubalice XDG_RUNTIME_DIR="$T/run-alice")
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
    local watcher=$!
    BACKGROUND+=($watcher)
    check "virsh create starts the guest" virsh_alice create "$home/guest.xml"
    # libvirtd started the session's log daemon, which would outlive us by
    # its idle timeout: it goes with the rest at exit.
    local virtlogd
    virtlogd=$(cat "$T/run-alice/libvirt/virtlogd.pid" 2>/dev/null || true)
    [ -z "$virtlogd" ] || BACKGROUND+=($virtlogd)
    for _ in $(seq 1200); do
        virsh_alice domstate ubguest >/dev/null 2>&1 || break
        sleep 0.1
    done
    kill $watcher
    grep '^guest:' "$home/console.log" 2>/dev/null | sed 's/^/    /' || true
    check "the libvirt guest pinged the bridge" grep -q UB-GUEST-PING-OK "$home/console.log"
    check "its tap was on br0 while it ran" grep -q 'tap[0-9]*: .*master br0' "$T/ports"
    check "the tap is gone after the guest" test -z "$(taps)"
    if [ "$FAILS" -ne 0 ]; then
        sed 's/^/    libvirtd: /' "$T/libvirtd.log" | tail -20
        ls "$home/.cache/libvirt/qemu/log/" 2>/dev/null &&
            tail -20 "$home"/.cache/libvirt/qemu/log/*.log | sed 's/^/    qemu log: /'
    fi
}
