// ub-testtool: the test suite's stand-in for QEMU and for a wire.
//
//   call KIND [--close-after=MS] [--hold=MS] [--send=MARKER] [--expect=MARKER]
//        -- HELPER ARGS...
//       Puts an fd of KIND at fd 3 (stream: a connected unix stream socket
//       whose other end we keep; hungup: one whose other end we closed;
//       dgram, seqpacket, listen, tcp, udp, pipe, file, closed), runs HELPER
//       ARGS, receives a tap fd when KIND is stream, and prints
//       "tap=NAME vnet_hdr=0|1". KIND packet:IFNAME runs no helper and
//       sends --send's frames through a packet socket on IFNAME with
//       PACKET_VNET_HDR (what a container's root may do on its veth end;
//       --csum asks for a checksum the same way); KIND name:TAP opens the
//       persistent TAP by name with IFF_VNET_HDR (what a lease's VMM may do)
//       and sends them through it. --kill-on-fd SIGKILLs HELPER as soon as
//       the fd arrives. --join-kill-on=up|attach: the grantee's race with
//       its own helper (--queues=N, N > 1): HELPER runs at SCHED_IDLE on
//       our CPU (policy and affinity survive a setuid exec), we join the
//       multiqueue tap owned by our uid as soon as rtnetlink shows it on a
//       bridge (attach) or up on one (up) (tun_not_capable lets its
//       owner), SIGKILL HELPER, print "joined=NAME" and go on with that
//       one queue as the tap's fd.
//       --close-after closes our end MS ms after
//       HELPER started (without waiting for it). --send writes a frame
//       carrying MARKER into the tap (ten times, 20 ms apart); --expect waits for one from it.
//       --nd=KIND:MAC makes --send's frame an IPv6 neighbour-discovery
//       message (KIND ns, na, rs, ra or redirect; na2: an NA with a second
//       option) whose link-layer address option names MAC, MARKER (16 bytes
//       at most) as its IPv6 source address. --udp=SPORT:DPORT makes it an
//       IPv4 UDP datagram between those ports, carrying MARKER (after the
//       byte FIRST with --udp=SPORT:DPORT:FIRST: a BOOTP op, a DHCPv6
//       msg-type; --send-hex: a whole DHCP message); --ip4=SRC
//       one from SRC (ports 5000 unless --udp; --icmp4=TYPE:CODE: an ICMP
//       message instead), --ip6=SRC an IPv6 one (and
//       with --nd, SRC is the message's source; with --frag, the UDP
//       datagram in two fragments, the UDP header alone in the first
//       (--frag=tiny: none in the first; --frag=chain: the header chain
//       split between them; --frag=pad: and a fake rest of it past the
//       first's payload length);
//       with --ext6=N, behind an extension header of type N, 0 or 60). --nd-target=ADDR: an NS's
//       or NA's target. --arp=SENDER: an ARP request from SENDER, MARKER after it.
//       --arp-mac=MAC: the ARP sender's hardware address (else --src's).
//       --arp-target=ADDR: the address the ARP request asks for (else 10.99.0.1).
//       --dst=MAC: the frame's destination (else the broadcast address).
//       --csum=START:OFFSET: with a vnet_hdr, each frame asks the kernel
//       for a checksum from byte START on, written at START+OFFSET.
//       --gso=KIND:SIZE:SECOND: with a vnet_hdr, --udp's datagram is one
//       the kernel is to segment (KIND udp: USO, ufo: UFO; udp-nocsum,
//       ufo-nocsum: without a checksum request) into SIZE-byte pieces, the
//       second starting with the byte SECOND and then MARKER.
//       --dhcp: first take an address from a DHCP server on the bridge,
//       print "dhcp=ADDRESS", and make --send's frames ARP from it.
//       --dhcp6: take an IPv6 address from a DHCPv6 server on the bridge
//       (Rapid Commit), from --ip6=SRC; print "dhcp6=ADDRESS".
//       --vlan=TAG[,TAG...] puts VLAN tags before whatever the frame
//       carries, outermost first: a TAG is a VID (802.1Q) or TPID:VID with
//       the TPID in hex (88a8: 802.1ad; 9100: the old QinQ).
//       --ethertype=N (0x... or decimal) gives the plain frame that type or,
//       below 0x600, makes it an 802.3 frame of that length.
//       --pppoe=CODE makes it a PPPoE discovery message (0x8863) with that
//       code (0x07 PADO, 0x09 PADI...), MARKER as its payload.
//       --flood=N: instead, N frames of 1000 bytes carrying MARKER, back to
//       back. --count=MARKER:MS reads the tap for MS ms and prints
//       "count=N", the frames carrying MARKER.
//       --tamper=ACTION (repeatable): what the fd holder then does to the
//       tap, before --send; see daemon tamper.
//       --relay=IFNAME: instead, pass frames both ways between the tap
//       and the tap IFNAME of this network namespace (made beforehand,
//       owned by us), for --hold ms: a fake guest with a kernel's IP stack.
//       Exit status: the helper's (128+signal if killed), or 3 when the
//       helper exited 0 and no fd arrived.
//   listen IFNAME MARKER MS   print "listening" once its socket is open; exit 0
//                             once a frame (any type) carrying MARKER is
//                             seen; ip6:ADDR looks for that address's 16 bytes
//   listen-frame IFNAME MARKER MS
//                             as listen, and print that frame's first 64
//                             bytes in hex
//   tx-csum-off IFNAME        turn IFNAME's transmit checksum offload off
//                             (ETHTOOL_STXCSUM), as a NIC without it
//   send IFNAME MARKER        send a broadcast frame carrying MARKER
//   count IFNAME MARKER MS    print "counting" once its socket is open, then
//                             "count=N", the frames carrying MARKER seen in MS ms
//   flood IFNAME MARKER N     send N broadcast frames of 1000 bytes carrying MARKER
//   flood-to IFNAME MAC MARKER N [FIFO [US]]
//                             the same, unicast to MAC, back to back (or
//                             one every US microseconds); with FIFO, once
//                             a byte can be read from it
//   fds [ARGS...]             print "fds: N N ..." (our open fds) and "args: ARGS"
//   stall-close SOCKET HOW COUNT SECONDS
//       COUNT times, on a connection of its own to SOCKET: a loopback TCP
//       socket whose close lingers (SO_LINGER for SECONDS, data queued
//       behind a peer that never reads), sent with one byte (HOW one) or 20
//       copies of it in one message (HOW many); our copies closed, then
//       our end shut down and the daemon's close of the connection awaited.
//       Prints "sent=N", then keeps the peers for SECONDS
//       (whoever closes the last copy waits up to that long).
//   fuse-serve FD
//       serve the FUSE connection FD (/dev/fuse, mounted by root with it):
//       a root directory in which every name is one empty file, mode 0666;
//       each ioctl on it is held, never answered ("held-ioctl" printed), as
//       a FUSE server may hold any request. Runs until the mount goes.
//   daemon MODE SOCKET [BRIDGE]
//       talk to userbridged, well or badly. MODE: grant (print "tap=NAME" or
//       the daemon's message, exit 0 only if granted; then close the tap and
//       say whether that removed it: "gone-on-close=1"), grant-drop (send a
//       good request, close without reading), grant-late-drop [QUEUES]
//       (the same, for QUEUES queues (default 1), but close half a second
//       after sending, once the daemon has read the request), bad-magic,
//       bad-version,
//       oversize, truncated (half a request, then close), slow (print
//       "connected", send a byte a second until the daemon hangs up; print
//       how long that took), idle (connect, print "connected", sleep
//       30 s), mute (connect, send nothing, print
//       what the daemon answers before it hangs up), grant-orphan [MS]
//       (send a good request, print "subject=PID", fork; the child prints
//       the reply, the connecting process exits after MS ms, default 500)
//   daemon hold-replies SOCKET BRIDGE N QUEUES MS
//       N requests for QUEUES queues, one connection each, whose replies
//       are never read (only peeked at): prints "granted=G refused=R",
//       then keeps every connection open for MS ms
//   daemon stuff-unread SOCKET BRIDGE N
//       a grant whose reply we never read, then, behind the request, N
//       packet sockets (made in a user and network namespace of our own)
//       in messages the daemon never reads either; then we go: the
//       daemon's close of the connection releases them. Prints
//       "stuffed=N".
//   daemon bad-flood SOCKET MS THREADS
//       requests of garbage, each on a connection of its own, its refusal
//       read, from THREADS threads for MS ms; prints "requests=N"
//   daemon connect-flood SOCKET MS
//       connect and close again, as fast as it can, for MS ms; prints
//       "connects=N refused=N" (refused: the listen queue was full)
//   daemon tamper SOCKET BRIDGE ACTION...
//       get a tap from userbridged, print "tap=NAME", then do to it, in
//       order, what its fd lets any holder do: mac=MAC (SIOCSIFHWADDR),
//       owner=UID (TUNSETOWNER), group=GID (TUNSETGROUP), persist
//       (TUNSETPERSIST), vnet-hdr (TUNSETIFF IFF_TAP|IFF_NO_PI|
//       IFF_VNET_HDR: a macvtap's fd takes it at any time, tap_ioctl),
//       requeue (the other queues closed first: TUNSETQUEUE
//       IFF_DETACH_QUEUE, then TUNSETIFF as vnet-hdr, with
//       IFF_MULTI_QUEUE), offload-flood=MS (TUNSETOFFLOAD, its
//       checksum offload on and off, for MS ms: a link event each; prints
//       "feature changes: N"), signal=FIFO (write a byte to FIFO: "now"), hold=MS
//       (sleep), time-off (wait until the tap is on no bridge, print "off
//       the bridge after N us"). Prints "ACTION: ok" or the error of each;
//       exits 0.
//   set-port IFNAME MTU       set IFNAME's MTU (and MAC fe:0:0:0:0:1) as the
//                             tap set-up does; print the error if it fails
//   syslog-sink PATH FILE     bind a datagram socket at PATH (/dev/log in the
//                             test's own /dev) and append each record to FILE;
//                             a record that comes as an fd (journald's way for
//                             one too large for a datagram) is read from it
//   journal-record BYTES      under userbridged's seccomp filter, send journald
//                             one record whose MESSAGE is BYTES bytes of 'x',
//                             as the daemon sends its records; exit 0 if
//                             sd_journal_sendv said it was sent
//   fake-daemon SOCKET MODE
//       a userbridged that lies, for one connection: it reads a request and
//       answers "granted" with an fd that is not what it should be. MODE:
//       extra (a real tap's fd, on the bridge the request names, then a
//       byte more than the reply), notap (/dev/null), othername (a real
//       tap, but the reply names another), oldrelease (a real tap, with a
//       reply in protocol version 1)
//   mac-search UID BRIDGE PREFIX TARGET
//       the offline attack on derived MACs: search VM names (x0, x1, ...)
//       for one whose MAC, as userbridge derived it before its derivation
//       took a key (FNV-1a 64 over "UID\0VM\0BRIDGE\0" after the
//       mac-prefix= PREFIX), is TARGET; print "vm=NAME tries=N ms=N"
//   mq-join MS daemon:N|helper [leave]
//       an attacker on multiqueue taps, for MS ms: tries TUNSETIFF
//       IFF_TAP|IFF_MULTI_QUEUE, as whoever runs it, on each tap it sees
//       appear (rtnetlink) and, over and over, on the next name: the
//       daemon's (tap<N>, then the number after each such tap seen) or the
//       helper's (tap<pid> of the last few processes made). Prints "ready"
//       once watching; for each
//       queue it gets, holds it and prints "JOINED NAME" once that tap is up
//       (granted, with our queue in it), "EVICTED NAME" if the tap is
//       deleted under us, "HELD NAME" if it never came up in 3 s.
//       With "leave", it holds no queue: it changes the tap as any queue's
//       holder may (MAC 02:de:ad:be:ef:01; TUNATTACHFILTER, a classic BPF
//       filter dropping every frame to every queue; TUNSETTXFILTER, only
//       frames to 02:00:00:00:00:99), closes its queue at once and prints
//       "LEFT NAME".
//   join-own MS
//       the grantee's side of a failed grant (SECURITY.md, review item
//       21-5): joins the first tap rtnetlink shows owned by our uid
//       (TUNSETIFF IFF_TAP|IFF_MULTI_QUEUE: the kernel lets a tap's owner
//       attach a queue, tun_not_capable), prints "JOINED NAME", and holds
//       the queue until MS ms have passed. Prints "ready" once watching.
//       spoof=SRC,DST: meanwhile, through the queue, writes UDP datagrams
//       (port 9) from the IPv4 address SRC to DST, addressed to the tap's
//       own MAC, over and over (a write fails while the tap is down); at
//       the end prints "SPOOFED N", the writes that went in.
//   tap-by-name NAME [send=MARKER] [expect=MARKER:MS] [hold=MS] [mq] [owner=UID]
//       what Firecracker does with the tap name it is given (devices/net/
//       tap.rs, Tap::open_named): open /dev/net/tun, TUNSETIFF on NAME with
//       IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (mq: |IFF_MULTI_QUEUE), then
//       TUNSETVNETHDRSZ 12 (virtio_net_hdr_v1). Prints "opened NAME", or
//       "refused: ERROR" and exits 1. send= writes broadcast frames carrying
//       MARKER (one every 100 ms, 20 in all, and until expect= is met);
//       expect= waits MS ms for one carrying MARKER (exit 4 if none).
//       owner= then gives the tap to UID (TUNSETOWNER), as its holder may.
//       link=TYPE then makes it a link of ARPHRD type TYPE (TUNSETLINK,
//       which the kernel takes of a tap that is down): prints "linked TYPE"
//       or "link refused: ERROR".
//       bpdu=HEX: send= sends, instead, the 802.3 frame to STP's group
//       (01:80:c2:00:00:00) whose payload is HEX (a BPDU, two digits a byte).
//   sandbox ALLOWED -- CMD ARGS...
//       exec CMD under a seccomp filter that allows the syscalls named in the
//       file ALLOWED (one per line; names this architecture lacks are
//       skipped) and kills the process on any other, with no-new-privs: what
//       a systemd unit's SystemCallFilter= allow list does.
//   supervise SOCKET -- CMD ARGS...
//       what userbridged.socket and the service's Restart=on-failure do:
//       listen on SOCKET (mode 0666) and run CMD with it as fd 3
//       (LISTEN_FDS=1); when CMD fails, run it again 0.1 s later, on the
//       same socket (connections made meanwhile wait in its backlog), at
//       most 5 times. SIGTERM: CMD gets it, and we exit when it does.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>  // before the linux/ headers, which defer to it

