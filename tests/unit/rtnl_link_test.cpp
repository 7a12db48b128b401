// parse_link_msg: RTM_NEWLINK replies as the kernel sends them, and with
// attributes of the wrong length or without their NUL, which must read as
// absent (never past the attribute) rather than as a value.
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "net/rtnl.h"

using ub::net::LinkInfo;
using ub::net::parse_link_msg;

namespace {

class LinkMsg {
public:
    LinkMsg() : buf_(1024, 0) {
        nlh_ = mnl_nlmsg_put_header(buf_.data());
        nlh_->nlmsg_type = RTM_NEWLINK;
        auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(ifinfomsg)));
        ifm->ifi_index = 7;
    }
    nlmsghdr* nlh() { return nlh_; }
    // An attribute of exactly these bytes, NUL or not.
    static void raw(nlmsghdr* at, std::uint16_t type, const char* bytes, std::size_t n) {
        mnl_attr_put(at, type, n, bytes);
    }
    LinkInfo parse() {
        std::vector<LinkInfo> links;
        EXPECT_EQ(parse_link_msg(nlh_, &links), MNL_CB_OK);
        EXPECT_EQ(links.size(), 1u);
        return links.empty() ? LinkInfo{} : links[0];
    }

private:
    std::vector<char> buf_;
    nlmsghdr* nlh_;
};

TEST(ParseLinkMsg, AFifteenByteNameAndAlias) {
    LinkMsg m;
    mnl_attr_put_strz(m.nlh(), IFLA_IFNAME, "0123456789abcde");
    mnl_attr_put_strz(m.nlh(), IFLA_IFALIAS, "userbridge uid=4711");
    mnl_attr_put_u32(m.nlh(), IFLA_MTU, 1500);
    mnl_attr_put_u32(m.nlh(), IFLA_MASTER, 3);
    LinkInfo l = m.parse();
    EXPECT_EQ(l.ifindex, 7);
    EXPECT_EQ(l.name, "0123456789abcde");
    EXPECT_EQ(l.alias, "userbridge uid=4711");
    EXPECT_EQ(l.mtu, 1500u);
    EXPECT_EQ(l.master, 3);
}

TEST(ParseLinkMsg, StringsWithoutTheirNulReadAsAbsent) {
    LinkMsg m;
    m.raw(m.nlh(), IFLA_IFNAME, "0123456789abcdef", 16);
    m.raw(m.nlh(), IFLA_IFALIAS, "userbridge uid=0", 16);
    LinkInfo l = m.parse();
    EXPECT_EQ(l.name, "");
    EXPECT_EQ(l.alias, "");
}

TEST(ParseLinkMsg, ShortNumbersReadAsAbsent) {
    LinkMsg m;
    m.raw(m.nlh(), IFLA_MTU, "\x05\xdc", 2);
    m.raw(m.nlh(), IFLA_MASTER, "\x03", 1);
    nlattr* info = mnl_attr_nest_start(m.nlh(), IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh(), IFLA_INFO_KIND, "tun");
    nlattr* data = mnl_attr_nest_start(m.nlh(), IFLA_INFO_DATA);
    m.raw(m.nlh(), IFLA_TUN_OWNER, "\x00\x00", 2);
    mnl_attr_put_u32(m.nlh(), IFLA_TUN_GROUP, 4800);
    m.raw(m.nlh(), IFLA_TUN_NUM_QUEUES, "\x01", 1);
    mnl_attr_nest_end(m.nlh(), data);
    mnl_attr_nest_end(m.nlh(), info);
    LinkInfo l = m.parse();
    EXPECT_EQ(l.mtu, 0u);
    EXPECT_EQ(l.master, 0);
    EXPECT_EQ(l.kind, "tun");
    EXPECT_EQ(l.tun_owner, -1);
    EXPECT_EQ(l.tun_group, 4800);
    EXPECT_EQ(l.tun_num_queues, -1);
}

// libmnl stops at an attribute longer than what is left of the message
// (mnl_attr_ok): it and what follows are not read, not read past the end.
TEST(ParseLinkMsg, ANestRunningPastItsMessageIsNotRead) {
    LinkMsg m;
    mnl_attr_put_strz(m.nlh(), IFLA_IFNAME, "tap3");
    nlattr* info = mnl_attr_nest_start(m.nlh(), IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh(), IFLA_INFO_KIND, "tun");
    mnl_attr_nest_end(m.nlh(), info);
    info->nla_len = static_cast<std::uint16_t>(info->nla_len + 64);
    LinkInfo l = m.parse();
    EXPECT_EQ(l.name, "tap3");
    EXPECT_EQ(l.kind, "");
}

}  // namespace
