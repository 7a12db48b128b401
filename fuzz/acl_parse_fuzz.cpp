// libFuzzer: the ACL grammar and decision on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/acl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto lines = ub::policy::parse(text, "fuzz.conf");
    if (!lines.ok()) return 0;
    std::vector<ub::policy::Rule> rules;
    auto name = std::make_shared<const std::string>("fuzz.conf");
    for (const auto& l : *lines)
        if (l.verb != ub::policy::Verb::Include)
            rules.push_back({l.verb, l.arg == "all" ? "" : l.arg, name, l.lineno});
    (void)ub::policy::decide(rules, "br0");
    return 0;
}
