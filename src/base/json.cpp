#include "base/json.h"

#include <cstdio>

namespace ub::json {

namespace {

// The length of the valid UTF-8 sequence at s[i], and its code point in
// `cp`; or 0. Overlong forms, surrogates and code points past U+10FFFF are
// not valid (RFC 3629): a lenient reader could take an overlong one for
// an ASCII quote or backslash.
std::size_t utf8_len(std::string_view s, std::size_t i, char32_t& cp) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
        auto b = static_cast<unsigned char>(s[i + k]);
        if ((b >> 6) != 2) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    static constexpr char32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kLeast[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
    return n;
}

void indent(std::string& out, int depth) {
    out += '\n';
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

}  // namespace

std::string quote(std::string_view s) {
    std::string out = "\"";
    auto escaped = [&out](unsigned code) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", code);
        out += buf;
    };
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        char32_t cp = 0;
        std::size_t n = utf8_len(s, i, cp);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (n == 0) {
            out += "\\ufffd";
            n = 1;
        } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            escaped(cp);  // C0, DEL and C1 (CSI among them)
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    return out + "\"";
}

void Value::push(Value v) {
    if (auto* a = std::get_if<std::shared_ptr<Array>>(&v_)) (*a)->push_back(std::move(v));
}

void Value::set(std::string key, Value v) {
    if (auto* o = std::get_if<std::shared_ptr<Object>>(&v_)) (*o)->emplace_back(std::move(key), std::move(v));
}

std::string Value::dump() const {
    std::string out;
    dump_to(out, 0);
    return out;
}

void Value::dump_to(std::string& out, int depth) const {
    if (std::holds_alternative<std::nullptr_t>(v_)) out += "null";
    else if (const bool* b = std::get_if<bool>(&v_)) out += *b ? "true" : "false";
    else if (const std::int64_t* n = std::get_if<std::int64_t>(&v_)) out += std::to_string(*n);
    else if (const std::string* s = std::get_if<std::string>(&v_)) out += quote(*s);
    else if (const auto* a = std::get_if<std::shared_ptr<Array>>(&v_)) {
        if ((*a)->empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (std::size_t i = 0; i < (*a)->size(); ++i) {
            if (i) out += ',';
            indent(out, depth + 1);
            (**a)[i].dump_to(out, depth + 1);
        }
        indent(out, depth);
        out += ']';
    } else if (const auto* o = std::get_if<std::shared_ptr<Object>>(&v_)) {
        if ((*o)->empty()) {
            out += "{}";
            return;
        }
        out += '{';
        for (std::size_t i = 0; i < (*o)->size(); ++i) {
            if (i) out += ',';
            indent(out, depth + 1);
            out += quote((**o)[i].first) + ": ";
            (**o)[i].second.dump_to(out, depth + 1);
        }
        indent(out, depth);
        out += '}';
    }
}

}  // namespace ub::json
