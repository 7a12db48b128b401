// libFuzzer: `userbridge run` arguments and placeholder substitution.
// Input: arguments separated by NULs; each is also substituted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/run_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> argv(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) argv.emplace_back();
        else argv.back() += static_cast<char>(data[i]);
    }
    (void)ub::cli::parse_run_args(argv, "/usr/libexec/userbridge-helper");
    static const std::vector<ub::cli::NicValues> nics = {
        {6, "tap0", "52:00:00:00:00:01", "fe:00:00:00:00:01", 1500, "6", 1},
        {7, "tap1", "52:00:00:00:00:02", "fe:00:00:00:00:02", 9000, "7:8", 2}};
    for (const std::string& a : argv) (void)ub::cli::substitute(a, nics);
    return 0;
}
