// libFuzzer: the daemon's decoder of its user database process's answers,
// and the process's decoder of questions, on arbitrary bytes. What they
// accept must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/userdb_wire.h"

using namespace ub::protocol::userdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    for (Kind kind : {Kind::UserByUid, Kind::UidByUser, Kind::GidByGroup, Kind::GroupsByUid}) {
        auto a = decode_answer(in, kind);
        if (a.ok() && encode(*a) != in) std::abort();
    }
    auto q = decode_question(in);
    if (q.ok()) {
        auto again = encode(*q);
        if (!again.ok() || *again != in) std::abort();
    }
    return 0;
}