#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/fuse.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/daemon_client.h"
#include "handover/receive.h"
#include "net/link_monitor.h"
#include "net/rtnl.h"
#include "net/tap.h"
#include "policy/acl.h"
#include "privilege/seccomp.h"
#include "protocol/wire.h"

namespace {

constexpr uint16_t kEtherType = 0x88b5;  // IEEE local experimental

[[noreturn]] void die(const std::string& m) {
    std::fprintf(stderr, "ub-testtool: %s: %s\n", m.c_str(), std::strerror(errno));
    std::exit(100);
}

uint8_t g_src[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};  // call --src=MAC changes it
uint8_t g_dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};  // call --dst=MAC changes it
std::vector<std::pair<uint16_t, uint16_t>> g_vlans;       // call --vlan=: (TPID, VID), outermost first
uint16_t g_ethertype = kEtherType;                        // call --ethertype=N

// A frame from g_src to g_dst (a broadcast unless --dst) of `ethertype`, after a virtio_net_hdr of
// `vnet_hdr_len` zero bytes (no offloads): the payload goes after it.
std::vector<uint8_t> ether_start(std::size_t vnet_hdr_len, uint16_t ethertype) {
    std::vector<uint8_t> f(vnet_hdr_len, 0);
    f.insert(f.end(), g_dst, g_dst + 6);
    f.insert(f.end(), g_src, g_src + 6);
    for (auto [tpid, vid] : g_vlans)
        f.insert(f.end(), {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                           static_cast<uint8_t>(vid >> 8), static_cast<uint8_t>(vid)});
    f.push_back(static_cast<uint8_t>(ethertype >> 8));
    f.push_back(static_cast<uint8_t>(ethertype & 0xff));
    return f;
}

// call --csum=START:OFFSET: the frame asks the kernel to write the
// checksum of its bytes from START on at START+OFFSET (virtio_net_hdr's
// NEEDS_CSUM), wherever the port that sends it on has no checksum offload.
int g_csum_start = -1, g_csum_offset = 0;

int g_pppoe_code = -1;  // call --pppoe=CODE

std::vector<uint8_t> frame(const std::string& marker, std::size_t vnet_hdr_len) {
    std::vector<uint8_t> f = ether_start(vnet_hdr_len, g_pppoe_code >= 0 ? 0x8863 : g_ethertype);
    if (g_pppoe_code >= 0)  // version 1, type 1; the code; session 0; the payload's length
        f.insert(f.end(), {0x11, static_cast<uint8_t>(g_pppoe_code), 0, 0, 0, static_cast<uint8_t>(marker.size())});
    f.insert(f.end(), marker.begin(), marker.end());
    while (f.size() < vnet_hdr_len + 60) f.push_back(0);
    return f;
}

// call --nd=KIND:MAC: a neighbour-discovery message instead (checksum left
// zero: only the bridge's filter and a packet socket look at it).
std::string g_nd_kind;
uint8_t g_nd_mac[6];
bool g_has_ip6 = false, g_has_nd_target = false;
uint8_t g_ip6_src[16], g_nd_target[16];  // call --ip6=, --nd-target=

const uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t* g_ip6_dst = kAllNodes;  // a UDP datagram's (--dhcp6: the DHCPv6 servers')

std::vector<uint8_t> nd_frame(const std::string& marker, std::size_t vnet_hdr_len) {
    uint8_t type = g_nd_kind == "rs" ? 133 : g_nd_kind == "ra" ? 134 : g_nd_kind == "ns" ? 135
                 : g_nd_kind == "redirect" ? 137 : 136;
    std::vector<uint8_t> icmp = {type, 0, 0, 0, 0, 0, 0, 0};  // type, code, checksum, reserved
    if (type == 134) icmp.insert(icmp.end(), 8, 0);           // reachable and retransmit times
    if (type == 137) icmp.insert(icmp.end(), 16, 0xfe);       // the better first hop
    if (type != 133 && type != 134) {  // target address
        if (g_has_nd_target) icmp.insert(icmp.end(), g_nd_target, g_nd_target + 16);
        else icmp.insert(icmp.end(), 16, 0xfe);
    }
    icmp.push_back(type == 136 ? 2 : 1);                       // target or source link-layer address
    icmp.push_back(1);                                         // length: 8 bytes
    icmp.insert(icmp.end(), g_nd_mac, g_nd_mac + 6);
    if (g_nd_kind == "na2") icmp.insert(icmp.end(), {14, 1, 0, 0, 0, 0, 0, 0});  // a nonce option
    std::vector<uint8_t> f = ether_start(vnet_hdr_len, 0x86dd);
    f.insert(f.end(), {0x60, 0, 0, 0});  // IPv6, no traffic class or flow label
    f.push_back(static_cast<uint8_t>(icmp.size() >> 8));
    f.push_back(static_cast<uint8_t>(icmp.size() & 0xff));
    f.insert(f.end(), {58, 255});  // next header ICMPv6, hop limit 255
    std::string src = marker.substr(0, 16);
    src.resize(16, '\0');
    if (g_has_ip6) src.assign(reinterpret_cast<const char*>(g_ip6_src), 16);
    f.insert(f.end(), src.begin(), src.end());
    f.insert(f.end(), kAllNodes, kAllNodes + 16);
    f.insert(f.end(), icmp.begin(), icmp.end());
    return f;
}

// call --udp=SPORT:DPORT[:FIRST]: an IPv4 UDP broadcast carrying the
// marker (after FIRST), from --ip4=SRC (or --ip6=SRC: IPv6, to all nodes).
int g_udp_sport = -1, g_udp_dport = -1, g_udp_first = -1;
uint8_t g_ip4_src[4] = {10, 99, 0, 2};

// call --gso=KIND:SIZE:SECOND: the UDP datagram is one the kernel is to
// segment (virtio_net_hdr gso_type: KIND udp is USO, GSO_UDP_L4; ufo is
// UFO, GSO_UDP; with -nocsum, e.g. udp-nocsum, no checksum is asked for)
// into pieces of SIZE bytes of payload: the first starts with --udp's
// FIRST, the second with SECOND and then MARKER.
std::string g_gso_kind;
int g_gso_size = 0, g_gso_second = 0;

std::vector<uint8_t> udp_datagram(const std::string& marker) {
    std::vector<uint8_t> udp = {static_cast<uint8_t>(g_udp_sport >> 8), static_cast<uint8_t>(g_udp_sport),
                                static_cast<uint8_t>(g_udp_dport >> 8), static_cast<uint8_t>(g_udp_dport),
                                0, 0, 0, 0};  // lengths filled below; no checksum (0: none)
    if (g_udp_first >= 0) udp.push_back(static_cast<uint8_t>(g_udp_first));
    if (g_gso_size > 0) {
        udp.resize(8 + static_cast<std::size_t>(g_gso_size), 'A');
        udp.push_back(static_cast<uint8_t>(g_gso_second));
    }
    udp.insert(udp.end(), marker.begin(), marker.end());
    udp[4] = static_cast<uint8_t>(udp.size() >> 8);
    udp[5] = static_cast<uint8_t>(udp.size());
    return udp;
}

// IPv6 makes UDP's checksum mandatory (RFC 8200 8.1; Linux drops a zero
// one unless the socket asked for them): a real receiver needs it.
void udp6_checksum(std::vector<uint8_t>& udp) {
    unsigned sum = 17 + static_cast<unsigned>(udp.size());
    auto add = [&](const uint8_t* p, std::size_t n) {
        for (std::size_t k = 0; k < n; k += 2) sum += (p[k] << 8) | (k + 1 < n ? p[k + 1] : 0);
    };
    add(g_ip6_src, 16);
    add(g_ip6_dst, 16);
    add(udp.data(), udp.size());
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    udp[6] = static_cast<uint8_t>(~sum >> 8);
    udp[7] = static_cast<uint8_t>(~sum);
}

