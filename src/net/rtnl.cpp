#include "net/rtnl.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/system.h"

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

// What one request's replies carry to request().
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
int overrun_cb(const nlmsghdr*, void*) {
    errno = ENOSPC;
    return MNL_CB_ERROR;
}

// An RTM_*LINK message about `ifindex` (ifi_family zeroed: AF_UNSPEC).
Message link_msg(uint16_t type, int ifindex, uint16_t flags = 0) {
    Message m;
    m.start<ifinfomsg>(type, flags)->ifi_index = ifindex;
    return m;
}

// " ifindex 7": how requests name the link in errors.
std::string index_name(int ifindex) { return " ifindex " + std::to_string(ifindex); }

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

Result<void> Rtnl::request(nlmsghdr* msg, const std::string& what, std::vector<LinkInfo>* links) {
    // A dump ends with NLMSG_DONE; an ACK asked for as well could arrive
    // after it and be taken for the answer to our next request. (Both of
    // NLM_F_DUMP's bits: NLM_F_EXCL of a new link is NLM_F_MATCH's.)
    bool dump = (msg->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    msg->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
    unsigned seq = msg->nlmsg_seq = ++seq_;
    ssize_t sent = mnl_socket_sendto(nl_.get(), msg, msg->nlmsg_len);
    if (sent < 0) return Error::sys("cannot " + what);
    // A datagram socket never sends part of a message; anything else is a bug
    // we must not paper over.
    if (static_cast<std::size_t>(sent) != msg->nlmsg_len) return Error::msg("cannot " + what + ": short netlink send");

    // Large enough for any RTM_NEWLINK reply; libmnl reports truncation.
    constexpr std::size_t kSize = 32768;
    auto buf = std::make_unique_for_overwrite<char[]>(kSize);
    // libmnl skips a control message whose entry here is null (NLMSG_NOOP),
    // and uses its own defaults for none of them: a dump's NLMSG_DONE needs
    // done_cb, or the reading never ends.
    mnl_cb_t control[NLMSG_MIN_TYPE] = {nullptr, nullptr, error_cb /* NLMSG_ERROR */, done_cb /* NLMSG_DONE */,
                                        overrun_cb /* NLMSG_OVERRUN */};
    Replies replies{links, nullptr, {}};
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl_.get(), buf.get(), kSize);
        if (n < 0) return Error::sys("cannot " + what + ": netlink receive");
        if (!well_framed(buf.get(), static_cast<std::size_t>(n)))
            return Error::msg("cannot " + what + ": a netlink message runs past its datagram");
        replies.end = buf.get() + n;
        // mnl_cb_run2 rejects messages whose seq or port id are not ours.
        int rc = mnl_cb_run2(buf.get(), static_cast<std::size_t>(n), seq, portid_, data_cb, &replies,
                             control, NLMSG_MIN_TYPE);
        if (rc == MNL_CB_ERROR) {
            int err = errno;
            return Error::sys("cannot " + what + (replies.why.empty() ? "" : ": " + replies.why), err);
        }
        if (rc == MNL_CB_STOP) return Ok{};
    }
}

Result<LinkInfo> Rtnl::get_link(const std::string& name) {
    Message m = link_msg(RTM_GETLINK, 0);
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    std::vector<LinkInfo> links;
    UB_TRYV(request(m.nlh, "look up interface " + name, &links));
    if (links.size() != 1 || links[0].ifindex <= 0)
        return Error::msg("cannot look up interface " + name + ": no reply");
    // IFLA_IFNAME finds a link by an alternative name (altname) too: a rule
    // for a name must not be had through another (review item 32-2).
    if (links[0].name != name) return Error::sys("no interface is named " + name, ENODEV);
    return std::move(links[0]);
}

Result<void> Rtnl::set_port(int ifindex, unsigned mtu, const Mac& mac, const std::string& alias) {
    Message m = link_msg(RTM_NEWLINK, ifindex);
    mnl_attr_put_u32(m.nlh, IFLA_MTU, mtu);
    mnl_attr_put(m.nlh, IFLA_ADDRESS, mac.size(), mac.data());
    if (!alias.empty()) mnl_attr_put_strz(m.nlh, IFLA_IFALIAS, alias.c_str());
    return request(m.nlh, "set MTU " + std::to_string(mtu) + ", MAC " + format_mac(mac) +
                              (alias.empty() ? "" : " and label") + " of" + index_name(ifindex));
}

Result<int> Rtnl::ifindex(const std::string& name) {
    ifreq ifr{};
    if (name.empty() || name.size() >= IFNAMSIZ) return Error::msg("bad interface name " + name);
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    // Any socket answers SIOCGIFINDEX, ours included: no netlink round trip.
    UB_TRYV(system::ioctl(mnl_socket_get_fd(nl_.get()), SIOCGIFINDEX, &ifr, "cannot find the index of " + name));
    return ifr.ifr_ifindex;
}

Result<void> no_host_stack(const std::string& name) {
    for (auto [family, knob] : {std::pair{"ipv4", "rp_filter"}, {"ipv6", "disable_ipv6"}}) {
        std::string path = std::string("/proc/sys/net/") + family + "/conf/" + name + "/" + knob;
        UniqueFd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!f.valid() && errno == ENOENT) continue;  // no IPv6 in the kernel, or on the port (an MTU under 1280)
        if (!f.valid() || write(f.get(), "1", 1) != 1) return Error::sys("cannot write 1 to " + path);
    }
    return Ok{};
}

Result<void> Rtnl::set_master(int ifindex, int master_ifindex) {
    Message m = link_msg(RTM_NEWLINK, ifindex);
    mnl_attr_put_u32(m.nlh, IFLA_MASTER, static_cast<uint32_t>(master_ifindex));
    mnl_attr_put_u32(m.nlh, IFLA_GROUP, kPortGroup);
    return request(m.nlh, "attach" + index_name(ifindex) + " to bridge" + index_name(master_ifindex));
}

Result<void> Rtnl::guard_port(int ifindex, bool isolated) {
    Message m = link_msg(RTM_NEWLINK, ifindex);
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    nlattr* port = mnl_attr_nest_start(m.nlh, IFLA_INFO_SLAVE_DATA);
    mnl_attr_put_u8(m.nlh, IFLA_BRPORT_GUARD, 1);
    if (isolated) mnl_attr_put_u8(m.nlh, IFLA_BRPORT_ISOLATED, 1);
    mnl_attr_nest_end(m.nlh, port);
    mnl_attr_nest_end(m.nlh, info);
    return request(m.nlh, std::string(isolated ? "isolate and guard" : "guard") + " bridge port" + index_name(ifindex));
}

Result<void> Rtnl::set_up(int ifindex) {
    Message m;
    ifinfomsg* ifm = m.start<ifinfomsg>(RTM_NEWLINK);
    ifm->ifi_index = ifindex;
    ifm->ifi_flags = ifm->ifi_change = IFF_UP;
    return request(m.nlh, "bring up" + index_name(ifindex));
}

Result<void> Rtnl::delete_link(int ifindex) {
    return request(link_msg(RTM_DELLINK, ifindex).nlh, "delete" + index_name(ifindex));
}

}  // namespace ub::net
