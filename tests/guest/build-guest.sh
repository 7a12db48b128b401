#!/bin/bash
# Builds the tiny test guest: Debian's kernel and an initramfs holding only a
# static busybox and the virtio-net modules. Its /init configures eth0 from
# the kernel command line, pings, prints a verdict on the serial console and
# powers off, after staying up (answering pings) for ub.stay seconds if set:
#   ub.ip=ADDR/PREFIX ub.ping=ADDR [ub.stay=SECONDS]
# Usage: build-guest.sh OUTDIR   (writes OUTDIR/vmlinuz and OUTDIR/initrd.img;
# the kernel package is downloaded once and kept in OUTDIR)
set -euo pipefail

out=${1:?usage: build-guest.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# A guest built by another version of this script is rebuilt.
stamp=$(sha256sum "$0" | cut -d' ' -f1)
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi

# The kernel the metapackage points at, unpacked, never installed.
pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
[ -n "$pkg" ] || { echo "build-guest: cannot find Debian's kernel package" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "$pkg" >/dev/null 2>&1 ||
    { chmod 777 "$work"; apt-get download "$pkg" >/dev/null; })
dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
kver=$(ls "$work/k/lib/modules")
depmod -b "$work/k" "$kver"

root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
cp /bin/busybox "$root/bin/busybox"
for m in virtio_pci virtio_net; do
    modprobe -d "$work/k" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
    cp "$ko" "$root/lib/modules/"
    basename "$ko" >>"$root/lib/modules/order"
done

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m; done
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^ub\.$1=//p"; }
echo "guest: kernel $(uname -r) up"
ip link set lo up
ip link set eth0 up
ip addr add "$(arg ip)" dev eth0
echo "guest: eth0 $(cat /sys/class/net/eth0/address) mtu $(cat /sys/class/net/eth0/mtu) $(arg ip), pinging $(arg ping)"
result=$(ping -c 3 -W 3 "$(arg ping)" 2>&1) && verdict=OK || verdict=FAILED
echo "$result" | sed 's/^/guest: /'
echo "UB-GUEST-PING-$verdict"
stay=$(arg stay)
[ -z "$stay" ] || sleep "$stay"
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.img"
cp "$work/k/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$stamp" >"$out/stamp"
echo "build-guest: kernel $kver, initramfs $(du -h "$out/initrd.img" | cut -f1)"
