#include "net/rtnl.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/netlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "base/system.h"
#include "net/rtnl_request.h"

namespace ub::net {

void MnlCloser::operator()(mnl_socket* nl) const { mnl_socket_close(nl); }

Result<MnlSocket> open_netlink(int bus, int flags, unsigned groups, const char* what) {
    MnlSocket nl(mnl_socket_open2(bus, SOCK_CLOEXEC | flags));
    if (!nl) return Error::sys(std::string("cannot open ") + what);
    // Errors in the kernel's own words where it has some (extended ACKs),
    // without the request echoed back. Kernels without them ignore this.
    (void)system::setsockopt_int(mnl_socket_get_fd(nl.get()), SOL_NETLINK, NETLINK_EXT_ACK, 1, "");
    (void)system::setsockopt_int(mnl_socket_get_fd(nl.get()), SOL_NETLINK, NETLINK_CAP_ACK, 1, "");
    if (mnl_socket_bind(nl.get(), groups, MNL_SOCKET_AUTOPID) < 0)
        return Error::sys(std::string("cannot bind ") + what);
    return nl;
}

Rtnl::Rtnl(MnlSocket nl)
    : nl_(std::move(nl)), portid_(mnl_socket_get_portid(nl_.get())),
      // Start from a varying sequence so replies to an earlier process's
      // requests on a recycled port id can never be taken for ours.
      seq_(static_cast<unsigned>(time(nullptr))) {}

Result<Rtnl> Rtnl::open() { return Rtnl(UB_TRY(open_netlink(NETLINK_ROUTE, 0, 0, "rtnetlink socket"))); }

namespace {

// Collects the attributes of one nesting level into tb[0..Max], skipping
// types this kernel header does not know (newer kernels add some).
template <int Max>
int attr_cb(const nlattr* attr, void* data) {
    auto* tb = static_cast<const nlattr**>(data);
    if (mnl_attr_type_valid(attr, Max) < 0) return MNL_CB_OK;
    tb[mnl_attr_get_type(attr)] = attr;
    return MNL_CB_OK;
}

// A string attribute's value; "" when it is absent or not NUL-terminated.
std::string str(const nlattr* attr) {
    return attr && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 ? mnl_attr_get_str(attr) : "";
}

// A u32 attribute's value; `none` when it is absent or not a u32.
long long u32(const nlattr* attr, long long none) {
    return attr && mnl_attr_validate(attr, MNL_TYPE_U32) == 0 ? mnl_attr_get_u32(attr) : none;
}

}  // namespace

int parse_link_msg(const nlmsghdr* nlh, void* data) {
    auto* links = static_cast<std::vector<LinkInfo>*>(data);
    if (!links || (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK))
        return MNL_CB_OK;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) return MNL_CB_ERROR;
    auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    // The bridge's own port notices (RTM_NEWLINK and RTM_DELLINK of family
    // AF_BRIDGE, sent when a port joins or leaves it) are not the link
    // coming or going: a tap taken off its bridge still exists.
    if (ifm->ifi_family == AF_BRIDGE) return MNL_CB_OK;
    const nlattr* tb[IFLA_MAX + 1] = {};
    if (mnl_attr_parse(nlh, sizeof(*ifm), attr_cb<IFLA_MAX>, tb) < 0) return MNL_CB_ERROR;
    LinkInfo* out = &links->emplace_back();
    out->deleted = nlh->nlmsg_type == RTM_DELLINK;