// An IPv6 packet to all nodes (or g_ip6_dst) from --ip6=SRC carrying `payload` after a
// header `next`.
std::vector<uint8_t> ip6_frame(uint8_t next, const std::vector<uint8_t>& payload, std::size_t vnet_hdr_len) {
    std::vector<uint8_t> f = ether_start(vnet_hdr_len, 0x86dd);
    f.insert(f.end(), {0x60, 0, 0, 0, static_cast<uint8_t>(payload.size() >> 8),
                       static_cast<uint8_t>(payload.size()), next, 64});  // version, length, next, hop limit
    f.insert(f.end(), g_ip6_src, g_ip6_src + 16);
    f.insert(f.end(), g_ip6_dst, g_ip6_dst + 16);
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

// call --ext6=N: the UDP datagram behind an extension header of type N
// (0 hop-by-hop, 60 destination options: 8 bytes, PadN).
int g_ext6 = -1;

std::vector<uint8_t> udp6_frame(const std::string& marker, std::size_t vnet_hdr_len) {
    std::vector<uint8_t> udp = udp_datagram(marker);
    udp6_checksum(udp);
    if (g_ext6 < 0) return ip6_frame(17, udp, vnet_hdr_len);
    std::vector<uint8_t> ext = {17, 0, 1, 4, 0, 0, 0, 0};
    ext.insert(ext.end(), udp.begin(), udp.end());
    return ip6_frame(static_cast<uint8_t>(g_ext6), ext, vnet_hdr_len);
}

// call --frag: the IPv6 datagram in two fragments, the first holding the
// UDP header alone (8 bytes: a non-last fragment's length is a multiple
// of 8), the second the payload after it. --frag=tiny: the first holds a
// destination options header alone (24 bytes, MARKER in its padding) and
// no UDP header, which the second holds with its payload (RFC 7112 says
// a receiver drops such a first fragment; not every one does).
// --frag=chain: the header chain itself is split, the first fragment's
// options header naming another one, which starts the second fragment
// (8 bytes) before the UDP header: the first cannot be walked to its end,
// and Linux takes it. --frag=pad: as chain, the IPv6 payload length
// ending after the first fragment's options header, followed by bytes
// past that length, which a receiver cuts off but a filter may read: an
// options header naming UDP and a UDP header from 5000 to 5001. Either way
// MARKER's first byte is 'z' in the second fragment, so that only the
// first shows MARKER.
bool g_frag = false;
std::string g_frag_kind;  // "", "tiny", "chain" or "pad"

std::vector<std::vector<uint8_t>> udp6_fragments(const std::string& marker, std::size_t vnet_hdr_len) {
    if (!g_frag_kind.empty()) {
        bool chain = g_frag_kind != "tiny";  // chain or pad
        std::vector<uint8_t> udp = udp_datagram("z" + marker.substr(1));
        udp6_checksum(udp);  // as if the datagram had no options before it
        // Next header (UDP, or another options header), length 2 (24
        // bytes), PadN of 20 bytes.
        std::vector<uint8_t> options = {static_cast<uint8_t>(chain ? 60 : 17), 2, 1, 20};
        options.insert(options.end(), marker.begin(), marker.end());
        options.resize(24, 0);
        std::vector<uint8_t> first = {60, 0, 0, 1, 0x75, 0x63, 0, 1};    // offset 0, more fragments
        std::vector<uint8_t> second = {60, 0, 0, 24, 0x75, 0x63, 0, 1};  // offset 3 (24 bytes), last
        first.insert(first.end(), options.begin(), options.end());
        if (chain) second.insert(second.end(), {17, 0, 1, 4, 0, 0, 0, 0});  // options: UDP next, PadN
        second.insert(second.end(), udp.begin(), udp.end());
        std::vector<uint8_t> f = ip6_frame(44, first, vnet_hdr_len);
        // pad: past the payload length, options naming UDP and a UDP header.
        if (g_frag_kind == "pad")
            f.insert(f.end(), {17, 0, 1, 4, 0, 0, 0, 0, 0x13, 0x88, 0x13, 0x89, 0, 8, 0, 0});
        return {f, ip6_frame(44, second, vnet_hdr_len)};
    }
    std::vector<uint8_t> udp = udp_datagram(marker);
    udp6_checksum(udp);
    // Fragment header: next header UDP, reserved, offset (8-byte units) and
    // more-fragments flag, identification.
    std::vector<uint8_t> first = {17, 0, 0, 1, 0x75, 0x62, 0, 1};
    std::vector<uint8_t> second = {17, 0, 0, 8, 0x75, 0x62, 0, 1};
    first.insert(first.end(), udp.begin(), udp.begin() + 8);
    second.insert(second.end(), udp.begin() + 8, udp.end());
    return {ip6_frame(44, first, vnet_hdr_len), ip6_frame(44, second, vnet_hdr_len)};
}

// call --arp=SENDER: who has 10.99.0.1 (or --arp-target), tell SENDER (at g_src, or at
// --arp-mac); the marker rides in the frame's padding.
bool g_has_arp = false;
uint8_t g_arp_sender[4];
uint8_t g_arp_target[4] = {10, 99, 0, 1};  // call --arp-target=
std::optional<std::array<uint8_t, 6>> g_arp_mac;

std::vector<uint8_t> arp_frame(const std::string& marker, std::size_t vnet_hdr_len) {
    std::vector<uint8_t> f = ether_start(vnet_hdr_len, 0x0806);
    f.insert(f.end(), {0, 1, 0x08, 0, 6, 4, 0, 1});  // Ethernet, IPv4, lengths, request
    if (g_arp_mac) f.insert(f.end(), g_arp_mac->begin(), g_arp_mac->end());
    else f.insert(f.end(), g_src, g_src + 6);
    f.insert(f.end(), g_arp_sender, g_arp_sender + 4);
    f.insert(f.end(), 6, 0);
    f.insert(f.end(), g_arp_target, g_arp_target + 4);
    f.insert(f.end(), marker.begin(), marker.end());
    while (f.size() < vnet_hdr_len + 60) f.push_back(0);
    return f;
}

// call --ip4-bad=version|length: the IPv4 header says version 5, or a
// total length 40 bytes past the frame's end (checksum made to match):
// what a DHCP client reading a raw socket may take all the same.
std::string g_ip4_bad;

// call --icmp4=TYPE:CODE: instead of UDP, an ICMP message of that type
// (its next four bytes 10.99.0.66: a redirect's gateway), MARKER after it.
int g_icmp4_type = -1, g_icmp4_code = 0;

// The Internet checksum of `n` bytes at `p`, as stored (RFC 1071).
uint16_t inet_checksum(const uint8_t* p, std::size_t n) {
    unsigned sum = 0;
    for (std::size_t k = 0; k < n; k += 2) sum += (p[k] << 8) | (k + 1 < n ? p[k + 1] : 0);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> icmp4_message(const std::string& marker) {
    std::vector<uint8_t> m = {static_cast<uint8_t>(g_icmp4_type), static_cast<uint8_t>(g_icmp4_code), 0, 0,
                              10, 99, 0, 66};
    m.insert(m.end(), marker.begin(), marker.end());
    uint16_t sum = inet_checksum(m.data(), m.size());
    m[2] = static_cast<uint8_t>(sum >> 8);
    m[3] = static_cast<uint8_t>(sum);
    return m;
}

std::vector<uint8_t> udp_frame(const std::string& marker, std::size_t vnet_hdr_len) {
    bool icmp = g_icmp4_type >= 0;
    std::vector<uint8_t> udp = icmp ? icmp4_message(marker) : udp_datagram(marker);
    std::size_t total = 20 + udp.size() + (g_ip4_bad == "length" ? 40 : 0);
    std::vector<uint8_t> ip = {static_cast<uint8_t>(g_ip4_bad == "version" ? 0x55 : 0x45), 0,
                               static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total),
                               0, 0, 0, 0, 64, static_cast<uint8_t>(icmp ? 1 : 17), 0, 0,  // id, fragment, TTL, protocol, checksum
                               g_ip4_src[0], g_ip4_src[1], g_ip4_src[2], g_ip4_src[3], 255, 255, 255, 255};
    uint16_t sum = inet_checksum(ip.data(), ip.size());
    ip[10] = static_cast<uint8_t>(sum >> 8);
    ip[11] = static_cast<uint8_t>(sum);
    std::vector<uint8_t> f = ether_start(vnet_hdr_len, 0x0800);
    f.insert(f.end(), ip.begin(), ip.end());
    f.insert(f.end(), udp.begin(), udp.end());
    while (f.size() < vnet_hdr_len + 60) f.push_back(0);
    return f;
}

// call --dhcp: as a DHCP client: DISCOVER, OFFER, REQUEST, ACK (asking
// for broadcast replies, having no address yet), then claim the address
// as RFC 5227 has a client announce it: --send's frames become ARP from it.
std::vector<uint8_t> bootp(uint8_t type, uint32_t xid, const uint8_t* requested, const uint8_t* server) {
    std::vector<uint8_t> b = {1, 1, 6, 0};  // BOOTREQUEST, Ethernet, 6-byte address, no hops
    for (int k = 3; k >= 0; --k) b.push_back(static_cast<uint8_t>(xid >> (8 * k)));
    b.insert(b.end(), {0, 0, 0x80, 0});  // secs; flags: broadcast
    b.insert(b.end(), 16, 0);            // ciaddr, yiaddr, siaddr, giaddr
    b.insert(b.end(), g_src, g_src + 6);
    b.insert(b.end(), 10 + 64 + 128, 0);  // chaddr's padding, sname, file
    b.insert(b.end(), {99, 130, 83, 99, 53, 1, type});
    if (requested) {
        b.insert(b.end(), {50, 4});
        b.insert(b.end(), requested, requested + 4);
    }
    if (server) {
        b.insert(b.end(), {54, 4});
        b.insert(b.end(), server, server + 4);
    }
    b.push_back(255);
    while (b.size() < 300) b.push_back(0);
    return b;
}

// Reads frames from the tap for at most `wait` until `take` (a frame at
// least `min_len` bytes long, from its Ethernet header to its end) says
// it is the one: whether one was.
template <typename Take>
bool read_reply(int tap, std::size_t hdr, std::chrono::milliseconds wait, std::size_t min_len, Take take) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    std::vector<uint8_t> f(hdr + 2048);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{tap, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = read(tap, f.data(), f.size());
        if (n >= static_cast<ssize_t>(hdr + min_len) && take(f.data() + hdr, f.data() + n)) return true;
    }
    return false;
}

// A DHCP reply of `type` to `xid` read from the tap within `wait`: its
// yiaddr and server identifier.
bool dhcp_reply(int tap, std::size_t hdr, uint32_t xid, uint8_t type, uint8_t* yiaddr, uint8_t* server,
                std::chrono::milliseconds wait) {
    return read_reply(tap, hdr, wait, 14 + 20 + 8 + 240, [&](const uint8_t* e, const uint8_t* end) {
        const uint8_t* ip = e + 14;
        if (e[12] != 0x08 || e[13] != 0 || ip[9] != 17) return false;
        const uint8_t* udp = ip + (ip[0] & 0xf) * 4;
        const uint8_t* b = udp + 8;
        uint32_t got = static_cast<uint32_t>(b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7]);
        if (udp[3] != 68 || b[0] != 2 || got != xid || b + 240 > end) return false;
        uint8_t msg = 0;
        for (const uint8_t* o = b + 240; o + 2 <= end && *o != 255;) {
            if (*o == 0) { ++o; continue; }
            if (o[0] == 53 && o[1] == 1) msg = o[2];
            if (o[0] == 54 && o[1] == 4) std::memcpy(server, o + 2, 4);
            o += 2 + o[1];
        }
        if (msg != type) return false;
        std::memcpy(yiaddr, b + 16, 4);
        return true;
    });
}

// call --dhcp6: as a DHCPv6 client, from --ip6=SRC (its link-local
// address): a Solicit for one address with Rapid Commit (RFC 8415
// 18.2.1), to which a server answers with a Reply that assigns it.
std::vector<uint8_t> solicit(uint32_t xid) {
    std::vector<uint8_t> m = {1, static_cast<uint8_t>(xid >> 16), static_cast<uint8_t>(xid >> 8),
                              static_cast<uint8_t>(xid)};
    m.insert(m.end(), {0, 1, 0, 10, 0, 3, 0, 1});  // client identifier: DUID-LL, Ethernet
    m.insert(m.end(), g_src, g_src + 6);
    m.insert(m.end(), {0, 3, 0, 12, 0, 0, 0, 1});  // IA_NA, IAID 1; T1, T2 the server's
    m.insert(m.end(), 8, 0);
    m.insert(m.end(), {0, 14, 0, 0, 0, 8, 0, 2, 0, 0});  // rapid commit; elapsed time 0
    return m;
}
// A Reply for xid to port 546: the address of its IA_NA's first IAADDR.
bool dhcp6_reply(int tap, std::size_t hdr, uint32_t xid, uint8_t* addr, std::chrono::milliseconds wait) {
    return read_reply(tap, hdr, wait, 14 + 40 + 8 + 4, [&](const uint8_t* e, const uint8_t* end) {
        const uint8_t* udp = e + 14 + 40;
        const uint8_t* m = udp + 8;
        uint32_t got = static_cast<uint32_t>(m[1] << 16 | m[2] << 8 | m[3]);
        if (e[12] != 0x86 || e[13] != 0xdd || e[14 + 6] != 17 || udp[2] != 2 || udp[3] != 0x22 || m[0] != 7 ||
            got != (xid & 0xffffff))
            return false;
        for (const uint8_t* o = m + 4; o + 4 <= end;) {
            std::size_t len = static_cast<std::size_t>(o[2] << 8 | o[3]);
            // IA_NA (3): IAID, T1, T2, then its options; IAADDR (5) first.
            if (o[0] == 0 && o[1] == 3 && len >= 12 + 4 + 16 && o + 4 + len <= end && o[16 + 1] == 5) {
                std::memcpy(addr, o + 16 + 4, 16);
                return true;
            }
            o += 4 + len;
        }
        return false;
    });
}

void dhcp6(int tap, std::size_t hdr) {
    static const uint8_t kServers[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};
    uint32_t xid = static_cast<uint32_t>(getpid()) * 2654435761u;
    uint8_t addr[16];
    g_udp_sport = 546;
    g_udp_dport = 547;
    g_ip6_dst = kServers;
    std::memcpy(g_dst, "\x33\x33\x00\x01\x00\x02", 6);
    bool reply = false;
    for (int k = 0; k < 15 && !reply; ++k) {  // a Solicit a second, as --dhcp's DISCOVER
        auto m = solicit(xid);
        auto f = udp6_frame(std::string(m.begin(), m.end()), hdr);
        if (write(tap, f.data(), f.size()) < 0) die("write to tap");
        reply = dhcp6_reply(tap, hdr, xid, addr, std::chrono::seconds(1));
    }
    if (!reply) die("no DHCPv6 Reply");
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, addr, text, sizeof text);
    std::printf("dhcp6=%s\n", text);
    std::fflush(stdout);
    g_udp_sport = g_udp_dport = -1;
    g_ip6_dst = kAllNodes;
}

void dhcp(int tap, std::size_t hdr) {
    uint32_t xid = static_cast<uint32_t>(getpid()) * 2654435761u;
    uint8_t offered[4], server[4] = {}, acked[4];
    g_udp_sport = 68;
    g_udp_dport = 67;
    std::memset(g_ip4_src, 0, 4);
    auto send_bootp = [&](const std::vector<uint8_t>& b) {
        auto f = udp_frame(std::string(b.begin(), b.end()), hdr);
        if (write(tap, f.data(), f.size()) < 0) die("write to tap");
    };
    // A DISCOVER a second for 15 s: one sent before the server listens
    // (it starts beside the guest in a test) or while it checks the
    // address is free is answered by the next, not 5 s later.
    bool offer = false;
    for (int k = 0; k < 15 && !offer; ++k) {
        send_bootp(bootp(1, xid, nullptr, nullptr));
        offer = dhcp_reply(tap, hdr, xid, 2, offered, server, std::chrono::seconds(1));
    }
    if (!offer) die("no DHCPOFFER");
    send_bootp(bootp(3, xid, offered, server));
    if (!dhcp_reply(tap, hdr, xid, 5, acked, server, std::chrono::seconds(5))) die("no DHCPACK");
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, acked, text, sizeof text);
    std::printf("dhcp=%s\n", text);
    std::fflush(stdout);
    std::memcpy(g_arp_sender, acked, 4);
    g_has_arp = true;
    g_udp_sport = g_udp_dport = -1;
}

