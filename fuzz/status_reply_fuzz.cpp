// libFuzzer: the CLI's decoder of userbridged's status reply on arbitrary
// bytes; what it accepts must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/seen_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = ub::protocol::decode_seen_reply(in);
    if (r.ok() && ub::protocol::encode(*r) != in) std::abort();
    return 0;
}
