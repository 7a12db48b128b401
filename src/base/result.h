// Errors as values.
//
// Every fallible operation returns Result<T>: either a value or an Error that
// names the operation, the object it acted on and, where a syscall failed, the
// errno. Library code never prints and never exits; only a program's main()
// turns an Error into a message, a log record and an exit code.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace ub {

class Error {
public:
    // A failure that is not a syscall's (bad input, policy, protocol).
    static Error msg(std::string text) { return Error(std::move(text), 0); }
    // A syscall failure: "what: strerror(errno)". Captures errno now.
    static Error sys(std::string what) { return Error(std::move(what), errno); }
    static Error sys(std::string what, int err) { return Error(std::move(what), err); }

    int code() const { return errno_; }
    // The one-line text a user sees.
    std::string message() const;
    // Prefix context: "context: inner message", keeping errno.
    Error context(const std::string& ctx) const { return Error(ctx + ": " + what_, errno_); }

private:
    Error(std::string what, int err) : what_(std::move(what)), errno_(err) {}
    std::string what_;
    int errno_;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
    Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

    bool ok() const { return v_.index() == 0; }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const T& value() const& { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Ok) {}                                         // NOLINT
    Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
    bool ok() const { return ok_; }
    const Error& error() const { return err_; }

private:
    Error err_ = Error::msg("");
    bool ok_ = true;
};

}  // namespace ub

// Propagate an error to the caller; evaluates to the value otherwise.
#define UB_TRY(expr)                                      \
    ({                                                    \
        auto _ub_r = (expr);                              \
        if (!_ub_r.ok()) return std::move(_ub_r).error(); \
        std::move(_ub_r).value();                         \
    })

// For Result<void>.
#define UB_TRYV(expr)                                 \
    do {                                              \
        auto _ub_r = (expr);                          \
        if (!_ub_r.ok()) return _ub_r.error();        \
    } while (0)
