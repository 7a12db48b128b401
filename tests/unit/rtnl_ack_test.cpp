// decode_ack: NLMSG_ERROR replies as the kernel sends them, and as it never
// should: short, with odd lengths, with a message that is not a string.
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/rtnl.h"

using ub::net::decode_ack;
using ub::net::well_framed;

namespace {

// An NLMSG_ERROR in `buf`: `error`, the request's header, then (flags
// permitting) the extended ACK's message.
constexpr std::size_t kBuf = 512;

nlmsghdr* ack(std::vector<char>& buf, int error, std::uint16_t flags, const char* msg) {
    buf.assign(kBuf, 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = NLMSG_ERROR;
    nlh->nlmsg_flags = flags;
    auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    err->error = error;
    err->msg.nlmsg_len = 64;  // the request's, which a capped ACK leaves out
    if (msg) mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
    return nlh;
}

TEST(DecodeAck, AnAckIsZero) {
    std::vector<char> buf;
    std::string why;
    EXPECT_EQ(decode_ack(ack(buf, 0, 0, nullptr), kBuf, why), 0);
    EXPECT_TRUE(why.empty());
}

TEST(DecodeAck, AnErrorWithTheKernelsWords) {
    std::vector<char> buf;
    std::string why;
    nlmsghdr* nlh = ack(buf, -EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS, "mtu greater than device maximum");
    EXPECT_EQ(decode_ack(nlh, kBuf, why), EINVAL);
    EXPECT_EQ(why, "mtu greater than device maximum");
}

TEST(DecodeAck, AnErrorWithoutWords) {
    std::vector<char> buf;
    std::string why;
    EXPECT_EQ(decode_ack(ack(buf, -ENODEV, NLM_F_CAPPED, nullptr), kBuf, why), ENODEV);
    EXPECT_TRUE(why.empty());
}

TEST(DecodeAck, Refusals) {
    std::vector<char> buf;
    std::string why;
    // Too short to hold an nlmsgerr.
    nlmsghdr* nlh = ack(buf, -EINVAL, 0, nullptr);
    nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
    EXPECT_EQ(decode_ack(nlh, kBuf, why), EBADMSG);
    // Longer than the bytes there are (libmnl lets that through).
    nlh = ack(buf, -EINVAL, 0, nullptr);
    EXPECT_EQ(decode_ack(nlh, nlh->nlmsg_len - 1, why), EBADMSG);
    nlh->nlmsg_len = 0xffffffff;
    EXPECT_EQ(decode_ack(nlh, kBuf, why), EBADMSG);
    // Error values the kernel never sends.
    EXPECT_EQ(decode_ack(ack(buf, 5, 0, nullptr), kBuf, why), EPROTO);
    EXPECT_EQ(decode_ack(ack(buf, -100000, 0, nullptr), kBuf, why), EPROTO);
    EXPECT_EQ(decode_ack(ack(buf, INT32_MIN, 0, nullptr), kBuf, why), EPROTO);
    // Not capped: the words would follow a 64-byte request that is not
    // there, so none are read, and nothing past the message either.
    EXPECT_EQ(decode_ack(ack(buf, -EINVAL, NLM_F_ACK_TLVS, "x"), kBuf, why), EINVAL);
    EXPECT_TRUE(why.empty());
    nlh = ack(buf, -EINVAL, NLM_F_ACK_TLVS, nullptr);
    reinterpret_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->msg.nlmsg_len = 0xffffffff;
    EXPECT_EQ(decode_ack(nlh, kBuf, why), EINVAL);
    EXPECT_TRUE(why.empty());
    // A message attribute that is not a NUL-terminated string is ignored.
    nlh = ack(buf, -EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, nullptr);
    char raw[3] = {'a', 'b', 'c'};
    mnl_attr_put(nlh, NLMSGERR_ATTR_MSG, sizeof raw, raw);
    EXPECT_EQ(decode_ack(nlh, kBuf, why), EPERM);
    EXPECT_TRUE(why.empty());
    // An attribute whose length runs past the message stops the parse.
    nlh = ack(buf, -EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, "words");
    nlh->nlmsg_len -= 4;
    EXPECT_EQ(decode_ack(nlh, kBuf, why), EPERM);
    EXPECT_TRUE(why.empty());
}

// Datagrams as libmnl would walk them: every message must lie inside.
TEST(WellFramed, MessagesInsideTheDatagram) {
    std::vector<char> buf;
    nlmsghdr* first = ack(buf, 0, 0, nullptr);
    std::size_t one = first->nlmsg_len;
    EXPECT_TRUE(well_framed(buf.data(), 0));
    EXPECT_TRUE(well_framed(buf.data(), one));
    EXPECT_TRUE(well_framed(buf.data(), one + 8));  // a tail too short to be a message
    // A second message after the first.
    std::memcpy(buf.data() + one, buf.data(), one);
    EXPECT_TRUE(well_framed(buf.data(), 2 * one));
    // The second says it is longer than what is left.
    reinterpret_cast<nlmsghdr*>(buf.data() + one)->nlmsg_len = static_cast<std::uint32_t>(one + 4);
    EXPECT_FALSE(well_framed(buf.data(), 2 * one));
    // Lengths libmnl lets through: past the end as a signed int, or shorter
    // than a header.
    first->nlmsg_len = 0xffffffff;
    EXPECT_FALSE(well_framed(buf.data(), one));
    first->nlmsg_len = 8;
    EXPECT_FALSE(well_framed(buf.data(), one));
    first->nlmsg_len = static_cast<std::uint32_t>(one + 1);
    EXPECT_FALSE(well_framed(buf.data(), one));
}

}  // namespace
