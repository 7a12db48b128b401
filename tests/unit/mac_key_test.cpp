// The MAC key file's checks: pure, a struct stat and the content passed in.
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

}  // namespace