// "52:54:00:12:34:56" into `out`; false if it is not a MAC.
bool parse_mac(const char* text, uint8_t* out) {
    unsigned b[6];
    if (std::sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return false;
    for (int k = 0; k < 6; ++k) out[k] = static_cast<uint8_t>(b[k]);
    return true;
}

// --vlan=TAG[,TAG...]: a VID, or TPID:VID with the TPID in hex.
void parse_vlans(const std::string& text) {
    std::size_t at = 0;
    for (;;) {
        std::size_t comma = text.find(',', at);
        std::string tag = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        std::size_t colon = tag.find(':');
        uint16_t tpid = 0x8100;
        std::string vid = tag;
        if (colon != std::string::npos) {
            tpid = static_cast<uint16_t>(std::stoul(tag.substr(0, colon), nullptr, 16));
            vid = tag.substr(colon + 1);
        }
        g_vlans.emplace_back(tpid, static_cast<uint16_t>(std::stoul(vid)));
        if (comma == std::string::npos) return;
        at = comma + 1;
    }
}

bool contains(const uint8_t* p, std::size_t n, const std::string& marker) {
    return std::string(reinterpret_cast<const char*>(p), n).find(marker) != std::string::npos;
}

// Frames carrying `marker` read from `fd` in `ms` milliseconds, stopping
// at the `enough`th.
int count_frames(int fd, const std::string& marker, int ms, int enough = INT_MAX) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    uint8_t buf[65536];
    int seen = 0;
    while (seen < enough && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0 && contains(buf, static_cast<std::size_t>(n), marker)) ++seen;
    }
    return seen;
}

bool wait_frame(int fd, const std::string& marker, int ms) { return count_frames(fd, marker, ms, 1) == 1; }

// A frame carrying `marker` on any of a multiqueue tap's queues (the kernel
// picks one per flow), within `ms`.
bool wait_frame_any(const std::vector<ub::UniqueFd>& queues, const std::string& marker, int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::vector<pollfd> p;
    for (const ub::UniqueFd& q : queues) p.push_back({q.get(), POLLIN, 0});
    uint8_t buf[65536];
    while (std::chrono::steady_clock::now() < end) {
        if (poll(p.data(), p.size(), 50) <= 0) continue;
        for (const pollfd& q : p) {
            if (!(q.revents & POLLIN)) continue;
            ssize_t n = read(q.fd, buf, sizeof buf);
            if (n > 0 && contains(buf, static_cast<std::size_t>(n), marker)) return true;
        }
    }
    return false;
}

// A frame of 1000 bytes (after any virtio_net_hdr) carrying `marker`.
std::vector<uint8_t> big_frame(const std::string& marker, std::size_t vnet_hdr_len) {
    std::vector<uint8_t> f = frame(marker, vnet_hdr_len);
    f.resize(vnet_hdr_len + 1000, 0);
    return f;
}

int make_kind(const std::string& kind, int& keep) {
    int sv[2];
    keep = -1;
    if (kind == "stream" || kind == "dgram" || kind == "seqpacket") {
        int type = kind == "stream" ? SOCK_STREAM : kind == "dgram" ? SOCK_DGRAM : SOCK_SEQPACKET;
        if (socketpair(AF_UNIX, type, 0, sv) != 0) die("socketpair");
        keep = sv[0];
        return sv[1];
    }
    if (kind == "hungup") {  // connected, but its other end already closed
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
        close(sv[0]);
        return sv[1];
    }
    if (kind == "listen") {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        return s;
    }
    if (kind == "tcp" || kind == "udp") {
        int s = socket(AF_INET, kind == "tcp" ? SOCK_STREAM : SOCK_DGRAM, 0);
        if (s < 0) die("socket");
        return s;
    }
    if (kind == "pipe") {
        if (pipe(sv) != 0) die("pipe");
        keep = sv[1];
        return sv[0];
    }
    if (kind == "file") return open("/etc/hostname", O_RDONLY);
    if (kind == "closed") return -1;
    std::fprintf(stderr, "ub-testtool: unknown kind %s\n", kind.c_str());
    std::exit(100);
}

// Does ACTION (see daemon tamper) to the tap `name` whose fd is `tap`, as
// its unprivileged holder, and prints "ACTION: ok" or the error.
void tamper(int tap, const std::string& name, const std::string& action) {
    std::size_t eq = action.find('=');
    std::string key = action.substr(0, eq), value = eq == std::string::npos ? "" : action.substr(eq + 1);
    int rc = 0;
    if (key == "mac") {
        ifreq ifr{};
        std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
        unsigned b[6];
        if (std::sscanf(value.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
            die("bad mac=");
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        for (int k = 0; k < 6; ++k) ifr.ifr_hwaddr.sa_data[k] = static_cast<char>(b[k]);
        rc = ioctl(tap, SIOCSIFHWADDR, &ifr);
    } else if (key == "owner") {
        rc = ioctl(tap, TUNSETOWNER, std::stoul(value));
    } else if (key == "group") {
        rc = ioctl(tap, TUNSETGROUP, std::stoul(value));
    } else if (key == "persist") {
        rc = ioctl(tap, TUNSETPERSIST, 1UL);
    } else if (key == "vnet-hdr" || key == "requeue") {
        ifreq ifr{};
        std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
        if (key == "requeue") {
            ifr.ifr_flags = IFF_DETACH_QUEUE;
            rc = ioctl(tap, TUNSETQUEUE, &ifr);
        }
        ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (key == "requeue" ? IFF_MULTI_QUEUE : 0));
        if (rc == 0) rc = ioctl(tap, TUNSETIFF, &ifr);
    } else if (key == "offload-flood") {
        // Each change of the tap's features is a link event (NETDEV_FEAT_CHANGE).
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(value));
        long n = 0;
        for (; std::chrono::steady_clock::now() < until && rc == 0; ++n)
            rc = ioctl(tap, TUNSETOFFLOAD, n % 2 ? 0UL : static_cast<unsigned long>(TUN_F_CSUM));
        std::printf("feature changes: %ld\n", n);
    } else if (key == "signal") {
        int f = open(value.c_str(), O_WRONLY | O_CLOEXEC);
        rc = f < 0 || write(f, "!", 1) != 1 ? -1 : 0;
        if (f >= 0) close(f);
    } else if (key == "hold") {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(value)));
    } else if (key == "time-off") {
        std::string master = "/sys/class/net/" + name + "/master";
        auto t0 = std::chrono::steady_clock::now();
        while (access(master.c_str(), F_OK) == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
        std::printf("off the bridge after %lld us\n", static_cast<long long>(us.count()));
    } else {
        std::fprintf(stderr, "ub-testtool: unknown tamper action %s\n", action.c_str());
        std::exit(100);
    }
    std::printf("%s: %s\n", action.c_str(), rc == 0 ? "ok" : std::strerror(errno));
    std::fflush(stdout);
}

// --join-kill-on: every process of ours, the helper too, on one CPU
// (the first we may use), so that rtnetlink's wake-up of ours preempts the
// SCHED_IDLE helper before it returns from the request that set its tap up.
void pin_to_one_cpu() {
    cpu_set_t all, one;
    if (sched_getaffinity(0, sizeof all, &all) != 0) die("sched_getaffinity");
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &all)) {
            CPU_SET(c, &one);
            break;
        }
    if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity");
}

// Joins the first multiqueue tap of our uid that `monitor` shows on a
// bridge (and `up`, if asked), then SIGKILLs `helper`: the queue we hold is then the tap's only
// one, and nothing the helper meant to do next is done.
ub::Result<std::vector<ub::UniqueFd>> join_then_kill(ub::net::LinkMonitor& monitor, pid_t helper, bool up) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto running = [helper] {
        siginfo_t info{};
        return waitid(P_PID, static_cast<id_t>(helper), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
    };
    while (std::chrono::steady_clock::now() < end && running()) {
        pollfd p{monitor.fd(), POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        auto links = monitor.read();
        for (const ub::net::LinkInfo& l : links.ok() ? links->links : std::vector<ub::net::LinkInfo>{}) {
            if (l.deleted || l.kind != "tun" || l.tun_owner != static_cast<long long>(getuid()) ||
                (up && !(l.flags & IFF_UP)) || l.master == 0)
                continue;
            auto tun = ub::net::open_tun();
            if (!tun.ok()) return tun.error();
            ifreq ifr{};
            std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", l.name.c_str());
            ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
            if (ioctl(tun->get(), TUNSETIFF, &ifr) != 0) continue;
            kill(helper, SIGKILL);
            std::printf("joined=%s\n", l.name.c_str());
            std::fflush(stdout);
            std::vector<ub::UniqueFd> fds;
            fds.push_back(std::move(*tun));
            return fds;
        }
    }
    return ub::Error::msg("no tap of ours came on a bridge");
}

// Frames from `a` to `b` and back for `ms` milliseconds: the granted tap
// and a tap whose other side is a network namespace, the guest's.
void relay(int a, int b, int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::vector<char> buf(65536);
    while (std::chrono::steady_clock::now() < end) {
        pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        if (poll(p, 2, 100) < 0) die("poll");
        for (int k = 0; k < 2; ++k) {
            if (!(p[k].revents & POLLIN)) continue;
            ssize_t n = read(p[k].fd, buf.data(), buf.size());
            if (n > 0) (void)!write(p[1 - k].fd, buf.data(), static_cast<std::size_t>(n));
        }
    }
}

int open_guest_tap(const std::string& name, bool vnet) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) die("open /dev/net/tun");
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
    ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF " + name);
    return fd;
}

