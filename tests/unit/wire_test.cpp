// The daemon's wire protocol: round trips and every refusal of the decoder.
#include <gtest/gtest.h>

#include "protocol/wire.h"

using namespace ub::protocol;

namespace {

std::string bytes_of(const Request& r) {
    auto b = encode(r);
    return std::string(b.data(), b.size());
}

std::string refused(std::string b) {
    auto r = decode_request(b);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message();
}

}  // namespace

TEST(Wire, RequestRoundTrip) {
    auto r = decode_request(bytes_of({false, 1, "br-lan.10", "web-1"}));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_FALSE(r->vnet_hdr);
    EXPECT_EQ(r->bridge, "br-lan.10");
    EXPECT_EQ(r->vm_name, "web-1");
    EXPECT_EQ(kRequestSize, 96u);
}

TEST(Wire, InteractiveIsFlagBitOne) {
    Request ask{true, 1, "br0", "", true};
    std::string b = bytes_of(ask);
    EXPECT_EQ(b[6], 3);
    auto r = decode_request(b);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(r->interactive);
    EXPECT_TRUE(r->vnet_hdr);
    auto plain = decode_request(bytes_of({true, 1, "br0", ""}));
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->interactive);
}

TEST(Wire, RequestRefusals) {
    std::string good = bytes_of({true, 1, "br0", ""});
    EXPECT_EQ(refused(good.substr(0, 95)), "request is 95 bytes, expected 96");
    EXPECT_EQ(refused(good + "x"), "request is 97 bytes, expected 96");
    std::string b = good;
    b[0] = 'X';
    EXPECT_EQ(refused(b), "request has a bad magic");
    b = good;
    b[4] = 1;
    EXPECT_EQ(refused(b), "protocol version 1 is not supported (this daemon speaks 2)");
    b = good;
    b[6] = 64;  // bits 2 to 5: veth, lease, release, tied
    EXPECT_EQ(refused(b), "request has unknown flags");
    b = good;
    b[8] = 65;
    EXPECT_EQ(refused(b), "queues must be 1 to 64");
    b[8] = 0;
    EXPECT_EQ(refused(b), "queues must be 1 to 64");
    b = good;
    b[10] = 1;
    EXPECT_EQ(refused(b), "reserved fields must be 0");
    b = good;
    b[95] = 1;
    EXPECT_EQ(refused(b), "reserved fields must be 0");
    b = good;
    for (int i = 12; i < 28; ++i) b[static_cast<std::size_t>(i)] = 'a';
    EXPECT_EQ(refused(b), "bridge name is not NUL-terminated");
    b = good;
    b[20] = 'z';  // after "br0\0"
    EXPECT_EQ(refused(b), "bridge name has bytes after its NUL");
    EXPECT_EQ(refused(bytes_of({true, 1, "", ""})), "bridge name '' is empty");
    EXPECT_EQ(refused(bytes_of({true, 1, "../x", ""})), "bridge name '../x' contains '/'");
    EXPECT_EQ(refused(bytes_of({true, 1, "br0", "a\nb"})), "VM name 'a\\x0ab' may hold only letters, digits and . _ - + @ :");
}

TEST(Wire, LeaseAndReleaseRoundTrip) {
    Request lease{true, 2, "br0", ""};
    lease.kind = Kind::Lease;
    lease.tap_name = "fc0";
    lease.lease_seconds = 3600;
    lease.tied = true;
    auto r = decode_request(bytes_of(lease));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->kind, Kind::Lease);
    EXPECT_EQ(r->tap_name, "fc0");
    EXPECT_EQ(r->lease_seconds, 3600u);
    EXPECT_TRUE(r->tied);
    EXPECT_EQ(r->queues, 2);
    EXPECT_EQ(r->vm_name, "");
    lease.tap_name = "";  // the daemon picks
    ASSERT_TRUE(decode_request(bytes_of(lease)).ok());
    Request release{true, 1, "", ""};
    release.kind = Kind::Release;
    release.tap_name = "fc0";
    auto back = decode_request(bytes_of(release));
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(back->kind, Kind::Release);
    EXPECT_EQ(back->tap_name, "fc0");
}

