#include "base/names.h"

#include <cstdio>

namespace ub {

namespace {
bool is_kernel_space(unsigned char c) {
    // The kernel's isspace(): space, \t \n \v \f \r, plus 0xa0 (Latin-1 NBSP).
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}
}  // namespace

std::string ifname_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > kMaxIfnameLen)
        return "is " + std::to_string(name.size()) + " bytes long, the limit is 15";
    if (name == "." || name == "..") return "is not a valid interface name";
    for (unsigned char c : name) {
        if (c == '/') return "contains '/'";
        if (c == ':') return "contains ':'";
        if (is_kernel_space(c)) return "contains whitespace";
        if (c < 0x20 || c >= 0x7f) return "contains a byte that is not printable ASCII";
    }
    return {};
}

std::string printable(std::string_view bytes, std::size_t max_len) {
    std::string out;
    for (unsigned char c : bytes) {
        if (out.size() >= max_len) {
            out += "...";
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

std::string vm_name_problem(std::string_view name) {
    if (name.size() > kMaxVmNameLen)
        return "is longer than " + std::to_string(kMaxVmNameLen) + " bytes";
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '+' || c == '@' || c == ':';
        if (!ok) return "may hold only letters, digits and . _ - + @ :";
    }
    return {};
}

}  // namespace ub
