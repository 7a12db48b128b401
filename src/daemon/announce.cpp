#include "daemon/announce.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <memory>
#include <utility>

namespace ub::daemon {

namespace {

// What one request's replies carry to the callbacks.
struct Ack {
    const char* end;  // of the datagram being read
    std::string why;  // the kernel's words for an error, if any
};

int ack_cb(const nlmsghdr* nlh, void* data) {
    auto* a = static_cast<Ack*>(data);
    int err = net::decode_ack(nlh, static_cast<std::size_t>(a->end - reinterpret_cast<const char*>(nlh)), a->why);
    if (err == 0) return MNL_CB_STOP;
    errno = err;
    return MNL_CB_ERROR;
}

std::string address_words(const policy::IpPrefix& p) { return policy::format_ip_prefix(p); }

}  // namespace

// One RTM_NEWNEIGH or RTM_DELNEIGH, answered by its ACK. A socket of our
// own, opened at the first use: the grant's rtnetlink socket is the grant
// engine's, and the helper has no use for neighbour requests.
Result<void> Announcer::request(std::uint16_t type, std::uint16_t flags, int family, int ifindex, const void* dst,
                                std::size_t dst_len, const Mac* mac, const std::string& what) {
    if (!nl_) nl_.emplace(UB_TRY(net::open_rtnetlink(0, 0, "rtnetlink socket for neighbour entries")));
    if (seq_ == 0) seq_ = static_cast<unsigned>(time(nullptr));
    auto buf = std::make_unique<char[]>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.get());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = ++seq_;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = static_cast<std::uint8_t>(family);
    ndm->ndm_ifindex = ifindex;
    if (family == AF_BRIDGE) {
        // The bridge's own table, not the port device's (NTF_SELF), as a
        // static entry that neither ages nor moves when another port
        // sends from the MAC.
        ndm->ndm_flags = NTF_MASTER;
        ndm->ndm_state = NUD_NOARP;
    } else {
        ndm->ndm_state = NUD_PERMANENT;
        mnl_attr_put(nlh, NDA_DST, dst_len, dst);
    }
    if (mac) mnl_attr_put(nlh, NDA_LLADDR, mac->size(), mac->data());

    mnl_socket* nl = nl_->get();
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) != static_cast<ssize_t>(nlh->nlmsg_len))
        return Error::sys("cannot " + what);
    unsigned portid = mnl_socket_get_portid(nl);
    mnl_cb_t control[NLMSG_MIN_TYPE] = {nullptr, nullptr, ack_cb /* NLMSG_ERROR */};
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf.get(), MNL_SOCKET_BUFFER_SIZE);
        if (n < 0) return Error::sys("cannot " + what + ": netlink receive");
        if (!net::well_framed(buf.get(), static_cast<std::size_t>(n)))
            return Error::msg("cannot " + what + ": a netlink message runs past its datagram");
        Ack ack{buf.get() + n, {}};
        int rc = mnl_cb_run2(buf.get(), static_cast<std::size_t>(n), nlh->nlmsg_seq, portid, nullptr, &ack, control,
                             NLMSG_MIN_TYPE);
        if (rc == MNL_CB_ERROR) {
            int err = errno;
            return Error::sys("cannot " + what + (ack.why.empty() ? "" : ": " + ack.why), err);
        }
        if (rc == MNL_CB_STOP) return Ok{};
    }
}

std::string Announcer::add(int tap, int bridge, const Mac& mac, const std::vector<policy::IpPrefix>& ips) {
    std::string missed;
    auto note = [&missed](const Error& e) { missed += (missed.empty() ? "" : "; ") + e.message(); };
    // NLM_F_EXCL: a MAC the bridge knows already on another port is not
    // taken from it (the kernel answers EEXIST; br_fdb_add).
    if (Result<void> r = request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, AF_BRIDGE, tap, nullptr, 0, &mac,
                                 "add the guest MAC " + format_mac(mac) + " to the bridge's forwarding table");
        !r.ok())
        note(r.error());
    std::vector<Neighbour>& ours = installed_[tap];
    for (const policy::IpPrefix& ip : ips) {
        if (ip.len != ip.bits()) continue;  // a prefix names no one address
        Result<void> r = request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, ip.v6 ? AF_INET6 : AF_INET, bridge,
                                 ip.addr.data(), ip.v6 ? 16 : 4, &mac,
                                 "add the neighbour entry " + address_words(ip) + " " + format_mac(mac));
        if (r.ok()) ours.push_back({bridge, ip});
        else note(r.error());
    }
    if (ours.empty()) installed_.erase(tap);
    return missed;
}

Result<void> Announcer::tap_gone(int tap) {
    auto it = installed_.find(tap);
    if (it == installed_.end()) return Ok{};
    std::vector<Neighbour> entries = std::move(it->second);
    installed_.erase(it);
    Result<void> first = Ok{};
    for (const Neighbour& n : entries) {
        Result<void> r = request(RTM_DELNEIGH, 0, n.addr.v6 ? AF_INET6 : AF_INET, n.bridge, n.addr.addr.data(),
                                 n.addr.v6 ? 16 : 4, nullptr, "delete the neighbour entry " + address_words(n.addr));
        // ENOENT: gone already (the bridge went, or an administrator).
        if (!r.ok() && r.error().code() != ENOENT && first.ok()) first = r;
    }
    return first;
}

Result<void> Announcer::events_lost(const std::set<int>& live) {
    std::vector<int> gone;
    for (const auto& [tap, entries] : installed_)
        if (!live.count(tap)) gone.push_back(tap);
    Result<void> first = Ok{};
    for (int tap : gone)
        if (Result<void> r = tap_gone(tap); !r.ok() && first.ok()) first = r;
    return first;
}

}  // namespace ub::daemon
