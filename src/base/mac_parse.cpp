// parse_mac alone: the ACL's mac= values, labels and the CLI's input are
// read by userbridged and the CLI; the helper only writes MACs (mac.cpp),
// and so links no parser of them.
#include "base/mac.h"

namespace ub {

Result<Mac> parse_mac(std::string_view text, int* len_out) {
    Mac mac{};
    int len = 0;
    auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::size_t i = 0;
    while (true) {
        if (len == 6) return Error::msg("more than 6 bytes");
        if (i + 2 > text.size() || hex(text[i]) < 0 || hex(text[i + 1]) < 0)
            return Error::msg("expected hex byte pairs separated by ':'");
        mac[static_cast<std::size_t>(len++)] =
            static_cast<std::uint8_t>(hex(text[i]) * 16 + hex(text[i + 1]));
        i += 2;
        if (i == text.size()) break;
        if (text[i] != ':') return Error::msg("expected hex byte pairs separated by ':'");
        ++i;
    }
    if (len_out) *len_out = len;
    return mac;
}

}  // namespace ub