// call --send: frames carrying MARKER, ten times over 0.2 s: a frame that
// one rule lets through by chance, or one lost, does not decide a check
// alone. (With STP off, as in every test, a port forwards as soon as it is
// up.) With queues, each queue sends MARKER-qN, so a test can tell them
// apart. `hdr`: the virtio_net_hdr's length before each frame (0: none).
void send_marked(const std::vector<ub::UniqueFd>& fds, int queues, std::size_t hdr, const std::string& send) {
    for (int k = 0; k < 10; ++k) {
        for (int q = 0; q < queues; ++q) {
            std::string marker = queues > 1 ? send + "-q" + std::to_string(q) : send;
            int fd = fds[static_cast<std::size_t>(q)].get();
            if (g_frag) {
                for (const auto& f : udp6_fragments(marker, hdr))
                    if (write(fd, f.data(), f.size()) < 0) die("write to tap");
                continue;
            }
            auto f = g_has_arp ? arp_frame(marker, hdr)
                     : !g_nd_kind.empty() ? nd_frame(marker, hdr)
                     : g_has_ip6 ? udp6_frame(marker, hdr)
                     : g_udp_sport >= 0 ? udp_frame(marker, hdr) : frame(marker, hdr);
            auto le16 = [&f](std::size_t at, int v) {
                f[at] = static_cast<uint8_t>(v), f[at + 1] = static_cast<uint8_t>(v >> 8);
            };
            if (g_gso_size > 0 && hdr >= 10) {
                // gso_type, hdr_len, gso_size; NEEDS_CSUM from the UDP header on.
                int l4 = 14 + 4 * static_cast<int>(g_vlans.size()) + (g_has_ip6 ? 40 : 20);
                bool csum = g_gso_kind.find("-nocsum") == std::string::npos;
                f[0] = csum ? 1 : 0;
                f[1] = g_gso_kind.rfind("ufo", 0) == 0 ? 3 : 5;  // VIRTIO_NET_HDR_GSO_UDP, _UDP_L4
                le16(2, l4 + 8);
                le16(4, g_gso_size);
                if (csum) le16(6, l4), le16(8, 6);
            } else if (g_csum_start >= 0 && hdr >= 10) {
                // VIRTIO_NET_HDR_F_NEEDS_CSUM, csum_start, csum_offset (little-endian).
                f[0] = 1;
                le16(6, g_csum_start);
                le16(8, g_csum_offset);
            }
            if (write(fd, f.data(), f.size()) < 0) die("write to tap");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// call packet:IFNAME: what a container's root may do on its veth end: a
// packet socket with PACKET_VNET_HDR, whose frames carry a virtio_net_hdr.
int packet_socket(const std::string& ifname, uint16_t ethertype);
ub::UniqueFd vnet_packet_socket(const std::string& ifname) {
    ub::UniqueFd s(packet_socket(ifname, ETH_P_ALL));
    int on = 1;
    if (setsockopt(s.get(), SOL_PACKET, PACKET_VNET_HDR, &on, sizeof on) != 0) die("PACKET_VNET_HDR");
    return s;
}

int tap_by_name(const std::string& name, short flags);
// The first line of a small file (sysfs), "" when it cannot be read.
std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// await_port NAME FORWARDING: waits, at most 3 s, until the tap's bridge
// port (if it has one) forwards (BR_STATE_FORWARDING), or, not FORWARDING,
// is no longer disabled (BR_STATE_DISABLED). The bridge takes
// frames from a port once the kernel's link watch has told it the tap is
// up, which is up to a second after it is: a frame sent before is dropped,
// and a check that it does not cross would pass for the wrong reason. (Out
// of "0", a port of a bridge with STP on may still be listening: tests of
// such bridges judge the port's state themselves.)
void await_port(const std::string& name, bool forwarding) {
    std::string path = "/sys/class/net/" + name + "/brport/state";
    for (int k = 0; k < 300; ++k) {
        std::string now = first_line(path);
        if (now.empty() || (forwarding ? now == "3" : now != "0")) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int cmd_call(std::vector<std::string> a) {
    std::string kind = a.at(0), send, expect, relay_to;
    int close_after = -1;
    int hold = 0;
    bool ip4 = false, use_dhcp = false, use_dhcp6 = false;
    int flood = 0;
    std::string count_marker;
    int count_ms = 0;
    int queues = 1;
    std::vector<std::string> tampers;
    bool kill_on_fd = false;
    std::string join_kill_on;  // "up" or "attach"
    std::size_t i = 1;
    for (; i < a.size() && a[i] != "--"; ++i) {
        if (a[i].rfind("--close-after=", 0) == 0) close_after = std::stoi(a[i].substr(14));
        else if (a[i].rfind("--queues=", 0) == 0) queues = std::stoi(a[i].substr(9));
        else if (a[i].rfind("--src=", 0) == 0) {
            if (!parse_mac(a[i].c_str() + 6, g_src)) die("bad --src");
        } else if (a[i].rfind("--dst=", 0) == 0) {
            if (!parse_mac(a[i].c_str() + 6, g_dst)) die("bad --dst");
        } else if (a[i].rfind("--arp-mac=", 0) == 0) {
            g_arp_mac.emplace();
            if (!parse_mac(a[i].c_str() + 10, g_arp_mac->data())) die("bad --arp-mac");
        }
        else if (a[i].rfind("--hold=", 0) == 0) hold = std::stoi(a[i].substr(7));
        else if (a[i] == "--kill-on-fd") kill_on_fd = true;
        else if (a[i].rfind("--join-kill-on=", 0) == 0) join_kill_on = a[i].substr(15);
        else if (a[i] == "--dhcp") use_dhcp = true;
        else if (a[i] == "--dhcp6") use_dhcp6 = true;
        else if (a[i] == "--frag") g_frag = true;
        else if (a[i].rfind("--ip4-bad=", 0) == 0) g_ip4_bad = a[i].substr(10);
        else if (a[i].rfind("--icmp4=", 0) == 0) {
            if (std::sscanf(a[i].c_str() + 8, "%d:%d", &g_icmp4_type, &g_icmp4_code) != 2) die("bad --icmp4");
        }
        else if (a[i] == "--frag=tiny" || a[i] == "--frag=chain" || a[i] == "--frag=pad")
            g_frag = true, g_frag_kind = a[i].substr(7);
        else if (a[i].rfind("--ext6=", 0) == 0) g_ext6 = std::stoi(a[i].substr(7));
        else if (a[i].rfind("--relay=", 0) == 0) relay_to = a[i].substr(8);
        else if (a[i].rfind("--tamper=", 0) == 0) tampers.push_back(a[i].substr(9));
        else if (a[i].rfind("--send=", 0) == 0) send = a[i].substr(7);
        else if (a[i].rfind("--send-hex=", 0) == 0) {
            // Binary payloads (a BPDU): hex digits, two a byte.
            std::string hex = a[i].substr(11);
            send.clear();
            for (std::size_t k = 0; k + 1 < hex.size(); k += 2)
                send.push_back(static_cast<char>(std::stoi(hex.substr(k, 2), nullptr, 16)));
        }
        else if (a[i].rfind("--expect=", 0) == 0) expect = a[i].substr(9);
        else if (a[i].rfind("--nd=", 0) == 0) {
            std::string v = a[i].substr(5);
            std::size_t colon = v.find(':');
            if (colon == std::string::npos || !parse_mac(v.c_str() + colon + 1, g_nd_mac)) die("bad --nd");
            g_nd_kind = v.substr(0, colon);
        } else if (a[i].rfind("--udp=", 0) == 0) {
            if (std::sscanf(a[i].c_str() + 6, "%d:%d:%d", &g_udp_sport, &g_udp_dport, &g_udp_first) < 2)
                die("bad --udp");
        } else if (a[i].rfind("--ip4=", 0) == 0) {
            if (inet_pton(AF_INET, a[i].c_str() + 6, g_ip4_src) != 1) die("bad --ip4");
            ip4 = true;
        } else if (a[i].rfind("--ip6=", 0) == 0) {
            if (inet_pton(AF_INET6, a[i].c_str() + 6, g_ip6_src) != 1) die("bad --ip6");
            g_has_ip6 = true;
        } else if (a[i].rfind("--nd-target=", 0) == 0) {
            if (inet_pton(AF_INET6, a[i].c_str() + 12, g_nd_target) != 1) die("bad --nd-target");
            g_has_nd_target = true;
        } else if (a[i].rfind("--arp-target=", 0) == 0) {
            if (inet_pton(AF_INET, a[i].c_str() + 13, g_arp_target) != 1) die("bad --arp-target");
        } else if (a[i].rfind("--arp=", 0) == 0) {
            if (inet_pton(AF_INET, a[i].c_str() + 6, g_arp_sender) != 1) die("bad --arp");
            g_has_arp = true;
        } else if (a[i].rfind("--flood=", 0) == 0) {
            flood = std::stoi(a[i].substr(8));
        } else if (a[i].rfind("--count=", 0) == 0) {
            std::string v = a[i].substr(8);
            std::size_t colon = v.rfind(':');
            if (colon == std::string::npos) die("bad --count");
            count_marker = v.substr(0, colon);
            count_ms = std::stoi(v.substr(colon + 1));
        } else if (a[i].rfind("--vlan=", 0) == 0) {
            parse_vlans(a[i].substr(7));
        } else if (a[i].rfind("--gso=", 0) == 0) {
            std::string v = a[i].substr(6);
            std::size_t colon = v.find(':');
            if (colon == std::string::npos ||
                std::sscanf(v.c_str() + colon + 1, "%d:%d", &g_gso_size, &g_gso_second) != 2 || g_gso_size <= 0)
                die("bad --gso");
            g_gso_kind = v.substr(0, colon);
        } else if (a[i].rfind("--csum=", 0) == 0) {
            if (std::sscanf(a[i].c_str() + 7, "%d:%d", &g_csum_start, &g_csum_offset) != 2) die("bad --csum");
        } else if (a[i].rfind("--ethertype=", 0) == 0) {
            g_ethertype = static_cast<uint16_t>(std::stoi(a[i].substr(12), nullptr, 0));
        } else if (a[i].rfind("--pppoe=", 0) == 0) {
            g_pppoe_code = std::stoi(a[i].substr(8), nullptr, 0) & 0xff;
        }
    }
    if ((ip4 || g_has_ip6) && g_udp_sport < 0) g_udp_sport = g_udp_dport = 5000;
    if (kind.rfind("packet:", 0) == 0) {
        std::vector<ub::UniqueFd> fds;
        fds.push_back(vnet_packet_socket(kind.substr(7)));
        if (!send.empty()) send_marked(fds, 1, 10, send);  // struct virtio_net_hdr
        return 0;
    }
    if (kind.rfind("name:", 0) == 0) {
        std::string name = kind.substr(5);
        std::vector<ub::UniqueFd> fds;
        fds.emplace_back(tap_by_name(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
        if (!fds[0].valid()) die("open " + name + " by name");
        std::printf("tap=%s vnet_hdr=1\n", name.c_str());
        std::fflush(stdout);
        await_port(name, true);  // our open brought its carrier on
        if (!send.empty()) send_marked(fds, 1, 10, send);  // the default header, struct virtio_net_hdr
        return 0;
    }
    std::vector<char*> argv;
    for (++i; i < a.size(); ++i) argv.push_back(a[i].data());
    argv.push_back(nullptr);

    int keep;
    int child_fd = make_kind(kind, keep);
    std::optional<ub::net::LinkMonitor> monitor;
    if (!join_kill_on.empty()) {
        auto m = ub::net::LinkMonitor::open();
        if (!m.ok()) die("rtnetlink monitor");
        monitor.emplace(std::move(*m));
        pin_to_one_cpu();
    }
    pid_t pid = fork();
    if (pid == 0) {
        sched_param idle{};
        if (!join_kill_on.empty() && sched_setscheduler(0, SCHED_IDLE, &idle) != 0) die("SCHED_IDLE");
        if (child_fd >= 0 && child_fd != 3) dup2(child_fd, 3);
        if (child_fd < 0) close(3);
        if (child_fd >= 0) fcntl(3, F_SETFD, 0);
        execv(argv[0], argv.data());
        die("exec");
    }
    if (child_fd >= 0) close(child_fd);
    if (close_after >= 0 && keep >= 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(close_after));
        close(keep);
        keep = -1;
    }
    // --kill-on-fd: the caller's own SIGKILL as soon as the fd is here, as
    // any caller may (kill(2) goes by the real uid, which a setuid helper
    // keeps): whatever the helper meant to do after sending is not done.
    std::optional<ub::Result<std::vector<ub::UniqueFd>>> early;
    if (kill_on_fd && kind == "stream" && keep >= 0) {
        early.emplace(ub::handover::recv_fds(keep, queues));
        kill(pid, SIGKILL);
    }
    if (monitor) {
        early.emplace(join_then_kill(*monitor, pid, join_kill_on == "up"));
        queues = 1;  // the one queue we joined
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (kind != "stream" || keep < 0 || (rc != 0 && !early)) return rc;

    auto fds = early ? std::move(*early) : ub::handover::recv_fds(keep, queues);
    if (!fds.ok()) {
        std::printf("no fd: %s\n", fds.error().message().c_str());
        return 3;
    }
    int tap = fds.value()[0].get();
    ifreq ifr{};
    if (ioctl(tap, TUNGETIFF, &ifr) != 0) die("TUNGETIFF");
    bool vnet = ifr.ifr_flags & IFF_VNET_HDR;
    if (queues > 1) {
        // Every fd must be a queue of the same multiqueue tap.
        for (int q = 1; q < queues; ++q) {
            ifreq other{};
            if (ioctl(fds.value()[static_cast<std::size_t>(q)].get(), TUNGETIFF, &other) != 0)
                die("TUNGETIFF");
            if (std::strcmp(other.ifr_name, ifr.ifr_name) != 0 || !(other.ifr_flags & IFF_MULTI_QUEUE))
                die("queue " + std::to_string(q) + " is not a queue of " + ifr.ifr_name);
        }
        std::printf("tap=%s vnet_hdr=%d queues=%d\n", ifr.ifr_name, vnet ? 1 : 0, queues);
    } else {
        std::printf("tap=%s vnet_hdr=%d\n", ifr.ifr_name, vnet ? 1 : 0);
    }
    std::fflush(stdout);
    await_port(ifr.ifr_name, false);  // the bridge not yet told the tap is up
    for (const std::string& t : tampers) {
        if (t == "requeue") fds.value().resize(1), queues = 1;  // its only queue left
        tamper(tap, ifr.ifr_name, t);
    }
    // A tamper may have turned the header on.
    if (!tampers.empty() && ioctl(tap, TUNGETIFF, &ifr) == 0) vnet = ifr.ifr_flags & IFF_VNET_HDR;
    if (!relay_to.empty()) {
        relay(tap, open_guest_tap(relay_to, vnet), hold);
        return 0;
    }
    std::size_t hdr = 0;
    if (vnet) {
        int len = 0;
        if (ioctl(tap, TUNGETVNETHDRSZ, &len) != 0) die("TUNGETVNETHDRSZ");
        hdr = static_cast<std::size_t>(len);
    }
    if (use_dhcp) dhcp(tap, hdr);
    if (use_dhcp6) dhcp6(tap, hdr);
    if (!send.empty() && flood > 0) {
        auto f = big_frame(send, hdr);
        for (int k = 0; k < flood; ++k)
            if (write(tap, f.data(), f.size()) < 0) die("write to tap");
    } else if (!send.empty()) {
        send_marked(fds.value(), queues, hdr, send);
    }
    if (!count_marker.empty()) {
        std::printf("count=%d\n", count_frames(tap, count_marker, count_ms));
        std::fflush(stdout);
    }
    if (!expect.empty() && !wait_frame_any(fds.value(), expect, 5000)) {
        std::printf("expected frame not seen\n");
        return 4;
    }
    if (hold) std::this_thread::sleep_for(std::chrono::milliseconds(hold));
    return 0;
}

int packet_socket(const std::string& ifname, uint16_t ethertype) {
    int s = socket(AF_PACKET, SOCK_RAW, htons(ethertype));
    if (s < 0) die("packet socket");
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ethertype);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (sll.sll_ifindex == 0) die("no interface " + ifname);
    if (bind(s, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) die("bind");
    return s;
}

int cmd_listen(const std::vector<std::string>& a) {
    int s = packet_socket(a.at(0), ETH_P_ALL);
    std::printf("listening\n");
    std::fflush(stdout);
    std::string marker = a.at(1);
    if (marker.rfind("ip6:", 0) == 0) {
        char addr[16];
        if (inet_pton(AF_INET6, marker.c_str() + 4, addr) != 1) die("bad ip6: marker");
        marker.assign(addr, 16);
    }
    return wait_frame(s, marker, std::stoi(a.at(2))) ? 0 : 1;
}

int cmd_listen_frame(const std::vector<std::string>& a) {
    int s = packet_socket(a.at(0), ETH_P_ALL);
    std::printf("listening\n");
    std::fflush(stdout);
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(a.at(2)));
    uint8_t buf[65536];
    while (std::chrono::steady_clock::now() < end) {
        pollfd p{s, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0 || !contains(buf, static_cast<std::size_t>(n), a.at(1))) continue;
        for (ssize_t k = 0; k < std::min<ssize_t>(n, 64); ++k) std::printf("%02x", buf[k]);
        std::printf("\n");
        return 0;
    }
    return 1;
}

int cmd_tx_csum_off(const std::vector<std::string>& a) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ethtool_value v{ETHTOOL_STXCSUM, 0};
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", a.at(0).c_str());
    ifr.ifr_data = reinterpret_cast<char*>(&v);
    if (s < 0 || ioctl(s, SIOCETHTOOL, &ifr) != 0) die("ETHTOOL_STXCSUM " + a.at(0));
    return 0;
}

int cmd_send(const std::vector<std::string>& a) {
    int s = packet_socket(a.at(0), kEtherType);
    for (int k = 0; k < 30; ++k) {
        auto f = frame(a.at(1), 0);
        if (send(s, f.data(), f.size(), 0) < 0) die("send");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
}

// A packet socket with room for a flood: the default buffer would drop
// frames the bridge did deliver.
int roomy_packet_socket(const std::string& ifname) {
    int s = packet_socket(ifname, ETH_P_ALL);
    int size = 16 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) die("SO_RCVBUFFORCE");
    if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) die("SO_SNDBUFFORCE");
    return s;
}

int cmd_count(const std::vector<std::string>& a) {
    int s = roomy_packet_socket(a.at(0));
    std::printf("counting\n");
    std::fflush(stdout);
    std::printf("count=%d\n", count_frames(s, a.at(1), std::stoi(a.at(2))));
    return 0;
}

int cmd_flood(const std::vector<std::string>& a) {
    int s = roomy_packet_socket(a.at(0));
    auto f = big_frame(a.at(1), 0);
    for (int k = 0; k < std::stoi(a.at(2)); ++k)
        if (send(s, f.data(), f.size(), 0) < 0) die("send");
    return 0;
}

int cmd_flood_to(const std::vector<std::string>& a) {
    int s = roomy_packet_socket(a.at(0));
    unsigned b[6];
    if (std::sscanf(a.at(1).c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        die("bad MAC");
    auto f = big_frame(a.at(2), 0);
    for (int k = 0; k < 6; ++k) f[static_cast<std::size_t>(k)] = static_cast<uint8_t>(b[k]);
    if (a.size() > 4) {
        int fifo = open(a[4].c_str(), O_RDONLY | O_CLOEXEC);
        char c;
        if (fifo < 0 || read(fifo, &c, 1) != 1) die("wait on " + a[4]);
    }
    auto every = std::chrono::microseconds(a.size() > 5 ? std::stoi(a[5]) : 0);
    auto next = std::chrono::steady_clock::now();
    for (int k = 0; k < std::stoi(a.at(3)); ++k) {
        while (std::chrono::steady_clock::now() < next) {}  // a sleep would overshoot
        next += every;
        if (send(s, f.data(), f.size(), 0) < 0) die("send");
    }
    return 0;
}

int connect_to(const std::string& path) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
    if (connect(s, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) die("connect " + path);
    return s;
}

// Reads the daemon's reply (or EOF) and prints its status and message.
int print_reply(int s) {
    char buf[ub::protocol::kReplySize];
    std::size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = recv(s, buf + got, sizeof buf - got, 0);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got == 0) {
        std::printf("closed without a reply\n");
        return 1;
    }
    auto r = ub::protocol::decode_reply(std::string_view(buf, got));
    if (!r.ok()) {
        std::printf("bad reply: %s\n", r.error().message().c_str());
        return 1;
    }
    bool granted = r->status == ub::protocol::Status::Granted;
    std::fprintf(granted ? stdout : stderr, "%s: %s\n", ub::protocol::status_name(r->status),
                 r->message.c_str());
    return granted ? 0 : 1;
}

// The status of the reply waiting on `s`, peeked at: neither its bytes nor
// its fds are taken.
bool peek_granted(int s) {
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) return false;
    char buf[ub::protocol::kReplySize];
    ssize_t n = recv(s, buf, sizeof buf, MSG_PEEK | MSG_WAITALL);
    if (n != static_cast<ssize_t>(sizeof buf)) return false;
    auto r = ub::protocol::decode_reply(std::string_view(buf, sizeof buf));
    return r.ok() && r->status == ub::protocol::Status::Granted;
}

int hold_replies(const std::string& path, const std::string& bridge, int n, int queues, int ms) {
    std::vector<int> held;
    int granted = 0;
    for (int i = 0; i < n; ++i) {
        ub::protocol::Request req{true, static_cast<uint16_t>(queues), bridge, "unread"};
        auto bytes = ub::protocol::encode(req);
        int s = connect_to(path);
        if (send(s, bytes.data(), bytes.size(), 0) < 0) die("send");
        granted += peek_granted(s) ? 1 : 0;
        held.push_back(s);
    }
    std::printf("granted=%d refused=%d\n", granted, n - granted);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return 0;
}

// One byte on `s` with `fds` (SCM_RIGHTS); true if it went.
bool send_byte_with_fds(int s, const std::vector<int>& fds) {
    char byte = 'F';
    iovec iov{&byte, 1};
    std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
    return sendmsg(s, &msg, MSG_NOSIGNAL) == 1;
}

int stuff_unread(const std::string& path, const std::string& bridge, int n) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;  // the fds in flight count against it
    setrlimit(RLIMIT_NOFILE, &lim);
    ub::protocol::Request req{true, 1, bridge, "stuffed"};
    auto bytes = ub::protocol::encode(req);
    int s = connect_to(path);
    if (send(s, bytes.data(), bytes.size(), 0) < 0) die("send");
    if (!peek_granted(s)) die("no grant to hold unread");
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) die("unshare (a user namespace of our own)");
    int stuffed = 0;
    while (stuffed < n) {
        std::vector<int> fds;
        for (int k = 0; k < 253 && stuffed + k < n; ++k) {
            int p = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
            if (p < 0) die("socket(AF_PACKET)");
            fds.push_back(p);
        }
        bool ok = send_byte_with_fds(s, fds);
        for (int f : fds) close(f);
        if (!ok) break;
        stuffed += static_cast<int>(fds.size());
    }
    std::printf("stuffed=%d\n", stuffed);
    return 0;  // and the connection goes with us
}

int connect_flood(const std::string& path, int ms) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    long connects = 0, refused = 0;
    while (std::chrono::steady_clock::now() < until) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0) die("socket");
        if (connect(s, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0) ++connects;
        else if (errno == EAGAIN) ++refused;
        close(s);
    }
    std::printf("connects=%ld refused=%ld\n", connects, refused);
    return 0;
}