    out->ifindex = ifm->ifi_index;
    out->flags = ifm->ifi_flags;
    out->name = str(tb[IFLA_IFNAME]);
    out->mtu = static_cast<unsigned>(u32(tb[IFLA_MTU], 0));
    out->master = static_cast<int>(u32(tb[IFLA_MASTER], 0));
    out->link = static_cast<int>(u32(tb[IFLA_LINK], 0));
    if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
        std::memcpy(out->mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
    out->alias = str(tb[IFLA_IFALIAS]);
    out->link = static_cast<int>(u32(tb[IFLA_LINK], 0));
    if (!tb[IFLA_LINKINFO]) return MNL_CB_OK;
    const nlattr* info[IFLA_INFO_MAX + 1] = {};
    if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], attr_cb<IFLA_INFO_MAX>, info) < 0) return MNL_CB_ERROR;
    out->kind = str(info[IFLA_INFO_KIND]);
    if (out->kind != "tun" || !info[IFLA_INFO_DATA]) return MNL_CB_OK;
    const nlattr* tun[IFLA_TUN_MAX + 1] = {};
    if (mnl_attr_parse_nested(info[IFLA_INFO_DATA], attr_cb<IFLA_TUN_MAX>, tun) < 0) return MNL_CB_ERROR;
    out->tun_owner = u32(tun[IFLA_TUN_OWNER], -1);
    out->tun_group = u32(tun[IFLA_TUN_GROUP], -1);
    out->tun_num_queues = static_cast<int>(u32(tun[IFLA_TUN_NUM_QUEUES], -1));
    out->tun_num_disabled = static_cast<int>(u32(tun[IFLA_TUN_NUM_DISABLED_QUEUES], -1));
    const nlattr* persist = tun[IFLA_TUN_PERSIST];
    out->tun_persist = persist && mnl_attr_validate(persist, MNL_TYPE_U8) == 0 && mnl_attr_get_u8(persist) != 0;
    return MNL_CB_OK;
}

bool well_framed(const char* buf, std::size_t n) {
    while (n >= sizeof(nlmsghdr)) {
        nlmsghdr h;
        std::memcpy(&h, buf, sizeof h);
        if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > n) return false;
        std::size_t step = MNL_ALIGN(static_cast<std::size_t>(h.nlmsg_len));
        if (step >= n) return true;
        buf += step;
        n -= step;
    }
    return true;  // a tail shorter than a header is no message; libmnl stops there
}

int decode_ack(const nlmsghdr* nlh, std::size_t avail, std::string& why) {
    // libmnl's framing compares nlmsg_len as a signed int: it lets through a
    // length past the buffer, which we refuse.
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)) || nlh->nlmsg_len > avail) return EBADMSG;
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    if (err->error == 0) return 0;
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        // The attributes follow the request's header, or all of the request
        // when the kernel did not cap it (NETLINK_CAP_ACK).
        std::size_t off = sizeof(nlmsgerr);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len > sizeof(nlmsghdr))
            off += MNL_ALIGN(static_cast<std::size_t>(err->msg.nlmsg_len) - sizeof(nlmsghdr));
        const nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
        if (off < mnl_nlmsg_get_payload_len(nlh) &&
            mnl_attr_parse(nlh, static_cast<unsigned>(off), attr_cb<NLMSGERR_ATTR_MAX>, tb) >= 0)
            why = str(tb[NLMSGERR_ATTR_MSG]);
    }
    // A negative errno; anything else is not one the kernel sends.
    return err->error < 0 && err->error > -4096 ? -err->error : EPROTO;
}

namespace {

// What one request's replies carry to transact().
struct Replies {
    std::vector<LinkInfo>* links;  // data messages go here (may be null)
    const char* end;               // of the datagram being read
    std::string why;               // the kernel's words for an error, if any
};

int data_cb(const nlmsghdr* nlh, void* data) {
    return parse_link_msg(nlh, static_cast<Replies*>(data)->links);
}

int error_cb(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Replies*>(data);
    auto avail = static_cast<std::size_t>(r->end - reinterpret_cast<const char*>(nlh));
    int err = decode_ack(nlh, avail, r->why);
    if (err == 0) return MNL_CB_STOP;  // the ACK that ends a request
    errno = err;
    return MNL_CB_ERROR;
}

int done_cb(const nlmsghdr*, void*) { return MNL_CB_STOP; }
int noop_cb(const nlmsghdr*, void*) { return MNL_CB_OK; }
int overrun_cb(const nlmsghdr*, void*) {
    errno = ENOSPC;
    return MNL_CB_ERROR;
}

}  // namespace

