// SHA-256 and HMAC-SHA256 against published test vectors.
#include <gtest/gtest.h>

#include <string>

#include "base/hmac_sha256.h"

namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string hex(const ub::Sha256Digest& d) {
    std::string out;
    for (std::uint8_t b : d) {
        out += "0123456789abcdef"[b >> 4];
        out += "0123456789abcdef"[b & 15];
    }
    return out;
}

// FIPS 180-4's examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
TEST(Sha256, NistVectors) {
    EXPECT_EQ(hex(ub::sha256(bytes(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(ub::sha256(bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(ub::sha256(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex(ub::sha256(bytes(std::string(1000000, 'a')))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecewiseEqualsWhole) {
    std::string text(200, 'x');
    for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 7);
    ub::Sha256 s;
    for (std::size_t i = 0; i < text.size(); i += 13) s.update(bytes(text.substr(i, 13)));
    EXPECT_EQ(s.finish(), ub::sha256(bytes(text)));
}

// RFC 4231, test cases 1, 2, 4, 6 and 7 (6 and 7: a key longer than a block).
TEST(HmacSha256, Rfc4231Vectors) {
    EXPECT_EQ(hex(ub::hmac_sha256(bytes(std::string(20, '\x0b')), bytes("Hi There"))),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex(ub::hmac_sha256(bytes("Jefe"), bytes("what do ya want for nothing?"))),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    std::string key4;
    for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
    EXPECT_EQ(hex(ub::hmac_sha256(bytes(key4), bytes(std::string(50, '\xcd')))),
              "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    std::string long_key(131, '\xaa');
    EXPECT_EQ(hex(ub::hmac_sha256(bytes(long_key),
                                  bytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(hex(ub::hmac_sha256(bytes(long_key),
                                  bytes("This is a test using a larger than block-size key and a larger "
                                        "than block-size data. The key needs to be hashed before being "
                                        "used by the HMAC algorithm."))),
              "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

}  // namespace