// Requests of garbage, each on a connection of its own, its refusal read
// to the end, from THREADS threads for MS ms: each costs the daemon an
// audit record, and so a name to look up.
int bad_flood(const std::string& path, int ms, int threads) {
    std::atomic<long> total{0};
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            std::string junk(ub::protocol::kRequestSize, 'x');
            char buf[512];
            sockaddr_un sun{};
            sun.sun_family = AF_UNIX;
            std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
            while (std::chrono::steady_clock::now() < until) {
                int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
                    if (s >= 0) close(s);
                    continue;
                }
                if (send(s, junk.data(), junk.size(), MSG_NOSIGNAL) > 0) ++total;
                while (read(s, buf, sizeof buf) > 0) {}
                close(s);
            }
        });
    for (std::thread& t : pool) t.join();
    std::printf("requests=%ld\n", total.load());
    return 0;
}

int cmd_daemon(const std::vector<std::string>& a) {
    const std::string& mode = a.at(0);
    const std::string& path = a.at(1);
    if (mode == "connect-flood") return connect_flood(path, std::stoi(a.at(2)));
    if (mode == "bad-flood") return bad_flood(path, std::stoi(a.at(2)), std::stoi(a.at(3)));
    if (mode == "stuff-unread") return stuff_unread(path, a.at(2), std::stoi(a.at(3)));
    if (mode == "hold-replies")
        return hold_replies(path, a.at(2), std::stoi(a.at(3)), std::stoi(a.at(4)), std::stoi(a.at(5)));
    std::string bridge = a.size() > 2 ? a[2] : "br0";
    if (mode == "grant" || mode == "tamper") {
        ub::client::OpenRequest req;
        req.socket = path;
        req.tap = {true, 1, bridge, "testvm"};
        auto opened = ub::client::open_tap_via_daemon(req);
        if (!opened.ok()) {
            std::fprintf(stderr, "%s\n", opened.error().message().c_str());
            return 1;
        }
        if (auto* no = std::get_if<ub::Refusal>(&*opened)) {
            std::fprintf(stderr, "%s\n", no->reason.c_str());
            return 1;
        }
        auto* t = &std::get<ub::client::TapHandle>(*opened);
        if (mode == "tamper") {
            std::printf("tap=%s\n", t->ifname.c_str());
            std::fflush(stdout);
            for (std::size_t k = 3; k < a.size(); ++k) tamper(t->fd.get(), t->ifname, a[k]);
            return 0;
        }
        // The daemon closes its copies before the EOF we waited for, so our
        // close is the last and the tap is gone when it returns.
        t->fd.reset();
        t->extra.clear();
        bool gone = if_nametoindex(t->ifname.c_str()) == 0;
        std::printf("tap=%s vnet_hdr=%d gone-on-close=%d\n", t->ifname.c_str(), t->vnet_hdr ? 1 : 0,
                    gone ? 1 : 0);
        return 0;
    }
    auto queues = static_cast<uint16_t>(mode == "grant-late-drop" && a.size() > 3 ? std::stoi(a[3]) : 1);
    ub::protocol::Request good{true, queues, bridge, ""};
    auto bytes = ub::protocol::encode(good);
    int s = connect_to(path);
    if (mode == "grant-drop" || mode == "grant-late-drop") {
        if (send(s, bytes.data(), bytes.size(), 0) < 0) die("send");
        if (mode == "grant-late-drop") usleep(500'000);
        close(s);
        return 0;
    }
    if (mode == "bad-magic" || mode == "bad-version") {
        bytes[mode == "bad-magic" ? 0 : 4] = 9;
        if (send(s, bytes.data(), bytes.size(), 0) < 0) die("send");
        return print_reply(s);
    }
    if (mode == "oversize") {
        std::string big(4096, 'x');
        (void)send(s, big.data(), big.size(), MSG_NOSIGNAL);
        return print_reply(s);
    }
    if (mode == "truncated") {
        if (send(s, bytes.data(), bytes.size() / 2, 0) < 0) die("send");
        close(s);
        return 0;
    }
    if (mode == "slow") {
        std::printf("connected\n");
        std::fflush(stdout);
        auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (send(s, &bytes[i], 1, MSG_NOSIGNAL) < 0) break;
            std::this_thread::sleep_for(std::chrono::seconds(1));
            pollfd p{s, POLLIN, 0};
            if (poll(&p, 1, 0) > 0) break;  // the daemon answered or hung up
        }
        (void)print_reply(s);
        std::fflush(stderr);
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
        std::printf("dropped after %lld s\n", static_cast<long long>(secs));
        return 0;
    }
    if (mode == "mute") return print_reply(s);
    if (mode == "grant-orphan") {
        // The process the daemon knows (SO_PEERCRED) exits; a child it
        // forked holds the connection and takes the reply.
        if (send(s, bytes.data(), bytes.size(), 0) < 0) die("send");
        std::printf("subject=%d\n", static_cast<int>(getpid()));
        std::fflush(stdout);
        pid_t child = fork();
        if (child < 0) die("fork");
        if (child == 0) return print_reply(s);
        std::this_thread::sleep_for(std::chrono::milliseconds(a.size() > 3 ? std::stoi(a[3]) : 500));
        _exit(0);
    }
    if (mode == "idle") {
        std::printf("connected\n");
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::seconds(30));
        return 0;
    }
    return 100;
}

int cmd_fds(const std::vector<std::string>& a) {
    DIR* d = opendir("/proc/self/fd");
    if (!d) die("opendir");
    std::vector<int> fds;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd != dirfd(d)) fds.push_back(fd);
    }
    closedir(d);
    std::sort(fds.begin(), fds.end());
    std::printf("fds:");
    for (int fd : fds) std::printf(" %d", fd);
    std::printf("\nargs:");
    for (const std::string& s : a) std::printf(" %s", s.c_str());
    std::printf("\n");
    return 0;
}

// The record in a datagram, or, when the datagram is empty and carries an
// fd (SCM_RIGHTS), in that file: what journald reads from a memfd.
std::string received_record(int s) {
    static std::vector<char> buf(1 << 16);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0) return {};
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    if (n > 0 || !c || c->cmsg_type != SCM_RIGHTS) return std::string(buf.data(), static_cast<std::size_t>(n));
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    std::string rec;
    char chunk[65536];
    for (ssize_t got; (got = pread(fd, chunk, sizeof chunk, static_cast<off_t>(rec.size()))) > 0;)
        rec.append(chunk, static_cast<std::size_t>(got));
    close(fd);
    return rec;
}

