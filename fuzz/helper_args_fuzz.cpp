// libFuzzer: the helper's argv parser. Input: arguments separated by NULs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/helper_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> argv(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) argv.emplace_back();
        else argv.back() += static_cast<char>(data[i]);
    }
    (void)ub::protocol::parse_helper_args(argv);
    return 0;
}
