// Result<T>: the value of a fallible call or the catalog code that says why it failed.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "parley/proto/errc.hpp"

namespace parley {

/// A failure: a catalog code plus a message for humans (may be empty).
struct Error {
  Errc code = Errc::kInternalError;
  std::string message;
  /// A Parley detail code (0x0F...) naming the cause when the contract's `code` covers
  /// several (0x05040002: token expired or quota exhausted); kOk when there is none.
  Errc detail = Errc::kOk;

  [[nodiscard]] int32_t value() const { return static_cast<int32_t>(code); }
  /// The message, or the catalog description when there is none.
  [[nodiscard]] std::string What() const { return message.empty() ? std::string(Describe(code)) : message; }
};

inline Error MakeError(Errc code, std::string message = {}, Errc detail = Errc::kOk) {
  return Error{code, std::move(message), detail};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  [[nodiscard]] const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  /// kOk when ok, the error's code otherwise.
  [[nodiscard]] Errc code() const { return ok() ? Errc::kOk : error().code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const {
    assert(!ok_);
    return error_;
  }
  [[nodiscard]] Errc code() const { return ok_ ? Errc::kOk : error_.code; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace parley