TEST(Wire, LeaseRefusals) {
    Request lease{true, 1, "br0", ""};
    lease.kind = Kind::Lease;
    lease.tap_name = "tap%d";  // the kernel would pick the name
    EXPECT_EQ(refused(bytes_of(lease)),
              "tap name 'tap%d' has a character other than letters, digits, '.', '_' and '-'");
    lease.tap_name = "ubq4711";  // a quota lock's name, held for good
    EXPECT_EQ(refused(bytes_of(lease)), "tap name 'ubq4711' starts with 'ubq', the quota locks' prefix");
    lease.tap_name = "ubv0";  // a veth pair's host end would find its names taken
    EXPECT_EQ(refused(bytes_of(lease)), "tap name 'ubv0' starts with 'ubv', the prefix of the host ends of veth pairs");
    Request release{true, 1, "", ""};
    release.kind = Kind::Release;
    EXPECT_EQ(refused(bytes_of(release)), "tap name '' is empty");
    std::string b = bytes_of(release);
    b[6] = static_cast<char>(b[6] | 8);  // a lease's bit, on a release
    EXPECT_EQ(refused(b), "a request is a lease or a release, not both");
    b = bytes_of({true, 1, "br0", ""});
    b[6] = static_cast<char>(b[6] | 32);  // tied, on a plain request
    EXPECT_EQ(refused(b), "only a lease can be tied to its connection");
    b[6] = 1;
    b[92] = 1;  // a length, on a plain request
    EXPECT_EQ(refused(b), "reserved fields must be 0");
    release.tap_name = "fc0";
    b = bytes_of(release);
    b[12] = 'b';  // a release names no bridge
    EXPECT_EQ(refused(b), "a release names no bridge");
}

TEST(Wire, LeaseReplyHasNoFds) {
    Reply r;
    r.status = Status::Granted;
    r.ifname = "fc0";
    r.lease = true;
    auto b = encode(r);
    auto back = decode_reply(std::string(b.data(), b.size()));
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_TRUE(back->lease);
    EXPECT_EQ(back->nfds, 0);
    r.nfds = 1;  // a lease's reply with fds
    b = encode(r);
    EXPECT_FALSE(decode_reply(std::string(b.data(), b.size())).ok());
}

TEST(Wire, ReplyRoundTrip) {
    Reply r;
    r.status = Status::Granted;
    r.vnet_hdr = true;
    r.nfds = 1;
    r.ifname = "tap3";
    r.mac = {0xfe, 1, 2, 3, 4, 5};
    r.mtu = 9000;
    r.message = "allowed by /etc/qemu/bridge.conf:1";
    auto b = encode(r);
    auto d = decode_reply(std::string_view(b.data(), b.size()));
    ASSERT_TRUE(d.ok()) << d.error().message();
    EXPECT_EQ(d->ifname, "tap3");
    EXPECT_EQ(d->mtu, 9000u);
    EXPECT_EQ(d->mac[0], 0xfe);
    EXPECT_FALSE(d->pinned_mac);
    EXPECT_EQ(d->message, r.message);

    r.pinned_mac = std::array<std::uint8_t, 6>{0x52, 0x54, 0, 0xaa, 0xbb, 0xcc};
    b = encode(r);
    d = decode_reply(std::string_view(b.data(), b.size()));
    ASSERT_TRUE(d.ok()) << d.error().message();
    EXPECT_EQ(d->pinned_mac, r.pinned_mac);
    EXPECT_TRUE(d->vnet_hdr);
    EXPECT_EQ(d->message, r.message);
}

// A denial says what refused, as a value: no client reads it off the message.
TEST(Wire, DeniedReplyCarriesWhatRefused) {
    Reply r;
    r.status = Status::Denied;
    r.refused = ub::Refused::Quota;
    r.message = "access to bridge br0 denied: quota reached";
    auto b = encode(r);
    auto d = decode_reply(std::string_view(b.data(), b.size()));
    ASSERT_TRUE(d.ok()) << d.error().message();
    EXPECT_EQ(d->refused, ub::Refused::Quota);
    b[34] = 0;  // a denial that says nothing of what refused
    EXPECT_FALSE(decode_reply(std::string_view(b.data(), b.size())).ok());
    r.status = Status::Failed;  // a failure: the field stays 0
    b = encode(r);
    EXPECT_EQ(b[34], 0);
    b[34] = 2;
    EXPECT_FALSE(decode_reply(std::string_view(b.data(), b.size())).ok());
}

namespace {

std::string reply_refused(const std::array<char, kReplySize>& b) {
    auto r = decode_reply(std::string_view(b.data(), b.size()));
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message();
}

}  // namespace

