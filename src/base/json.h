// JSON output for the CLI's --json (docs/JSON.md): a value tree and its
// text. Pure; no parser (nothing here reads JSON).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ub::json {

class Value;
using Array = std::vector<Value>;
// Members in the order they were added: the output reads as the schema does.
using Object = std::vector<std::pair<std::string, Value>>;

class Value {
public:
    Value() : v_(nullptr) {}
    Value(std::nullptr_t) : v_(nullptr) {}
    Value(bool b) : v_(b) {}
    Value(int n) : v_(static_cast<std::int64_t>(n)) {}
    Value(unsigned n) : v_(static_cast<std::int64_t>(n)) {}
    Value(long n) : v_(static_cast<std::int64_t>(n)) {}
    Value(long long n) : v_(static_cast<std::int64_t>(n)) {}
    Value(unsigned long n) : v_(static_cast<std::int64_t>(n)) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(Array a) : v_(std::make_shared<Array>(std::move(a))) {}
    Value(Object o) : v_(std::make_shared<Object>(std::move(o))) {}

    // Appends to an array or an object (a member); a no-op on anything else.
    void push(Value v);
    void set(std::string key, Value v);

    // Two-space indented text, ending without a newline.
    std::string dump() const;

private:
    void dump_to(std::string& out, int depth) const;
    std::variant<std::nullptr_t, bool, std::int64_t, std::string, std::shared_ptr<Array>, std::shared_ptr<Object>> v_;
};

// `s` as a JSON string, quoted; bytes that are not valid UTF-8 become U+FFFD.
std::string quote(std::string_view s);

}  // namespace ub::json