Result<void> Rtnl::transact(Request& req, std::vector<LinkInfo>* links) {
    unsigned seq = ++seq_;
    req.nlh->nlmsg_seq = seq;
    ssize_t sent = mnl_socket_sendto(nl_.get(), req.nlh, req.nlh->nlmsg_len);
    if (sent < 0) return Error::sys("cannot " + req.what);
    // A datagram socket never sends part of a message; anything else is a bug
    // we must not paper over.
    if (static_cast<std::size_t>(sent) != req.nlh->nlmsg_len)
        return Error::msg("cannot " + req.what + ": short netlink send");

    // Large enough for any RTM_NEWLINK reply; libmnl reports truncation.
    constexpr std::size_t kSize = 32768;
    auto buf = std::make_unique_for_overwrite<char[]>(kSize);
    mnl_cb_t control[NLMSG_MIN_TYPE] = {
        nullptr, noop_cb /* NLMSG_NOOP */, error_cb /* NLMSG_ERROR */, done_cb /* NLMSG_DONE */,
        overrun_cb /* NLMSG_OVERRUN */};
    Replies replies{links, nullptr, {}};
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl_.get(), buf.get(), kSize);
        if (n < 0) return Error::sys("cannot " + req.what + ": netlink receive");
        if (!well_framed(buf.get(), static_cast<std::size_t>(n)))
            return Error::msg("cannot " + req.what + ": a netlink message runs past its datagram");
        replies.end = buf.get() + n;
        // mnl_cb_run2 rejects messages whose seq or port id are not ours.
        int rc = mnl_cb_run2(buf.get(), static_cast<std::size_t>(n), seq, portid_, data_cb, &replies,
                             control, NLMSG_MIN_TYPE);
        if (rc == MNL_CB_ERROR) {
            int err = errno;
            return Error::sys("cannot " + req.what + (replies.why.empty() ? "" : ": " + replies.why), err);
        }
        if (rc == MNL_CB_STOP) return Ok{};
    }
}

Result<LinkInfo> Rtnl::get_link(const std::string& name) {
    Request req(RTM_GETLINK, 0, "look up interface " + name);
    mnl_attr_put_strz(req.nlh, IFLA_IFNAME, name.c_str());
    std::vector<LinkInfo> links;
    UB_TRYV(transact(req, &links));
    if (links.size() != 1 || links[0].ifindex <= 0)
        return Error::msg("cannot look up interface " + name + ": no reply");
    return std::move(links[0]);
}

Result<std::vector<LinkInfo>> Rtnl::list_links(const std::string& kind) {
    Request req(RTM_GETLINK, 0, "list " + kind + " interfaces", NLM_F_DUMP);
    nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(req.nlh, IFLA_INFO_KIND, kind.c_str());
    mnl_attr_nest_end(req.nlh, info);
    std::vector<LinkInfo> links;
    UB_TRYV(transact(req, &links));
    // Kernels that ignore the filter send everything; the filter holds anyway.
    std::erase_if(links, [&](const LinkInfo& l) { return l.kind != kind; });
    return links;
}

Result<void> Rtnl::set_port(int ifindex, unsigned mtu, const Mac& mac, const std::string& alias) {
    Request req(RTM_NEWLINK, ifindex,
                "set MTU " + std::to_string(mtu) + ", MAC " + format_mac(mac) + (alias.empty() ? "" : " and label") +
                    " of ifindex " + std::to_string(ifindex));
    mnl_attr_put_u32(req.nlh, IFLA_MTU, mtu);
    mnl_attr_put(req.nlh, IFLA_ADDRESS, mac.size(), mac.data());
    if (!alias.empty()) mnl_attr_put_strz(req.nlh, IFLA_IFALIAS, alias.c_str());
    return transact(req, nullptr);
}

