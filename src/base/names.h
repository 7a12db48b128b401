// What a request names and how big it may be: interface names as the
// kernel accepts them (minus what we refuse on purpose), VM names, queue
// counts; and the printable form of untrusted bytes for messages. Pure,
// and shared by every layer that reads a request.
#pragma once

#include <string>
#include <string_view>

namespace ub {

inline constexpr std::size_t kMaxIfnameLen = 15;  // IFNAMSIZ - 1

// Empty string when `name` is a valid interface name, otherwise why not.
//
// The kernel's dev_valid_name() refuses empty names, names of IFNAMSIZ bytes
// or more, "." and "..", and names containing '/', ':' or whitespace. We also
// refuse control characters and bytes outside printable ASCII: no real bridge
// needs them and they would corrupt log lines and error messages. The length
// check is the one CVE-2019-13164 was about: QEMU's helper compared a
// truncated copy of the name against the ACL.
std::string ifname_problem(std::string_view name);

inline constexpr std::size_t kMaxVmNameLen = 63;

// The most queues one tap may have: any request may ask, any rule grant.
inline constexpr int kMaxQueues = 64;

// Empty string when `name` is a valid VM name: up to 63 bytes of letters,
// digits and . _ - + @ : (it goes into log records, interface aliases and
// the MAC derivation, so nothing that could need quoting). Empty is valid.
std::string vm_name_problem(std::string_view name);

// Printable form of untrusted bytes for messages: non-printable bytes become
// \xNN, and the result is cut to a bounded length.
std::string printable(std::string_view bytes, std::size_t max_len = 64);

}  // namespace ub