int cmd_syslog_sink(const std::vector<std::string>& a) {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", a.at(0).c_str());
    unlink(sun.sun_path);
    if (bind(s, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) die("bind " + a.at(0));
    chmod(sun.sun_path, 0666);
    FILE* out = std::fopen(a.at(1).c_str(), "a");
    if (!out) die("open " + a.at(1));
    for (;;) {
        std::string rec = received_record(s);
        if (rec.empty()) continue;
        std::fprintf(out, "%s\n", rec.c_str());
        std::fflush(out);
    }
}

// One journald record of `bytes` bytes of MESSAGE, sent as the daemon sends
// its records, under the daemon's own seccomp filter: libsystemd sends a
// record too large for a datagram through a memfd (memfd_create, sealed,
// passed with SCM_RIGHTS), and the filter must let it.
int cmd_journal_record(const std::vector<std::string>& a) {
    std::string message = "MESSAGE=" + std::string(std::stoul(a.at(0)), 'x');
    std::string event = "USERBRIDGE_EVENT=large";
    iovec iov[] = {{message.data(), message.size()}, {event.data(), event.size()}};
    if (auto r = ub::privilege::install_seccomp({}, ub::privilege::Profile::Daemon); !r.ok()) {
        std::fprintf(stderr, "ub-testtool: %s\n", r.error().message().c_str());
        return 100;
    }
    int r = sd_journal_sendv(iov, 2);
    if (r < 0) std::fprintf(stderr, "sd_journal_sendv: %s\n", std::strerror(-r));
    return r == 0 ? 0 : 1;
}

// Sets an interface's MTU as the tap set-up does (Rtnl::set_port) and
// prints the error, in the kernel's words where it gives some.
int cmd_set_port(const std::vector<std::string>& a) {
    auto rtnl = ub::net::Rtnl::open();
    if (!rtnl.ok()) die("rtnetlink");
    auto index = rtnl->ifindex(a.at(0));
    if (!index.ok()) {
        std::fprintf(stderr, "%s\n", index.error().message().c_str());
        return 1;
    }
    ub::Mac mac{0xfe, 0, 0, 0, 0, 1};
    auto r = rtnl->set_port(*index, static_cast<unsigned>(std::stoul(a.at(1))), mac, "");
    if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.error().message().c_str());
        return 1;
    }
    return 0;
}

// A tap of ours, made and attached as the helper does it, on `bridge`
// unless it is empty: what a lying daemon hands over.
ub::net::Tap fake_tap(const std::string& bridge) {
    auto tun = ub::net::open_tun();
    if (!tun.ok()) die("open /dev/net/tun");
    std::vector<ub::UniqueFd> tuns;
    tuns.push_back(std::move(*tun));
    auto rtnl = ub::net::Rtnl::open();
    if (!rtnl.ok()) die("rtnetlink");
    auto tap = ub::net::create_tap(*rtnl, std::move(tuns), ub::net::VnetHdr::Off);
    if (!tap.ok()) die(tap.error().message());
    auto port = rtnl->ifindex(tap->name);
    auto master = rtnl->ifindex(bridge);
    if (!port.ok() || !master.ok() || !rtnl->set_master(*port, *master).ok())
        die("cannot attach the fake tap");
    return std::move(*tap);
}

int cmd_fake_daemon(const std::vector<std::string>& a) {
    const std::string& path = a.at(0);
    const std::string& mode = a.at(1);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
    unlink(path.c_str());
    if (bind(l, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || listen(l, 1) != 0) die("bind");
    chmod(path.c_str(), 0666);
    int c = accept(l, nullptr, nullptr);
    if (c < 0) die("accept");
    char req[ub::protocol::kRequestSize];
    if (recv(c, req, sizeof req, MSG_WAITALL) != static_cast<ssize_t>(sizeof req)) die("request");
    auto r = ub::protocol::decode_request(std::string_view(req, sizeof req));
    if (!r.ok()) die("bad request");
    ub::net::Tap tap;
    if (mode == "notap") {  // /dev/null posing as a tap
        tap.queues.emplace_back(open("/dev/null", O_RDWR | O_CLOEXEC));
        tap.name = "tap0";
    } else {
        tap = fake_tap(r->bridge);
    }
    ub::protocol::Reply rep;
    rep.status = ub::protocol::Status::Granted;
    rep.nfds = 1;
    rep.ifname = mode == "othername" ? "tap999" : tap.name;
    auto bytes = ub::protocol::encode(rep);
    if (mode == "oldrelease") bytes[4] = 1;
    if (ub::handover::sendmsg_with_fds(c, bytes.data(), bytes.size(), {tap.fd()}, 0) < 0) die("send");
    if (mode == "extra" && send(c, "x", 1, 0) != 1) die("send");
    tap.queues.clear();
    close(c);
    unlink(path.c_str());
    return 0;
}

// The unkeyed derivation userbridge used to publish in userbridge-acl(5):
// anyone could compute any user's MAC, and so search for a VM name whose
// MAC is another's.
std::array<uint8_t, 6> unkeyed_mac(const std::array<uint8_t, 6>& prefix, int prefix_len,
                                   const std::string& uid, const std::string& vm, const std::string& bridge) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const std::string* part : {&uid, &vm, &bridge}) {
        for (char c : *part) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
        h *= 0x100000001b3ULL;  // the part's terminating NUL
    }
    std::array<uint8_t, 6> mac = prefix;
    for (int i = prefix_len; i < 6; ++i, h >>= 8) mac[static_cast<std::size_t>(i)] = static_cast<uint8_t>(h);
    return mac;
}

int cmd_mac_search(const std::vector<std::string>& a) {
    if (a.size() != 4) return 100;
    int prefix_len = 0, target_len = 0;
    auto prefix = ub::parse_mac(a[2], &prefix_len);
    auto target = ub::parse_mac(a[3], &target_len);
    if (!prefix.ok() || !target.ok() || target_len != 6) die("bad MAC");
    auto start = std::chrono::steady_clock::now();
    for (unsigned long n = 0; n < (1UL << 32); ++n) {
        std::string vm = "x" + std::to_string(n);
        if (unkeyed_mac(*prefix, prefix_len, a[0], vm, a[1]) != *target) continue;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        std::printf("vm=%s tries=%lu ms=%lld\n", vm.c_str(), n + 1, static_cast<long long>(ms.count()));
        return 0;
    }
    return 1;
}

// One queue the attacker got: held until the tap is up, gone, or 3 s passed.
struct Joined {
    ub::UniqueFd fd;
    std::string name;
    std::chrono::steady_clock::time_point until;
};

// Whether `j` is settled, saying how: still a queue of an up tap (the grant
// went through with us in it), no longer a queue (the tap was deleted), or
// never up.
bool settle(const Joined& j, int sock) {
    ifreq ifr{};
    if (ioctl(j.fd.get(), TUNGETIFF, &ifr) != 0) {
        std::printf("EVICTED %s\n", j.name.c_str());
    } else {
        std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", j.name.c_str());
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP))
            std::printf("JOINED %s\n", j.name.c_str());
        else if (std::chrono::steady_clock::now() > j.until)
            std::printf("HELD %s\n", j.name.c_str());
        else
            return false;
    }
    std::fflush(stdout);
    return true;
}

// What the holder of any queue of a tap may do to the whole device, no
// privilege needed (drivers/net/tun.c, __tun_chr_ioctl), and what stays
// when that queue is closed.
void change_and_leave(int q) {
    ifreq ifr{};
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    const unsigned char mac[6] = {0x02, 0xde, 0xad, 0xbe, 0xef, 0x01};
    std::memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    (void)ioctl(q, SIOCSIFHWADDR, &ifr);
    static sock_filter drop_all[] = {{BPF_RET | BPF_K, 0, 0, 0}};
    sock_fprog prog{1, drop_all};
    (void)ioctl(q, TUNATTACHFILTER, &prog);
    // struct tun_filter {flags, count} and then count addresses.
    alignas(tun_filter) unsigned char only[sizeof(tun_filter) + ETH_ALEN] = {};
    tun_filter head{0, 1};
    std::memcpy(only, &head, sizeof head);
    const unsigned char addr[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x99};
    std::memcpy(only + sizeof head, addr, ETH_ALEN);
    (void)ioctl(q, TUNSETTXFILTER, only);
}

// mq-join's state, shared by its threads.
struct MqAttack {
    std::chrono::steady_clock::time_point until;
    bool helper = false;          // predict tap<pid>, else the daemon's tap<next>
    bool leave = false;           // change the tap, then let go of the queue
    std::set<std::string> left;   // with leave: each tap once (our changes announce it again)
    std::atomic<unsigned> next{0};
    ub::UniqueFd last_pid{open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC)};
    std::mutex m;
    std::vector<Joined> held;

    // The names a grant will use next: the helper, which ub-testtool call
    // forks, names its tap after its pid, the newest one or nearly.
    std::vector<std::string> predicted() {
        if (!helper) return {"tap" + std::to_string(next.load())};
        char buf[16] = {};
        unsigned pid = pread(last_pid.get(), buf, sizeof buf - 1, 0) > 0 ? std::atoi(buf) : 0;
        return {"tap" + std::to_string(pid), "tap" + std::to_string(pid - 1),
                "tap" + std::to_string(pid - 2)};
    }

    // TUNSETIFF on `name` with `tun`; a queue got is kept, with a new tun fd
    // for the next try.
    void join(ub::UniqueFd& tun, const std::string& name) {
        ifreq ifr{};
        std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
        if (leave) {
            std::lock_guard lock(m);
            if (left.count(name) != 0) return;
        }
        if (ioctl(tun.get(), TUNSETIFF, &ifr) != 0) return;
        if (leave) {
            std::lock_guard lock(m);
            left.insert(name);
            change_and_leave(tun.get());
            std::printf("LEFT %s\n", name.c_str());
            std::fflush(stdout);
            auto fresh = ub::net::open_tun();
            if (!fresh.ok()) die("open /dev/net/tun");
            tun = std::move(*fresh);  // closes the queue we had
            return;
        }
        std::lock_guard lock(m);
        held.push_back({std::move(tun), name, std::chrono::steady_clock::now() + std::chrono::seconds(3)});
        auto fresh = ub::net::open_tun();
        if (!fresh.ok()) die("open /dev/net/tun");
        tun = std::move(*fresh);
    }

    // A spinning thread: its waits for the RTNL lock queue up before the
    // victim's TUNSETOWNER, which waits for the same lock.
    void spin() {
        auto tun = ub::net::open_tun();
        if (!tun.ok()) die("open /dev/net/tun");
        while (std::chrono::steady_clock::now() < until)
            for (const std::string& name : predicted()) join(*tun, name);
    }
};

int cmd_mq_join(const std::vector<std::string>& a) {
    MqAttack at;
    at.until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(a.at(0)));
    at.helper = a.at(1) == "helper";
    at.leave = a.size() > 2 && a[2] == "leave";
    if (!at.helper) at.next = static_cast<unsigned>(std::stoul(a.at(1).substr(7)));
    auto monitor = ub::net::LinkMonitor::open();
    ub::UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto tun = ub::net::open_tun();
    if (!monitor.ok() || !sock.valid() || !tun.ok()) die("setup");
    std::vector<std::thread> spinners;
    for (int i = 0; i < 3; ++i) spinners.emplace_back([&] { at.spin(); });
    std::printf("ready\n");
    std::fflush(stdout);
    // This thread joins each tap rtnetlink announces, follows the daemon's
    // counter, and settles what the spinners got.
    while (std::chrono::steady_clock::now() < at.until) {
        pollfd p{monitor->fd(), POLLIN, 0};
        (void)poll(&p, 1, 1);
        auto links = monitor->read();
        for (const ub::net::LinkInfo& l : links.ok() ? links->links : std::vector<ub::net::LinkInfo>{}) {
            if (l.deleted || l.name.rfind("tap", 0) != 0) continue;
            at.join(*tun, l.name);
            if (l.name == "tap" + std::to_string(at.next.load())) ++at.next;
        }
        std::lock_guard lock(at.m);
        std::erase_if(at.held, [&](const Joined& j) { return settle(j, sock.get()); });
    }
    for (std::thread& t : spinners) t.join();
    return 0;
}