Result<int> Rtnl::ifindex(const std::string& name) {
    ifreq ifr{};
    if (name.empty() || name.size() >= IFNAMSIZ) return Error::msg("bad interface name " + name);
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    // Any socket answers SIOCGIFINDEX, ours included: no netlink round trip.
    UB_TRYV(system::ioctl(mnl_socket_get_fd(nl_.get()), SIOCGIFINDEX, &ifr, "cannot find the index of " + name));
    return ifr.ifr_ifindex;
}

Result<void> Rtnl::set_no_ipv6_address(int ifindex) {
    Request req(RTM_NEWLINK, ifindex, "turn off IPv6 addresses on ifindex " + std::to_string(ifindex));
    nlattr* af = mnl_attr_nest_start(req.nlh, IFLA_AF_SPEC);
    nlattr* in6 = mnl_attr_nest_start(req.nlh, AF_INET6);
    mnl_attr_put_u8(req.nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    mnl_attr_nest_end(req.nlh, in6);
    mnl_attr_nest_end(req.nlh, af);
    Result<void> r = transact(req, nullptr);
    // The kernel has no IPv6, or not on this device: nothing to turn off.
    if (!r.ok() && r.error().code() == EAFNOSUPPORT) return Ok{};
    return r;
}

Result<void> Rtnl::set_master(int ifindex, int master_ifindex) {
    Request req(RTM_NEWLINK, ifindex,
                "attach ifindex " + std::to_string(ifindex) + " to bridge ifindex " + std::to_string(master_ifindex));
    mnl_attr_put_u32(req.nlh, IFLA_MASTER, static_cast<uint32_t>(master_ifindex));
    return transact(req, nullptr);
}

Result<void> Rtnl::set_isolated(int ifindex) {
    Request req(RTM_NEWLINK, ifindex, "isolate bridge port ifindex " + std::to_string(ifindex));
    nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
    nlattr* port = mnl_attr_nest_start(req.nlh, IFLA_INFO_SLAVE_DATA);
    mnl_attr_put_u8(req.nlh, IFLA_BRPORT_ISOLATED, 1);
    mnl_attr_nest_end(req.nlh, port);
    mnl_attr_nest_end(req.nlh, info);
    return transact(req, nullptr);
}

Result<void> Rtnl::add_macvtap(const std::string& name, int lower_ifindex) {
    Request req(RTM_NEWLINK, 0, "create macvtap " + name + " on ifindex " + std::to_string(lower_ifindex),
                NLM_F_CREATE | NLM_F_EXCL);
    mnl_attr_put_strz(req.nlh, IFLA_IFNAME, name.c_str());
    mnl_attr_put_u32(req.nlh, IFLA_LINK, static_cast<uint32_t>(lower_ifindex));
    nlattr* info = mnl_attr_nest_start(req.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(req.nlh, IFLA_INFO_KIND, "macvtap");
    nlattr* data = mnl_attr_nest_start(req.nlh, IFLA_INFO_DATA);
    mnl_attr_put_u32(req.nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
    mnl_attr_nest_end(req.nlh, data);
    mnl_attr_nest_end(req.nlh, info);
    return transact(req, nullptr);
}

Result<void> Rtnl::set_up(int ifindex) {
    Request req(RTM_NEWLINK, ifindex, "bring up ifindex " + std::to_string(ifindex));
    req.ifm->ifi_flags = IFF_UP;
    req.ifm->ifi_change = IFF_UP;
    return transact(req, nullptr);
}

Result<void> Rtnl::request(const nlmsghdr* msg, const std::string& what) {
    Request req(msg->nlmsg_type, 0, what);
    std::memcpy(req.nlh, msg, msg->nlmsg_len);
    req.nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    return transact(req, nullptr);
}

Result<void> Rtnl::delete_link(int ifindex) {
    Request req(RTM_DELLINK, ifindex, "delete ifindex " + std::to_string(ifindex));
    return transact(req, nullptr);
}

}  // namespace ub::net
