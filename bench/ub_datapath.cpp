// ub-datapath: frames through a tap, driven from its fd as QEMU's
// virtio-net backend drives it (vnet_hdr, offloads on, one writev per frame,
// reads until EAGAIN when poll says the fd is readable), to a peer on the
// bridge and back. Run by bench/datapath.sh.
//
//   ub-datapath peer IFACE SOCKET [CPU]
//       as root, in the peer's network namespace: serves SOCKET (a unix
//       seqpacket socket), counting what arrives on IFACE (a packet
//       socket) or sending to the tap, on the tap side's command.
//   ub-datapath tap (daemon SOCKET BRIDGE | name TAP) PEER SECONDS [CPU]
//       gets a tap from userbridged as libuserbridge does, or opens one
//       made by hand; then four phases of SECONDS each: 64 KiB TCP segments
//       for the tap's offload (GSO) to the peer (on a tap without a vnet
//       header, which userbridged gives a guest a filter judges, no
//       offload: full-sized frames, checksummed by the guest, as a guest
//       sends them there), 64-byte frames to the peer,
//       and the same two from the peer, read from the fd. Prints
//       "PHASE gbps pps sent cpu_ns" per phase: the rate of the frames that
//       arrived, the frames the sending side wrote, and the CPU time both
//       sides spent per frame that arrived.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/mac.h"
#include "client/daemon_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using ub::Mac;
using ub::UniqueFd;

// struct virtio_net_hdr_mrg_rxbuf (the virtio spec's, which QEMU uses with
// mergeable receive buffers), in the host's byte order as tun reads it:
// linux/virtio_net.h cannot be included in C++ (a field named `class`).
struct VnetHdr {
    std::uint8_t flags;
    std::uint8_t gso_type;
    std::uint16_t hdr_len;
    std::uint16_t gso_size;
    std::uint16_t csum_start;
    std::uint16_t csum_offset;
    std::uint16_t num_buffers;
};
constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr std::uint8_t kGsoTcpV4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
// A packet socket's PACKET_VNET_HDR is the shorter struct virtio_net_hdr.
constexpr std::size_t kPacketVnetLen = 10;

constexpr std::size_t kMss = 1448;
constexpr std::size_t kSegments = 44;  // 44 * 1448: a full 64 KiB IPv4 packet's worth
constexpr std::size_t kSmall = 64;     // the smallest Ethernet frame (without its FCS)
constexpr std::size_t kMaxFrame = 65550;
// The peer (no address of its own: what arrives goes no further than its
// packet socket) and the guest, whose address ip= allows.
constexpr std::uint32_t kGuestIp = 0x0a090002;  // 10.9.0.2
constexpr std::uint32_t kPeerIp = 0x0a090001;   // 10.9.0.1

void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

