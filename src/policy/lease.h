// What a lease= rule gives (acl.h): only userbridged makes leases, so
// only it and the CLI use this, and the helper does not link it.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "base/refusal.h"
#include "policy/acl.h"

namespace ub::policy {

// Back, in the largest unit that divides it: "8h".
std::string format_duration(std::uint32_t seconds);

// A refusal when a lease is asked for and the deciding rule gives none
// (no lease=), a shorter one, or pins a MAC; else the lease's length in seconds (0
// asked: the rule's longest).
std::variant<std::uint32_t, Refusal> lease_length(const Decision& d, std::uint32_t asked);

}  // namespace ub::policy
