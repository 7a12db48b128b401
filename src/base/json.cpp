#include "base/json.h"

#include <cstdio>

namespace ub::json {

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_len(std::string_view s, std::size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return 0;
    return n;
}

void indent(std::string& out, int depth) {
    out += '\n';
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

}  // namespace

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else if (std::size_t n = utf8_len(s, i); n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        } else if (n == 0) {
            out += "\\ufffd";
        } else {
            out += static_cast<char>(c);
        }
        ++i;
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