void pin(const char* cpu) {
    if (!cpu) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(std::atoi(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

// This process's CPU time in ns, kernel work done in its context included
// (the bridge, nftables and the far side's receive run in the writer's
// softirq): what a frame costs, whatever share of the CPUs a loaded
// machine leaves the benchmark.
long long cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::uint32_t sum16(const void* p, std::size_t len) {
    std::uint32_t sum = 0;
    const auto* b = static_cast<const std::uint8_t*>(p);
    for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
    if (len & 1) sum += static_cast<std::uint32_t>(b[len - 1] << 8);
    return sum;
}

// A frame as a guest's virtio-net driver hands it over: the vnet header,
// then Ethernet, IPv4 and TCP (a GSO segment of `segments` MSS-sized
// pieces, the checksum left to the offload as a guest with csum offload
// leaves it: the pseudo header's sum in the TCP field) or UDP (a frame of
// `kSmall` bytes, no offload).
struct Frame {
    VnetHdr vnet{};
    std::vector<std::uint8_t> bytes;
};

// Without a vnet header (`offload` false) a big frame is one MSS-sized
// segment, its checksum the guest's own.
Frame make_frame(const Mac& src, const Mac& dst, std::uint32_t saddr, std::uint32_t daddr, bool gso,
                 bool offload = true) {
    const std::size_t l4 = gso ? sizeof(tcphdr) : sizeof(udphdr);
    const std::size_t payload = !gso ? kSmall - sizeof(ether_header) - sizeof(iphdr) - l4
                                : offload ? kMss * kSegments
                                          : kMss;
    Frame f;
    f.bytes.assign(sizeof(ether_header) + sizeof(iphdr) + l4 + payload, 0);
    auto* eth = reinterpret_cast<ether_header*>(f.bytes.data());
    std::memcpy(eth->ether_dhost, dst.data(), 6);
    std::memcpy(eth->ether_shost, src.data(), 6);
    eth->ether_type = htons(ETHERTYPE_IP);
    auto* ip = reinterpret_cast<iphdr*>(eth + 1);
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 64;
    ip->tot_len = htons(static_cast<std::uint16_t>(sizeof(iphdr) + l4 + payload));
    ip->protocol = gso ? IPPROTO_TCP : IPPROTO_UDP;
    ip->saddr = htonl(saddr);
    ip->daddr = htonl(daddr);
    ip->check = htons(static_cast<std::uint16_t>(~fold(sum16(ip, sizeof(iphdr)))));
    if (gso) {
        auto* tcp = reinterpret_cast<tcphdr*>(ip + 1);
        tcp->source = htons(40000);
        tcp->dest = htons(5201);
        tcp->doff = 5;
        tcp->ack = 1;
        tcp->window = htons(65535);
        std::uint32_t pseudo = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) +
                               IPPROTO_TCP + static_cast<std::uint32_t>(l4 + payload);
        if (!offload) {
            tcp->check = htons(static_cast<std::uint16_t>(~fold(pseudo + sum16(tcp, l4 + payload))));
            return f;
        }
        tcp->check = htons(fold(pseudo));
        f.vnet.flags = kNeedsCsum;
        f.vnet.gso_type = kGsoTcpV4;
        f.vnet.hdr_len = static_cast<std::uint16_t>(sizeof(ether_header) + sizeof(iphdr) + l4);
        f.vnet.gso_size = kMss;
        f.vnet.csum_start = sizeof(ether_header) + sizeof(iphdr);
        f.vnet.csum_offset = offsetof(tcphdr, check);
    } else {
        auto* udp = reinterpret_cast<udphdr*>(ip + 1);
        udp->source = htons(40000);
        udp->dest = htons(5201);
        udp->len = htons(static_cast<std::uint16_t>(l4 + payload));
    }
    return f;
}

Mac parse_mac(const char* s) {
    auto m = ub::parse_mac(s, nullptr);
    if (!m.ok()) {
        std::fprintf(stderr, "ub-datapath: bad MAC %s\n", s);
        std::exit(1);
    }
    return *m;
}

// The control channel: one message each way per step.
void say(int fd, const std::string& msg) {
    if (send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) < 0) die("control send");
}

std::string hear(int fd) {
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        std::fprintf(stderr, "ub-datapath: the other side hung up\n");
        std::exit(1);
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

// ---- the peer ----

struct Peer {
    UniqueFd rx;  // counts what arrives (not what it sends itself)
    UniqueFd tx;  // sends, with a vnet header as the tap's writer does
    Mac mac{};
    int ifindex = 0;
};

Peer open_peer(const char* iface) {
    Peer p;
    p.ifindex = static_cast<int>(if_nametoindex(iface));
    if (p.ifindex == 0) die(iface);
    p.rx = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)));
    p.tx = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!p.rx.valid() || !p.tx.valid()) die("packet socket");
    int one = 1;
    int big = 256 << 20;
    // Each queued 64 KiB frame counts its whole truesize against rcvbuf.
    if (setsockopt(p.rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0 ||
        setsockopt(p.rx.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0 ||
        setsockopt(p.tx.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0)
        die("setsockopt");
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ALL);
    at.sll_ifindex = p.ifindex;
    if (bind(p.rx.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) die("bind");
    at.sll_protocol = 0;
    if (bind(p.tx.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) die("bind");
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", iface);
    if (ioctl(p.rx.get(), SIOCGIFHWADDR, &ifr) != 0) die("SIOCGIFHWADDR");
    std::memcpy(p.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    return p;
}

// Reads what is queued; adds the frames and their lengths (MSG_TRUNC: the
// whole frame's, though only its start is copied).
void drain(int fd, std::uint64_t& frames, std::uint64_t& bytes) {
    constexpr int kBatch = 64;
    std::array<std::array<char, 64>, kBatch> bufs;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs{};
    for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i].data(), bufs[i].size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
        int n = recvmmsg(fd, msgs.data(), kBatch, MSG_TRUNC | MSG_DONTWAIT, nullptr);
        if (n <= 0) return;
        frames += static_cast<std::uint64_t>(n);
        for (int i = 0; i < n; ++i) bytes += msgs[i].msg_len;
    }
}

unsigned drops(int fd) {  // since the last call (reading resets the kernel's count)
    tpacket_stats st{};
    socklen_t len = sizeof st;
    getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
    return st.tp_drops;
}

// Counts until the tap side says "stop"; replies "FRAMES BYTES DROPS CPU_NS".
void peer_count(Peer& p, int ctl) {
    std::uint64_t frames = 0, bytes = 0;
    drain(p.rx.get(), frames, bytes);
    (void)drops(p.rx.get());
    frames = bytes = 0;
    long long cpu0 = cpu_ns();
    say(ctl, "ok");
    pollfd fds[2] = {{ctl, POLLIN, 0}, {p.rx.get(), POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) die("poll");
        if (fds[1].revents) drain(p.rx.get(), frames, bytes);
        if (!fds[0].revents) continue;
        hear(ctl);  // "stop"
        drain(p.rx.get(), frames, bytes);
        say(ctl, std::to_string(frames) + " " + std::to_string(bytes) + " " +
                     std::to_string(drops(p.rx.get())) + " " + std::to_string(cpu_ns() - cpu0));
        return;
    }
}

// Sends to `to` for `secs` seconds, as fast as it can; replies
// "sent N CPU_NS".
void peer_send(Peer& p, int ctl, const Mac& to, bool gso, double secs) {
    Frame f = make_frame(p.mac, to, kPeerIp, kGuestIp, gso);
    iovec iov[2] = {{&f.vnet, kPacketVnetLen}, {f.bytes.data(), f.bytes.size()}};
    constexpr int kBatch = 32;
    std::array<mmsghdr, kBatch> msgs{};
    for (auto& m : msgs) {
        m.msg_hdr.msg_iov = iov;
        m.msg_hdr.msg_iovlen = 2;
    }
    std::uint64_t sent = 0;
    long long cpu0 = cpu_ns();
    auto t0 = Clock::now();
    while (seconds_since(t0) < secs) {
        int n = sendmmsg(p.tx.get(), msgs.data(), gso ? 1 : kBatch, 0);
        if (n > 0) sent += static_cast<std::uint64_t>(n);
    }
    say(ctl, "sent " + std::to_string(sent) + " " + std::to_string(cpu_ns() - cpu0));
}

int cmd_peer(const char* iface, const char* path, const char* cpu) {
    pin(cpu);
    Peer p = open_peer(iface);
    UniqueFd srv(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    unlink(path);
    if (bind(srv.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(srv.get(), 4) != 0)
        die(path);
    std::printf("listening\n");
    std::fflush(stdout);
    for (;;) {
        UniqueFd ctl(accept4(srv.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!ctl.valid()) die("accept");
        for (;;) {
            char buf[256];
            ssize_t n = recv(ctl.get(), buf, sizeof buf - 1, 0);
            if (n <= 0) break;  // this tap is done; the next one connects
            buf[n] = 0;
            char what[16] = "", mac[32] = "";
            double secs = 0;
            std::sscanf(buf, "%15s %31s %lf", what, mac, &secs);
            std::string cmd = what;
            if (cmd == "hello") {
                // A frame from the peer's MAC, so that the bridge learns
                // where it is and forwards the tap's frames to it alone.
                Frame f = make_frame(p.mac, Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kPeerIp, kGuestIp, false);
                iovec iov[2] = {{&f.vnet, kPacketVnetLen}, {f.bytes.data(), f.bytes.size()}};
                if (writev(p.tx.get(), iov, 2) < 0) die("learning frame");
                say(ctl.get(), ub::format_mac(p.mac));
            } else if (cmd == "count") {
                peer_count(p, ctl.get());
            } else if (cmd == "big" || cmd == "small") {
                peer_send(p, ctl.get(), parse_mac(mac), cmd == "big", secs);
            }
        }
    }
}

// ---- the tap side, as the VMM ----

struct Tap {
    UniqueFd fd;
    Mac guest{};
    bool vnet = true;  // the tap has IFF_VNET_HDR (set by whoever made it)

    // The frame as written to or read from this tap: after the vnet
    // header, if it has one.
    int iov(Frame& f, iovec (&v)[2]) const {
        v[0] = {&f.vnet, sizeof f.vnet};
        v[vnet ? 1 : 0] = {f.bytes.data(), f.bytes.size()};
        return vnet ? 2 : 1;
    }
};

// What QEMU asks of a tap it is given (tap_probe_vnet_hdr): whether it has
// the header.
bool has_vnet_hdr(int fd) {
    ifreq ifr{};
    if (ioctl(fd, TUNGETIFF, &ifr) != 0) die("TUNGETIFF");
    return (ifr.ifr_flags & IFF_VNET_HDR) != 0;
}

Tap grant(const char* socket, const char* bridge) {
    ub::client::OpenRequest req;
    req.via = ub::client::Via::Daemon;
    req.socket = socket;
    req.tap = {true, 1, bridge, ""};
    auto t = ub::client::open_tap_via_daemon(req);
    if (!t.ok() || !std::holds_alternative<ub::client::TapHandle>(*t)) {
        std::fprintf(stderr, "ub-datapath: no tap: %s\n",
                     t.ok() ? std::get<ub::Refusal>(*t).reason.c_str() : t.error().message().c_str());
        std::exit(1);
    }
    auto& h = std::get<ub::client::TapHandle>(*t);
    bool vnet = has_vnet_hdr(h.fd.get());
    return {std::move(h.fd), h.guest_mac, vnet};
}

// A tap made by hand (ip tuntap add ... vnet_hdr user U), opened as QEMU
// opens one with -netdev tap,ifname=: its guest MAC as libvirt pairs them.
Tap open_named(const char* name) {
    Tap t;
    t.fd = UniqueFd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (!t.fd.valid() || ioctl(t.fd.get(), TUNSETIFF, &ifr) != 0) die(name);
    if (ioctl(t.fd.get(), SIOCGIFHWADDR, &ifr) != 0) die("SIOCGIFHWADDR");
    std::memcpy(t.guest.data(), ifr.ifr_hwaddr.sa_data, 6);
    t.guest[0] = 0x52;
    return t;
}

// What QEMU sets on a tap for a virtio-net guest with offloads: the
// 12-byte header of mergeable receive buffers, checksum and TSO offload
// (so the host hands it whole 64 KiB segments), and a non-blocking fd.
// A tap without the header gets the last alone: no offload is possible.
void as_qemu_does(int fd, bool vnet) {
    if (!vnet) {
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die("O_NONBLOCK");
        return;
    }
    int hdr = sizeof(VnetHdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0) die("TUNSETVNETHDRSZ");
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) != 0)
        die("TUNSETOFFLOAD");
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die("O_NONBLOCK");
}

// One phase: Gbit/s and frames/s that arrived, frames sent, and the CPU
// time both sides spent per frame that arrived (ns).
void report(const char* phase, std::uint64_t frames, std::uint64_t bytes, double secs, std::uint64_t sent,
            long long cpu) {
    std::printf("%s %.3f %.0f %llu %.0f\n", phase, static_cast<double>(bytes) * 8 / secs / 1e9,
                static_cast<double>(frames) / secs, static_cast<unsigned long long>(sent),
                frames ? static_cast<double>(cpu) / static_cast<double>(frames) : 0.0);
}

// To the peer: one writev per frame, as QEMU's tap backend writes what the
// guest queued; a full tap write returns once the bridge has the frame.
void tap_send(const Tap& t, int ctl, const Mac& peer, bool gso, double secs) {
    Frame f = make_frame(t.guest, peer, kGuestIp, kPeerIp, gso, t.vnet);
    iovec iov[2];
    int n = t.iov(f, iov);
    say(ctl, "count");
    hear(ctl);
    std::uint64_t sent = 0;
    long long cpu0 = cpu_ns();
    auto t0 = Clock::now();
    while (seconds_since(t0) < secs) {
        for (int i = 0; i < 16; ++i)
            if (writev(t.fd.get(), iov, n) > 0) ++sent;
    }
    double elapsed = seconds_since(t0);
    long long cpu = cpu_ns() - cpu0;
    say(ctl, "stop");
    unsigned long long frames = 0, bytes = 0, dropped = 0;
    long long peer_cpu = 0;
    std::sscanf(hear(ctl).c_str(), "%llu %llu %llu %lld", &frames, &bytes, &dropped, &peer_cpu);
    if (dropped) std::fprintf(stderr, "ub-datapath: the peer's counter missed %llu frames\n", dropped);
    report(gso ? "tx_big" : "tx_small", frames, bytes, elapsed, sent, cpu + peer_cpu);
}

// From the peer: poll, then read until EAGAIN, as QEMU's tap backend does.
void tap_receive(const Tap& t, int ctl, bool gso, double secs) {
    static std::vector<std::uint8_t> buf(sizeof(VnetHdr) + kMaxFrame);
    while (read(t.fd.get(), buf.data(), buf.size()) > 0) {  // what came before
    }
    say(ctl, std::string(gso ? "big " : "small ") + ub::format_mac(t.guest) + " " + std::to_string(secs));
    std::uint64_t frames = 0, bytes = 0;
    unsigned long long sent = 0;
    long long peer_cpu = 0, cpu0 = cpu_ns();
    auto t0 = Clock::now();
    pollfd fds[2] = {{t.fd.get(), POLLIN, 0}, {ctl, POLLIN, 0}};
    for (bool done = false; !done;) {
        if (poll(fds, 2, -1) < 0) die("poll");
        if (fds[1].revents) {
            std::sscanf(hear(ctl).c_str(), "sent %llu %lld", &sent, &peer_cpu);
            done = true;
        }
        for (ssize_t n; (n = read(t.fd.get(), buf.data(), buf.size())) > 0;) {
            ++frames;
            bytes += static_cast<std::uint64_t>(n) - (t.vnet ? sizeof(VnetHdr) : 0);
        }
    }
    report(gso ? "rx_big" : "rx_small", frames, bytes, seconds_since(t0), sent, cpu_ns() - cpu0 + peer_cpu);
}

int cmd_tap(Tap t, const char* peer_socket, double secs, const char* cpu) {
    pin(cpu);
    as_qemu_does(t.fd.get(), t.vnet);
    UniqueFd ctl(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", peer_socket);
    if (connect(ctl.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die(peer_socket);
    say(ctl.get(), "hello");
    Mac peer = parse_mac(hear(ctl.get()).c_str());
    // One frame from the guest's MAC, so that the bridge learns its port.
    Frame hi = make_frame(t.guest, peer, kGuestIp, kPeerIp, false);
    iovec iov[2];
    if (writev(t.fd.get(), iov, t.iov(hi, iov)) < 0) die("learning frame");
    tap_send(t, ctl.get(), peer, true, secs);
    tap_send(t, ctl.get(), peer, false, secs);
    tap_receive(t, ctl.get(), true, secs);
    tap_receive(t, ctl.get(), false, secs);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if ((a.size() == 3 || a.size() == 4) && a[0] == "peer")
        return cmd_peer(argv[2], argv[3], a.size() == 4 ? argv[4] : nullptr);
    if ((a.size() == 5 || a.size() == 6) && a[0] == "tap" && a[1] == "name")
        return cmd_tap(open_named(argv[3]), argv[4], std::atof(argv[5]), a.size() == 6 ? argv[6] : nullptr);
    if ((a.size() == 6 || a.size() == 7) && a[0] == "tap" && a[1] == "daemon")
        return cmd_tap(grant(argv[3], argv[4]), argv[5], std::atof(argv[6]), a.size() == 7 ? argv[7] : nullptr);
    std::fprintf(stderr, "usage: see the comment at the top of bench/ub_datapath.cpp\n");
    return 2;
}
