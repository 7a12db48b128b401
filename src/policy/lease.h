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

// Whether userbridged can put its exact checksum guard (net/csum_guard.h)
// on a port: it could not load it, or it can.
enum class ChecksumGuard { Missing, Exact };

// A refusal when a lease is asked for and the deciding rule gives none
// (no lease=), a shorter one, or pins a MAC with no checksum guard to
// hold the pin; else the lease's length in seconds (0 asked: the rule's
// longest).
std::variant<std::uint32_t, Refusal> lease_length(const Decision& d, std::uint32_t asked, ChecksumGuard guard);

}  // namespace ub::policy
