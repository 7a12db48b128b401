// libFuzzer: the clients' decoder of userbridged's reply on arbitrary bytes
// (a socket a VMM was pointed at by mistake may send anything); what it
// accepts must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "protocol/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = ub::protocol::decode_reply(in);
    if (!r.ok()) return 0;
    auto again = ub::protocol::encode(*r);
    if (std::memcmp(again.data(), data, ub::protocol::kReplySize) != 0) std::abort();
    return 0;
}
