// Status and Result<T>: explicit error propagation for every component.
//
// A Status is either OK or an error carrying an AWS-style error name (the `__type` that clients
// see, e.g. "NotFoundException"), a message that says what to fix, and the HTTP status code AWS
// documents for that error. Components below the server return these; the server renders them.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace meridian {

class Status {
 public:
  Status() = default;  // OK
  Status(std::string type, std::string message, int http_status = 400)
      : type_(std::move(type)), message_(std::move(message)), http_status_(http_status) {}

  static Status Ok() { return Status(); }

  bool ok() const { return type_.empty(); }
  const std::string& type() const { return type_; }
  const std::string& message() const { return message_; }
  int http_status() const { return http_status_; }
  std::string ToString() const { return ok() ? "OK" : type_ + ": " + message_; }

 private:
  std::string type_;
  std::string message_;
  int http_status_ = 200;
};

// Errors shared by several services (names and status codes as AWS documents them).
namespace errors {
inline Status Validation(std::string msg) { return {"ValidationException", std::move(msg), 400}; }
inline Status NotFound(std::string msg) { return {"NotFoundException", std::move(msg), 400}; }
inline Status Internal(std::string msg) { return {"KMSInternalException", std::move(msg), 500}; }
inline Status AccessDenied(std::string msg) { return {"AccessDeniedException", std::move(msg), 400}; }
}  // namespace errors

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace meridian

// Propagate a non-OK Status from an expression returning Status.
#define MERIDIAN_RETURN_IF_ERROR(expr)        \
  do {                                        \
    ::meridian::Status _st = (expr);          \
    if (!_st.ok()) return _st;                \
  } while (0)

#define MERIDIAN_CONCAT_INNER(a, b) a##b
#define MERIDIAN_CONCAT(a, b) MERIDIAN_CONCAT_INNER(a, b)
// MERIDIAN_ASSIGN_OR_RETURN(auto x, ExprReturningResult());
#define MERIDIAN_ASSIGN_OR_RETURN(lhs, expr) \
  MERIDIAN_ASSIGN_OR_RETURN_IMPL(MERIDIAN_CONCAT(_res_, __LINE__), lhs, expr)
#define MERIDIAN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
