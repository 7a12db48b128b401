#!/bin/bash
# Installs everything userbridge needs to build, test and run its demo, from
# Debian 12's own packages. Run as root. Safe to run again.
set -euo pipefail

packages=(
    # build
    g++ cmake make pkg-config
    libcap-ng-dev     # privilege drop: keep only CAP_NET_ADMIN, clear bounding set
    libmnl-dev        # rtnetlink: bridge lookup, MTU, MAC, attach, link up
    libseccomp-dev    # the helper's syscall allow-list
    libsystemd-dev    # userbridged: socket activation (sd_listen_fds), sd_notify, journald fields
    libnftables-dev   # MAC pinning: the nftables rules (libnftables, dlopen'ed when needed)
    libnftnl-dev      # userbridged: each grant's nftables elements as one netlink batch
    libbpf-dev        # userbridged: the kernel's BTF, for the checksum guard of filtered ports
    nftables          # nft: tests read the rules back
    systemd           # systemd-socket-activate, to test socket activation
    libgtest-dev      # unit tests
    clang libclang-rt-14-dev  # libFuzzer targets (preset fuzz)
    # tests and demo
    iproute2          # ip: namespaces, bridges, veths
    libcap2-bin       # setcap: the file-capability install of the helper
    util-linux        # unshare, setpriv: sandboxes and unprivileged callers
    acl               # setfacl: POSIX ACL entries on ACL files (acl_perms.sh)
    uidmap            # newuidmap: an unprivileged caller's subordinate uids (review2.sh)
    qemu-system-x86   # real QEMU, and Debian's qemu-bridge-helper to compare with
    qemu-system-common
    busybox-static    # the tiny test guest's userland
    cpio kmod         # packing the guest's initramfs, resolving its modules
    gnuplot-nox       # the benchmark's plots
    iperf3 passt slirp4netns  # bench/containers.sh: rootless namespaces' throughput, pasta and slirp4netns against veths
    jq                # bench/containers.sh reads iperf3's JSON
    man-db            # the install test renders the man pages
    dpkg-dev debhelper lintian  # the Debian packages: build and check them
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients  # libvirt session test
    lxc               # lxc.sh: a real unprivileged container takes its NIC through userbridge-lxc-user-nic
    bubblewrap        # sandbox.sh: QEMU in a Flatpak-like sandbox, where no setuid helper works
    dbus-daemon polkitd  # polkit.sh: a system bus and polkitd of the test's own, pkttyagent
    frr               # evpn.sh: zebra and bgpd, the EVPN control plane, run by the test in its namespaces
    dnsmasq-base      # status.sh: a DHCP server on the test's LAN, for a guest that takes an address
    isc-dhcp-relay    # review3.sh: a real DHCPv6 relay agent (dhcrelay -6) a servers=no guest attacks through
    python3-jsonschema  # status.sh: --json output validated against docs/schema
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# No package's service starts while we install: the tests start what they
# need themselves. Where services run, isc-dhcp-relay's postinst starts
# dhcrelay, which with no server configured exits 1, and the failed start
# fails the installation. policy-rc.d is what Debian's invoke-rc.d asks
# (101: not allowed); one already there stays.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# evpn.sh runs FRR's daemons itself, in its own namespaces: the system's
# frr service, which the package enables where services run, is not wanted.
if [[ " ${missing[*]} " == *" frr "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now frr.service >/dev/null 2>&1 || true
fi
# review3.sh runs dhcrelay itself, as evpn.sh runs FRR: not the service.
if [[ " ${missing[*]} " == *" isc-dhcp-relay "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now isc-dhcp-relay.service >/dev/null 2>&1 || true
fi
echo "install-deps: done"