// A persistent tap opened by NAME as a VMM opens one (TUNSETIFF), with
// FLAGS; -1 and errno when the kernel refuses.
int tap_by_name(const std::string& name, short flags) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) die("open /dev/net/tun");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = flags;
    if (ioctl(fd, TUNSETIFF, &ifr) == 0) return fd;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int cmd_tap_by_name(const std::vector<std::string>& a) {
    std::string send_marker, expect_marker;
    int expect_ms = 0, hold = 0;
    long owner = -1, link = -1;
    short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    for (std::size_t k = 1; k < a.size(); ++k) {
        const std::string& o = a[k];
        if (o.rfind("send=", 0) == 0) send_marker = o.substr(5);
        else if (o.rfind("expect=", 0) == 0) {
            std::size_t colon = o.rfind(':');
            expect_marker = o.substr(7, colon - 7);
            expect_ms = std::stoi(o.substr(colon + 1));
        } else if (o.rfind("hold=", 0) == 0) hold = std::stoi(o.substr(5));
        else if (o == "mq") flags |= IFF_MULTI_QUEUE;
        else if (o.rfind("owner=", 0) == 0) owner = std::stol(o.substr(6));
        else if (o.rfind("link=", 0) == 0) link = std::stol(o.substr(5));
        else if (o.rfind("bpdu=", 0) == 0) {
            send_marker.clear();
            for (std::size_t h = 5; h + 1 < o.size(); h += 2)
                send_marker.push_back(static_cast<char>(std::stoi(o.substr(h, 2), nullptr, 16)));
            const uint8_t stp[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
            std::memcpy(g_dst, stp, 6);
            g_ethertype = static_cast<uint16_t>(send_marker.size());  // 802.3: the length (LLC and BPDU)
        } else die("tap-by-name: unknown option " + o);
    }
    int fd = tap_by_name(a.at(0), flags);
    if (fd < 0) {
        std::printf("refused: %s\n", std::strerror(errno));
        return 1;
    }
    if (link >= 0) {
        if (ioctl(fd, TUNSETLINK, static_cast<unsigned long>(link)) == 0) std::printf("linked %ld\n", link);
        else std::printf("link refused: %s\n", std::strerror(errno));
        std::fflush(stdout);
    }
    int hdr = 12;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0) die("TUNSETVNETHDRSZ");
    std::printf("opened %s\n", a.at(0).c_str());
    std::fflush(stdout);
    if (owner >= 0 && ioctl(fd, TUNSETOWNER, owner) != 0) die("TUNSETOWNER");
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(expect_ms);
    bool seen = expect_marker.empty();
    // Twenty frames, two seconds, even once expect= is met: the bridge
    // forwards from a persistent tap only once the kernel's link watch has
    // seen its carrier come on with our open, which may take a second.
    for (int sent = 0; !seen || (!send_marker.empty() && sent < 20); ++sent) {
        if (!send_marker.empty()) {
            auto f = frame(send_marker, 12);
            if (write(fd, f.data(), f.size()) < 0) die("write");
        }
        if (!seen) seen = wait_frame(fd, expect_marker, 100);
        else std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!seen && std::chrono::steady_clock::now() >= until) break;
    }
    if (hold) std::this_thread::sleep_for(std::chrono::milliseconds(hold));
    if (!seen) {
        std::printf("expected frame not seen\n");
        return 4;
    }
    return 0;
}

// An IPv4 UDP datagram (to port 9) from `src` to `dst`, in an Ethernet
// frame to `to`, behind `vnet` zeroed bytes of virtio-net header.
std::vector<std::uint8_t> udp_frame(const ub::Mac& to, in_addr src, in_addr dst, int vnet) {
    std::vector<std::uint8_t> f(vnet + 14 + 20 + 8 + 16, 0);
    std::uint8_t* e = f.data() + vnet;
    std::memcpy(e, to.data(), 6);
    const std::uint8_t from[6] = {0x52, 0x54, 0x00, 0x66, 0x66, 0x66};
    std::memcpy(e + 6, from, 6);
    e[12] = 0x08;
    iphdr* ip = reinterpret_cast<iphdr*>(e + 14);
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons(20 + 8 + 16);
    ip->saddr = src.s_addr;
    ip->daddr = dst.s_addr;
    std::uint32_t sum = 0;
    for (int i = 0; i < 10; ++i) sum += reinterpret_cast<const std::uint16_t*>(ip)[i];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip->check = static_cast<std::uint16_t>(~sum);
    udphdr* u = reinterpret_cast<udphdr*>(e + 34);
    u->source = htons(4444);
    u->dest = htons(9);
    u->len = htons(8 + 16);  // checksum 0: none, as IPv4 allows
    return f;
}

int cmd_join_own(const std::vector<std::string>& a) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(a.at(0)));
    std::string spoof = a.size() > 1 && a[1].rfind("spoof=", 0) == 0 ? a[1].substr(6) : "";
    in_addr src{}, dst{};
    if (!spoof.empty() && (inet_pton(AF_INET, spoof.substr(0, spoof.find(',')).c_str(), &src) != 1 ||
                           inet_pton(AF_INET, spoof.substr(spoof.find(',') + 1).c_str(), &dst) != 1))
        die("spoof=SRC,DST");
    auto monitor = ub::net::LinkMonitor::open();
    auto tun = ub::net::open_tun();
    if (!monitor.ok() || !tun.ok()) die("setup");
    std::printf("ready\n");
    std::fflush(stdout);
    bool joined = false;
    std::vector<std::uint8_t> frame;
    long spoofed = 0;
    while (std::chrono::steady_clock::now() < until) {
        if (!frame.empty()) {
            if (write(tun->get(), frame.data(), frame.size()) == static_cast<ssize_t>(frame.size())) ++spoofed;
        } else {
            pollfd p{monitor->fd(), POLLIN, 0};
            (void)poll(&p, 1, 10);
        }
        auto links = monitor->read();
        for (const ub::net::LinkInfo& l : links.ok() ? links->links : std::vector<ub::net::LinkInfo>{}) {
            if (joined || l.deleted || l.kind != "tun" || l.tun_owner != static_cast<long long>(getuid())) continue;
            ifreq ifr{};
            std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", l.name.c_str());
            ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
            if (ioctl(tun->get(), TUNSETIFF, &ifr) != 0) continue;
            joined = true;
            std::printf("JOINED %s\n", l.name.c_str());
            std::fflush(stdout);
            if (spoof.empty()) continue;
            // Our TUNSETIFF set the device's flags: no header unless it kept one.
            int vnet = 0;
            if (ioctl(tun->get(), TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR))
                (void)ioctl(tun->get(), TUNGETVNETHDRSZ, &vnet);
            frame = udp_frame(l.mac, src, dst, vnet);
        }
    }
    if (!spoof.empty()) std::printf("SPOOFED %ld\n", spoofed);
    return 0;
}

int cmd_sandbox(const std::vector<std::string>& a) {
    if (a.size() < 3 || a[1] != "--") return 100;
    std::ifstream in(a[0]);
    if (!in) die("cannot read the allow list");
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx) die("seccomp_init");
    std::string name;
    int allowed = 0;
    while (std::getline(in, name)) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (name.empty() || name[0] == '#' || nr == __NR_SCMP_ERROR) continue;
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) die("seccomp_rule_add");
        ++allowed;
    }
    if (allowed == 0) die("the allow list names no syscall");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no-new-privs");
    if (seccomp_load(ctx) != 0) die("seccomp_load");
    std::vector<char*> argv;
    for (std::size_t i = 2; i < a.size(); ++i) argv.push_back(const_cast<char*>(a[i].c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    die("exec");
}

pid_t g_supervised = 0;
volatile sig_atomic_t g_stop = 0;

void stop_supervised(int) {
    g_stop = 1;
    if (g_supervised > 0) kill(g_supervised, SIGTERM);
}

int cmd_supervise(const std::vector<std::string>& a) {
    if (a.size() < 3 || a[1] != "--") return 100;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", a[0].c_str());
    unlink(a[0].c_str());
    if (bind(s, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) die("bind " + a[0]);
    if (chmod(a[0].c_str(), 0666) != 0 || listen(s, 128) != 0) die("listen " + a[0]);
    signal(SIGTERM, stop_supervised);
    std::vector<char*> argv;
    for (std::size_t i = 2; i < a.size(); ++i) argv.push_back(const_cast<char*>(a[i].c_str()));
    argv.push_back(nullptr);
    int status = 0;
    for (int starts = 0; starts < 6 && !g_stop; ++starts) {
        if (starts > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            if (dup2(s, 3) != 3) die("dup2");
            setenv("LISTEN_FDS", "1", 1);
            setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
            execv(argv[0], argv.data());
            die("exec");
        }
        g_supervised = pid;
        if (g_stop) kill(pid, SIGTERM);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        g_supervised = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) break;
    }
    unlink(a[0].c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int cmd_stall_close(const std::vector<std::string>& a) {
    if (a.size() != 4 || (a[1] != "one" && a[1] != "many")) die("usage: stall-close SOCKET one|many COUNT SECONDS");
    int count = std::stoi(a[2]), secs = std::stoi(a[3]);
    int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (lst < 0 || bind(lst, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lst, 256) != 0 ||
        getsockname(lst, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        die("listen on loopback");
    std::vector<int> peers;  // never read: their windows close
    int sent = 0;
    for (int i = 0; i < count; ++i) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int small = 4096;
        setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect on loopback");
        int peer = accept4(lst, nullptr, nullptr, SOCK_CLOEXEC);
        if (peer < 0) die("accept on loopback");
        setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        peers.push_back(peer);
        std::vector<char> junk(65536, 'x');
        while (send(c, junk.data(), junk.size(), MSG_DONTWAIT) > 0) {}
        linger l{1, secs};
        if (setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) die("SO_LINGER");
        int u = connect_to(a[0]);
        std::vector<int> fds(a[1] == "many" ? 20 : 1, c);
        if (send_byte_with_fds(u, fds)) ++sent;
        // The copy in flight, or the daemon's, is the last; but a daemon
        // that let go first (a refused connection) leaves the last to us,
        // and that close lingers: in a thread of its own.
        std::thread([c] { close(c); }).detach();
        // Done sending: the daemon reads what came, drops the connection
        // (or refuses it), and we see it close before the next.
        shutdown(u, SHUT_WR);
        char reply[256];
        while (read(u, reply, sizeof reply) > 0) {}
        close(u);
    }
    std::printf("sent=%d\n", sent);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(secs));
    for (int p : peers) close(p);
    return 0;
}

int cmd_fuse_serve(const std::vector<std::string>& a) {
    if (a.size() != 1) die("usage: fuse-serve FD");
    int fd = std::stoi(a[0]);
    std::vector<char> buf(FUSE_MIN_READ_BUFFER + 65536);
    auto reply = [&](const fuse_in_header& in, int error, const void* body, std::size_t size) {
        fuse_out_header out{static_cast<uint32_t>(sizeof out + size), error, in.unique};
        iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(body), size}};
        if (writev(fd, iov, size ? 2 : 1) < 0 && errno != ENOENT) die("write to /dev/fuse");
    };
    auto attr_of = [](uint64_t node) {
        fuse_attr at{};
        at.ino = node;
        at.mode = node == FUSE_ROOT_ID ? (S_IFDIR | 0755) : (S_IFREG | 0666);
        at.nlink = 1;
        at.blksize = 4096;
        return at;
    };
    for (;;) {
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n < 0 && (errno == EINTR || errno == ENOENT)) continue;  // ENOENT: a request interrupted
        if (n < static_cast<ssize_t>(sizeof(fuse_in_header))) return 0;  // unmounted
        fuse_in_header in;
        std::memcpy(&in, buf.data(), sizeof in);
        switch (in.opcode) {
        case FUSE_INIT: {
            fuse_init_out o{};
            o.major = FUSE_KERNEL_VERSION;
            o.minor = FUSE_KERNEL_MINOR_VERSION;
            o.max_write = 4096;
            o.max_background = 16;
            o.congestion_threshold = 12;
            o.time_gran = 1;
            reply(in, 0, &o, sizeof o);
            break;
        }
        case FUSE_LOOKUP: {
            fuse_entry_out o{};
            o.nodeid = 2;
            o.attr = attr_of(2);
            reply(in, 0, &o, sizeof o);
            break;
        }
        case FUSE_GETATTR: {
            fuse_attr_out o{};
            o.attr = attr_of(in.nodeid);
            reply(in, 0, &o, sizeof o);
            break;
        }
        case FUSE_OPEN:
        case FUSE_OPENDIR: {
            fuse_open_out o{};
            o.fh = 1;
            reply(in, 0, &o, sizeof o);
            break;
        }
        case FUSE_FLUSH:
        case FUSE_RELEASE:
        case FUSE_RELEASEDIR: reply(in, 0, nullptr, 0); break;
        case FUSE_IOCTL:
            std::printf("held-ioctl\n");
            std::fflush(stdout);
            break;
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_INTERRUPT: break;
        default: reply(in, -ENOSYS, nullptr, 0);
        }
    }
}

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.empty()) return 100;
    std::string cmd = a.front();
    a.erase(a.begin());
    if (cmd == "call") return cmd_call(a);
    if (cmd == "listen") return cmd_listen(a);
    if (cmd == "listen-frame") return cmd_listen_frame(a);
    if (cmd == "tx-csum-off") return cmd_tx_csum_off(a);
    if (cmd == "send") return cmd_send(a);
    if (cmd == "count") return cmd_count(a);
    if (cmd == "flood") return cmd_flood(a);
    if (cmd == "flood-to") return cmd_flood_to(a);
    if (cmd == "fds") return cmd_fds(a);
    if (cmd == "fuse-serve") return cmd_fuse_serve(a);
    if (cmd == "daemon") return cmd_daemon(a);
    if (cmd == "syslog-sink") return cmd_syslog_sink(a);
    if (cmd == "journal-record") return cmd_journal_record(a);
    if (cmd == "set-port") return cmd_set_port(a);
    if (cmd == "sandbox") return cmd_sandbox(a);
    if (cmd == "mac-search") return cmd_mac_search(a);
    if (cmd == "fake-daemon") return cmd_fake_daemon(a);
    if (cmd == "supervise") return cmd_supervise(a);
    if (cmd == "mq-join") return cmd_mq_join(a);
    if (cmd == "join-own") return cmd_join_own(a);
    if (cmd == "tap-by-name") return cmd_tap_by_name(a);
    if (cmd == "stall-close") return cmd_stall_close(a);
    return 100;
}
