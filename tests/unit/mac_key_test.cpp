// The MAC key file's checks: pure, a struct stat and the content passed in;
// and the guest MACs derived with the key.
#include <gtest/gtest.h>

#include <string>

#include "policy/mac_key.h"

namespace {

struct stat key_stat(mode_t mode, uid_t uid = 0, off_t size = 32) {
    struct stat st {};
    st.st_mode = mode;
    st.st_uid = uid;
    st.st_size = size;
    return st;
}

TEST(MacKeyFile, OnlyRootsAloneAndWhole) {
    using ub::policy::check_mac_key_file;
    EXPECT_TRUE(check_mac_key_file(key_stat(S_IFREG | 0600), "/k").ok());
    EXPECT_TRUE(check_mac_key_file(key_stat(S_IFREG | 0400), "/k").ok());
    EXPECT_EQ(check_mac_key_file(key_stat(S_IFREG | 0640), "/k").error().message(),
              "/k is readable or writable by group or others; refusing it (chmod 0600 /k)");
    EXPECT_FALSE(check_mac_key_file(key_stat(S_IFREG | 0604), "/k").ok());
    EXPECT_FALSE(check_mac_key_file(key_stat(S_IFREG | 0620), "/k").ok());
    EXPECT_EQ(check_mac_key_file(key_stat(S_IFREG | 0600, 4711), "/k").error().message(),
              "/k is not owned by root (owner uid 4711); refusing it");
    EXPECT_EQ(check_mac_key_file(key_stat(S_IFIFO | 0600), "/k").error().message(),
              "/k is not a regular file; refusing it");
    EXPECT_EQ(check_mac_key_file(key_stat(S_IFREG | 0600, 0, 31), "/k").error().message(),
              "/k is 31 bytes, not 32; refusing it");
}

TEST(MacKeyFile, ContentIsExactlyTheKey) {
    using ub::policy::parse_mac_key;
    std::string content;
    for (int i = 0; i < 32; ++i) content += static_cast<char>(0xe0 + i % 16);
    auto key = parse_mac_key(content, "/k");
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(key->bytes[0], 0xe0);
    EXPECT_EQ(key->bytes[31], 0xef);
    EXPECT_EQ(parse_mac_key(content + "x", "/k").error().message(), "/k is 33 bytes, not 32; refusing it");
    EXPECT_EQ(parse_mac_key("", "/k").error().message(), "/k is 0 bytes, not 32; refusing it");
    EXPECT_EQ(parse_mac_key(std::string(32, '\0'), "/k").error().message(),
              "/k is all zero bytes, not a random key; refusing it");
}

using ub::Mac;
using ub::format_mac;
using ub::policy::derive_mac;
using ub::policy::deriver_for;
using ub::policy::MacKey;
using ub::policy::MacPolicy;

// The integration tests' key (lib.sh): bytes 0x00 to 0x1f.
const MacKey kKey = [] {
    MacKey k;
    for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<std::uint8_t>(i);
    return k;
}();

TEST(MacDerivation, StablePerKeyUserVmAndBridge) {
    MacPolicy p{MacPolicy::Prefix, {0x52, 0x54, 0x00}, 3};
    const MacKey& key = kKey;
    Mac a = derive_mac(p, key, 4711, "web", "br0");
    EXPECT_EQ(a, derive_mac(p, key, 4711, "web", "br0"));
    EXPECT_EQ(a[0], 0x52);
    EXPECT_EQ(a[1], 0x54);
    EXPECT_EQ(a[2], 0x00);
    EXPECT_NE(a, derive_mac(p, key, 4712, "web", "br0"));
    EXPECT_NE(a, derive_mac(p, key, 4711, "db", "br0"));
    EXPECT_NE(a, derive_mac(p, key, 4711, "web", "br1"));
    // The VM name's length is part of the input: moving bytes between the
    // name and the bridge makes another MAC.
    EXPECT_NE(derive_mac(p, key, 4711, "web", "br0"), derive_mac(p, key, 4711, "webb", "r0"));
    MacKey other = key;
    other.bytes[31] ^= 1;
    EXPECT_NE(a, derive_mac(p, other, 4711, "web", "br0"));
    // The documented algorithm, pinned (computed independently with
    // Python's hmac module): a change would move every VM's MAC, and so its
    // DHCP lease.
    EXPECT_EQ(format_mac(a), "52:54:00:14:08:a3");
    MacPolicy one{MacPolicy::Prefix, {0x02}, 1};
    EXPECT_EQ(format_mac(derive_mac(one, key, 0, "", "br0")), "02:61:e1:61:b2:7f");
}

TEST(MacDerivation, TheDeriverUsesTheKeyOrSaysWhyThereIsNone) {
    MacPolicy p{MacPolicy::Prefix, {0x52, 0x54}, 2};
    const ub::Result<MacKey> key = kKey;
    ub::Result<Mac> mac = deriver_for(key)(p, 4711, "web", "br1");
    ASSERT_TRUE(mac.ok());
    EXPECT_EQ(*mac, derive_mac(p, kKey, 4711, "web", "br1"));
    const ub::Result<MacKey> none = ub::Error::msg("no MAC key at /k: make one");
    mac = deriver_for(none)(p, 4711, "web", "br1");
    ASSERT_FALSE(mac.ok());
    EXPECT_EQ(mac.error().message(), "no MAC key at /k: make one");
}

}  // namespace
