#include "base/record_value.h"

namespace ub::record {

namespace {

bool plain(std::string_view v) {
    if (v.empty() || v.size() > kMaxValueBytes) return false;
    for (char c : v) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '+' || c == '@' || c == ':' || c == '/' ||
                  c == ',' || c == '?';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string escape(std::string_view raw) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    std::string_view kept = raw.substr(0, kMaxValueBytes);
    for (unsigned char c : kept) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    if (kept.size() < raw.size()) out += "...";
    return out;
}

std::string value(std::string_view raw, Quoting quoting) {
    if (quoting == Quoting::IfNeeded && plain(raw)) return std::string(raw);
    return '"' + escape(raw) + '"';
}

void append(std::string& line, std::string_view key, std::string_view raw, Quoting quoting) {
    line += ' ';
    line += key;
    line += '=';
    line += value(raw, quoting);
}

}  // namespace ub::record