// What a client is sent is checked field by field: a socket it was pointed
// at by mistake, or a daemon of another release, gets a clear refusal.
TEST(Wire, ReplyFieldRefusals) {
    Reply r;
    r.status = Status::Granted;
    r.nfds = 1;
    r.ifname = "tap0";
    const auto good = encode(r);
    auto b = good;
    b[4] = 1;
    EXPECT_EQ(reply_refused(b),
              "reply is in protocol version 1; this client speaks 2 (userbridged and its clients "
              "must be of one release)");
    b = good;
    b[8] = 16;  // bit 2 is a veth grant's, bit 3 a lease's
    EXPECT_EQ(reply_refused(b), "reply has unknown flags");
    b = good;
    b[43] = 1;  // a guest MAC byte, without flag bit 1
    EXPECT_EQ(reply_refused(b), "reply has a guest MAC without its flag");
    b = good;
    b[34] = 1;
    EXPECT_EQ(reply_refused(b), "reply's reserved fields must be 0");
    b = good;
    b[47] = 1;
    EXPECT_EQ(reply_refused(b), "reply's reserved fields must be 0");
    b = good;
    b[12 + 4 + 1] = 'x';  // after "tap0\0"
    EXPECT_EQ(reply_refused(b), "interface name has bytes after its NUL");
    b = good;
    for (std::size_t i = 48; i < kReplySize; ++i) b[i] = 'm';
    EXPECT_EQ(reply_refused(b), "message is not NUL-terminated");
}

TEST(Wire, ReplyRefusals) {
    Reply r;
    r.status = Status::Granted;  // but no tap
    auto b = encode(r);
    EXPECT_FALSE(decode_reply(std::string_view(b.data(), b.size())).ok());
    r.status = Status::Denied;
    r.message = std::string(400, 'm');  // truncated to fit, still NUL-terminated
    b = encode(r);
    auto d = decode_reply(std::string_view(b.data(), b.size()));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->message.size(), 303u);
    b[6] = 9;
    EXPECT_FALSE(decode_reply(std::string_view(b.data(), b.size())).ok());
}

TEST(Wire, VethRequestSplitsTheNameField) {
    Request v{false, 1, "br0", "c1", false, "eth0"};
    std::string b = bytes_of(v);
    EXPECT_EQ(b[6], 4);
    EXPECT_EQ(b.substr(76, 5), std::string("eth0\0", 5));
    auto r = decode_request(b);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->vm_name, "c1");
    EXPECT_EQ(r->netns_peer, "eth0");
    // A tap request never has a peer, whatever its name field holds.
    auto tap = decode_request(bytes_of({false, 1, "br0", std::string(60, 'a')}));
    ASSERT_TRUE(tap.ok());
    EXPECT_TRUE(tap->netns_peer.empty());
}

TEST(Wire, VethRequestRefusals) {
    EXPECT_NE(refused(bytes_of({false, 2, "br0", "", false, "eth0"})).find("one queue"), std::string::npos);
    std::string b = bytes_of({false, 1, "br0", "", false, "eth0"});
    b[76] = '/';
    EXPECT_NE(refused(b).find("namespace interface name"), std::string::npos);
    b = bytes_of({false, 1, "br0", "", false, "eth0"});
    b[76] = 0;  // no name
    EXPECT_NE(refused(b).find("namespace interface name"), std::string::npos);
    // A template: the kernel would choose the name, and the reply and the
    // record would name another.
    EXPECT_NE(refused(bytes_of({false, 1, "br0", "", false, "eth%d"})).find("'%'"), std::string::npos);
}

TEST(Wire, VethReplyCarriesThePeersIfindex) {
    Reply g;
    g.status = Status::Granted;
    g.ifname = "ubv3";
    g.mtu = 1500;
    g.peer_ifindex = 70000;
    g.message = "allowed";
    auto bytes = encode(g);
    auto r = decode_reply(std::string(bytes.data(), bytes.size()));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->peer_ifindex, 70000u);
    EXPECT_EQ(r->nfds, 0);
    EXPECT_EQ(r->message, "allowed");
    g.nfds = 1;  // a veth grant carries no fds
    bytes = encode(g);
    EXPECT_FALSE(decode_reply(std::string(bytes.data(), bytes.size())).ok());
}
