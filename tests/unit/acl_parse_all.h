// A whole ACL text's lines in a vector, for the tests. The loader, and so
// the helper, takes them one at a time (policy::parse_each) and never
// needs this.
#pragma once

#include <string_view>
#include <vector>

#include "policy/acl.h"
#include "policy/daemon_options.h"

namespace ub::policy {

// `daemon`: userbridged's reading by default; nullptr: the helper's.
inline Result<std::vector<Line>> parse(std::string_view text, std::string_view origin,
                                       const DaemonOptions* daemon = &daemon_options()) {
    std::vector<Line> out;
    UB_TRYV(parse_each(text, origin, [&](Line&& l) { out.push_back(std::move(l)); }, nullptr, daemon));
    return out;
}

}  // namespace ub::policy
