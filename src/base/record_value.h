// Values in key=value records: the audit records of the helper and the
// daemon, their journald fields, a tap's label, `userbridge status`. One
// escaping for all of them, so that a value from outside (a user name from
// NSS, which LDAP lets hold any byte but ':' and newline; an error quoting
// caller input) is one value wherever it appears and cannot forge another
// key or, with a newline, another record. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ub::record {

// Input beyond this is cut: a record stays a few KiB whatever it carries.
inline constexpr std::size_t kMaxValueBytes = 256;

// The bytes as printable ASCII: '\' and '"' get a backslash, every byte
// outside 0x20..0x7e becomes \xNN (lowercase hex); past kMaxValueBytes of
// input the rest is dropped and "..." appended. What a journald field
// carries, and what a record's value carries between its quotes.
std::string escape(std::string_view raw);

enum class Quoting {
    IfNeeded,  // bare when plain: letters, digits and . _ - + @ : / , ?
    Always,    // the fields that always were quoted (bridge, rule, detail)
};

// escape(raw), in double quotes unless it is plain (and not empty) and
// `quoting` allows it bare. Plain values come out as they went in.
std::string value(std::string_view raw, Quoting quoting = Quoting::IfNeeded);

// Appends " key=value(raw)".
void append(std::string& line, std::string_view key, std::string_view raw,
            Quoting quoting = Quoting::IfNeeded);

}  // namespace ub::record
