// libFuzzer: the datagram framing check on arbitrary bytes, and the decoder
// of the kernel's NLMSG_ERROR replies (and their extended ACK attributes) on
// what libmnl's framing lets through, which includes a length past the
// buffer (decode_ack refuses it).
#include <libmnl/libmnl.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "net/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An aligned copy, exactly as long as the input: ASan sees any read past it.
    std::vector<uint32_t> words((size + 3) / 4);
    auto* buf = reinterpret_cast<char*>(words.data());
    if (size) std::memcpy(buf, data, size);
    (void)ub::net::well_framed(buf, size);
    auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    if (!mnl_nlmsg_ok(nlh, static_cast<int>(size))) return 0;
    std::string why;
    (void)ub::net::decode_ack(nlh, size, why);
    return 0;
}
