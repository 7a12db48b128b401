#include <gtest/gtest.h>

#include <regex>

#include "base/record_value.h"

using ub::record::escape;
using ub::record::kMaxValueBytes;
using ub::record::Quoting;
using ub::record::value;

TEST(RecordValue, PlainValuesStayAsTheyWere) {
    for (const char* v : {"ubalice", "?", "br0", "tap4711", "52:54:00:12:34:56", "web-1.lab@x+y",
                          "/etc/qemu/bridge.conf:4", "daemon"})
        EXPECT_EQ(value(v), v) << v;
}

TEST(RecordValue, AlwaysQuotedFieldsKeepTheirQuotes) {
    EXPECT_EQ(value("br0", Quoting::Always), "\"br0\"");
    EXPECT_EQ(value("allowed by /etc/qemu/bridge.conf:4, mode setuid", Quoting::Always),
              "\"allowed by /etc/qemu/bridge.conf:4, mode setuid\"");
}

TEST(RecordValue, AnythingElseIsOneQuotedValue) {
    EXPECT_EQ(value(""), "\"\"");
    EXPECT_EQ(value("a b"), "\"a b\"");
    EXPECT_EQ(value("x uid=0"), "\"x uid=0\"");
    EXPECT_EQ(value("say \"hi\""), "\"say \\\"hi\\\"\"");
    EXPECT_EQ(value("back\\slash"), "\"back\\\\slash\"");
    EXPECT_EQ(value("two\nrecords"), "\"two\\x0arecords\"");
    EXPECT_EQ(value("cr\r"), "\"cr\\x0d\"");
    EXPECT_EQ(value(std::string("nul\0x", 5)), "\"nul\\x00x\"");
    EXPECT_EQ(value("esc\x1b[31m"), "\"esc\\x1b[31m\"");
    EXPECT_EQ(value("del\x7f"), "\"del\\x7f\"");
    EXPECT_EQ(value("latin\xff"), "\"latin\\xff\"");
    EXPECT_EQ(value("caf\xc3\xa9"), "\"caf\\xc3\\xa9\"");  // UTF-8 too: ASCII out
}

TEST(RecordValue, JournaldFieldsCarryTheTextBetweenTheQuotes) {
    std::string hostile = "ub\" uid=0 event=grant x=\xff\x1b y";
    EXPECT_EQ(escape(hostile), "ub\\\" uid=0 event=grant x=\\xff\\x1b y");
    EXPECT_EQ(value(hostile), '"' + escape(hostile) + '"');
}

TEST(RecordValue, LongValuesAreCutWithAMark) {
    std::string big(10000, 'a');
    EXPECT_EQ(escape(big), std::string(kMaxValueBytes, 'a') + "...");
    EXPECT_EQ(value(big), '"' + std::string(kMaxValueBytes, 'a') + "...\"");
    EXPECT_EQ(value(std::string(kMaxValueBytes, 'a')), std::string(kMaxValueBytes, 'a'));
    // Four output bytes for each input byte at most, whatever the input.
    EXPECT_EQ(escape(std::string(10000, '\x01')).size(), kMaxValueBytes * 4 + 3);
}

// Every byte value, alone and in company: the result is one token of
// printable ASCII, bare or quoted with only \" \\ \xNN inside, never a
// space outside the quotes.
TEST(RecordValue, EveryByteGivesOneToken) {
    std::regex one_token(R"re(^([A-Za-z0-9._+@:/,?-]+|"([ !#-\[\]-~]|\\"|\\\\|\\x[0-9a-f]{2})*(\.\.\.)?")$)re");
    for (int b = 0; b < 256; ++b) {
        std::string v(1, static_cast<char>(b));
        for (const std::string& in : {v, "k=" + v + " x=1", v + v + "\"" + v})
            EXPECT_TRUE(std::regex_match(value(in), one_token)) << "byte " << b << ": " << value(in);
    }
}
