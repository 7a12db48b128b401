#include "daemon/announce.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "protocol/tap_label.h"

namespace ub::daemon {

namespace {

// What one request's replies carry to the callbacks.
struct Replies {
    const char* end;  // of the datagram being read
    std::string why;  // the kernel's words for an error, if any
    std::vector<Announcer::Neighbour>* found;
};

int ack_cb(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Replies*>(data);
    int err = net::decode_ack(nlh, static_cast<std::size_t>(r->end - reinterpret_cast<const char*>(nlh)), r->why);
    if (err == 0) return MNL_CB_STOP;
    errno = err;
    return MNL_CB_ERROR;
}

int done_cb(const nlmsghdr*, void*) { return MNL_CB_STOP; }

int attr_cb(const nlattr* attr, void* data) {
    if (mnl_attr_type_valid(attr, NDA_MAX) >= 0) static_cast<const nlattr**>(data)[mnl_attr_get_type(attr)] = attr;
    return MNL_CB_OK;
}

// A dumped neighbour entry: kept when it is one of ours (kProtocol) with
// an IPv4 or IPv6 address and a MAC; other entries are skipped.
int neigh_cb(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Replies*>(data);
    if (nlh->nlmsg_type != RTM_NEWNEIGH || !r->found) return MNL_CB_OK;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg)) return MNL_CB_ERROR;
    auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) return MNL_CB_OK;
    const nlattr* tb[NDA_MAX + 1] = {};
    if (mnl_attr_parse(nlh, sizeof(*ndm), attr_cb, tb) < 0) return MNL_CB_ERROR;
    bool v6 = ndm->ndm_family == AF_INET6;
    const nlattr *proto = tb[NDA_PROTOCOL], *dst = tb[NDA_DST], *lladdr = tb[NDA_LLADDR];
    if (!proto || mnl_attr_validate(proto, MNL_TYPE_U8) < 0 || mnl_attr_get_u8(proto) != kProtocol) return MNL_CB_OK;
    if (!dst || mnl_attr_get_payload_len(dst) != (v6 ? 16u : 4u)) return MNL_CB_OK;
    if (!lladdr || mnl_attr_get_payload_len(lladdr) != 6) return MNL_CB_OK;
    Announcer::Neighbour f;
    f.bridge = ndm->ndm_ifindex;
    f.addr.v6 = v6;
    f.addr.len = v6 ? 128 : 32;
    std::memcpy(f.addr.addr.data(), mnl_attr_get_payload(dst), v6 ? 16 : 4);
    std::memcpy(f.mac.data(), mnl_attr_get_payload(lladdr), 6);
    r->found->push_back(f);
    return MNL_CB_OK;
}

std::string address_words(const policy::IpPrefix& p) { return policy::format_ip_prefix(p); }

}  // namespace

Result<void> Announcer::transact(char* buf, std::vector<Neighbour>* found, const std::string& what) {
    if (!nl_) nl_.emplace(UB_TRY(net::open_netlink(NETLINK_ROUTE, 0, 0, "rtnetlink socket for neighbour entries")));
    if (seq_ == 0) seq_ = static_cast<unsigned>(time(nullptr));
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf);
    nlh->nlmsg_seq = ++seq_;
    unsigned seq = seq_;
    mnl_socket* nl = nl_->get();
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) != static_cast<ssize_t>(nlh->nlmsg_len))
        return Error::sys("cannot " + what);
    unsigned portid = mnl_socket_get_portid(nl);
    mnl_cb_t control[NLMSG_MIN_TYPE] = {nullptr, nullptr, ack_cb /* NLMSG_ERROR */, done_cb /* NLMSG_DONE */};
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
        if (n < 0) return Error::sys("cannot " + what + ": netlink receive");
        if (!net::well_framed(buf, static_cast<std::size_t>(n)))
            return Error::msg("cannot " + what + ": a netlink message runs past its datagram");
        Replies replies{buf + n, {}, found};
        int rc = mnl_cb_run2(buf, static_cast<std::size_t>(n), seq, portid, neigh_cb, &replies, control,
                             NLMSG_MIN_TYPE);
        if (rc == MNL_CB_ERROR) {
            int err = errno;
            return Error::sys("cannot " + what + (replies.why.empty() ? "" : ": " + replies.why), err);
        }
        if (rc == MNL_CB_STOP) return Ok{};
    }
}

// One RTM_NEWNEIGH or RTM_DELNEIGH, answered by its ACK. A socket of our
// own, opened at the first use: the grant's rtnetlink socket is the grant
// engine's, and the helper has no use for neighbour requests.
Result<void> Announcer::request(std::uint16_t type, std::uint16_t flags, int family, int ifindex, const void* dst,
                                std::size_t dst_len, const Mac* mac, const std::string& what) {
    auto buf = std::make_unique<char[]>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.get());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
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
        if (type == RTM_NEWNEIGH) mnl_attr_put_u8(nlh, NDA_PROTOCOL, kProtocol);
    }
    if (mac) mnl_attr_put(nlh, NDA_LLADDR, mac->size(), mac->data());
    return transact(buf.get(), nullptr, what);
}

Result<void> Announcer::remove(const Neighbour& n) {
    Result<void> r = request(RTM_DELNEIGH, 0, n.addr.v6 ? AF_INET6 : AF_INET, n.bridge, n.addr.addr.data(),
                             n.addr.v6 ? 16 : 4, nullptr, "delete the neighbour entry " + address_words(n.addr));
    // ENOENT: gone already (the bridge went, or an administrator).
    if (!r.ok() && r.error().code() == ENOENT) return Ok{};
    return r;
}

Result<void> Announcer::reconcile() {
    net::Rtnl rtnl = UB_TRY(net::Rtnl::open());
    std::map<Mac, int> pinned;  // a live tap's (or veth end's) guest MAC, from its label, to it
    for (const char* kind : {"tun", "veth"})
        for (const net::LinkInfo& l : UB_TRY(rtnl.list_links(kind)))
            if (std::optional<protocol::TapLabel> label = protocol::parse_label(l.alias); label && label->mac)
                pinned[*label->mac] = l.ifindex;
    auto buf = std::make_unique<char[]>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.get());
    nlh->nlmsg_type = RTM_GETNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)))->ndm_family = AF_UNSPEC;
    std::vector<Neighbour> found;
    UB_TRYV(transact(buf.get(), &found, "list the neighbour entries"));
    Result<void> first = Ok{};
    for (const Neighbour& f : found) {
        auto tap = pinned.find(f.mac);
        if (tap != pinned.end()) installed_[tap->second].push_back(f);
        else if (Result<void> r = remove(f); !r.ok() && first.ok()) first = r;
    }
    return first;
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
        if (r.ok()) ours.push_back({bridge, ip, mac});
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
    for (const Neighbour& n : entries)
        if (Result<void> r = remove(n); !r.ok() && first.ok()) first = r;
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
