#include "net/neighbours.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>
#include <memory>

#include "net/rtnl.h"

namespace ub::net {

namespace {

struct Dump {
    int family;
    std::vector<Neighbour>* out;
};

int attr_cb(const nlattr* attr, void* data) {
    auto* tb = static_cast<const nlattr**>(data);
    if (mnl_attr_type_valid(attr, NDA_MAX) < 0) return MNL_CB_OK;
    tb[mnl_attr_get_type(attr)] = attr;
    return MNL_CB_OK;
}

int neigh_cb(const nlmsghdr* nlh, void* data) {
    auto* d = static_cast<Dump*>(data);
    if (nlh->nlmsg_type != RTM_NEWNEIGH) return MNL_CB_OK;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg)) return MNL_CB_ERROR;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ndm->ndm_family != d->family) return MNL_CB_OK;
    const nlattr* tb[NDA_MAX + 1] = {};
    if (mnl_attr_parse(nlh, sizeof(ndmsg), attr_cb, tb) < 0) return MNL_CB_ERROR;
    const nlattr* ll = tb[NDA_LLADDR];
    if (!ll || mnl_attr_get_payload_len(ll) != 6) return MNL_CB_OK;
    Neighbour n;
    n.ifindex = ndm->ndm_ifindex;
    n.family = ndm->ndm_family;
    n.state = ndm->ndm_state;
    n.flags = ndm->ndm_flags;
    std::memcpy(n.mac.data(), mnl_attr_get_payload(ll), 6);
    if (const nlattr* m = tb[NDA_MASTER]; m && mnl_attr_validate(m, MNL_TYPE_U32) == 0)
        n.master = static_cast<int>(mnl_attr_get_u32(m));
    if (d->family != AF_BRIDGE) {
        const nlattr* dst = tb[NDA_DST];
        std::size_t want = d->family == AF_INET ? 4 : 16;
        if (!dst || mnl_attr_get_payload_len(dst) != want) return MNL_CB_OK;
        std::memcpy(n.addr.data(), mnl_attr_get_payload(dst), want);
    }
    d->out->push_back(n);
    return MNL_CB_OK;
}

}  // namespace

Result<std::vector<Neighbour>> list_neighbours(int family) {
    MnlSocket nl = UB_TRY(open_netlink(NETLINK_ROUTE, 0, 0, "rtnetlink socket"));
    unsigned portid = mnl_socket_get_portid(nl.get());
    auto buf = std::make_unique<char[]>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.get());
    nlh->nlmsg_type = RTM_GETNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    unsigned seq = static_cast<unsigned>(time(nullptr));
    nlh->nlmsg_seq = seq;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = static_cast<std::uint8_t>(family);
    const char* what = family == AF_BRIDGE ? "list the bridges' forwarding entries" : "list the neighbours";
    ssize_t sent = mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len);
    if (sent < 0 || static_cast<std::size_t>(sent) != nlh->nlmsg_len) return Error::sys(std::string("cannot ") + what);
    std::vector<Neighbour> out;
    Dump dump{family, &out};
    constexpr std::size_t kSize = 32768;
    auto rbuf = std::make_unique<char[]>(kSize);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl.get(), rbuf.get(), kSize);
        if (n < 0) return Error::sys(std::string("cannot ") + what + ": netlink receive");
        if (!well_framed(rbuf.get(), static_cast<std::size_t>(n)))
            return Error::msg(std::string("cannot ") + what + ": a netlink message runs past its datagram");
        // mnl_cb_run checks seq and port id, and turns NLMSG_ERROR into -1.
        int rc = mnl_cb_run(rbuf.get(), static_cast<std::size_t>(n), seq, portid, neigh_cb, &dump);
        if (rc == MNL_CB_ERROR) return Error::sys(std::string("cannot ") + what);
        if (rc == MNL_CB_STOP) return out;
    }
}

bool is_learned_guest_mac(const Neighbour& n) {
    return n.family == AF_BRIDGE && n.master != 0 && !(n.state & NUD_PERMANENT);
}

}  // namespace ub::net
