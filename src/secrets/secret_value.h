// SecretValue: the protected part of one secret version, in memory only.
//
// A version holds exactly one of a string (SecretString) or binary (SecretBinary) value. The
// bytes live in SecureBytes, so they are wiped when the value is destroyed; they reach storage
// only sealed (sealed_value.h) and reach the wire only in a GetSecretValue-style response.
#pragma once

#include <cstdint>

#include "crypto/crypto.h"

namespace meridian::secrets {

// The largest SecretString or SecretBinary AWS accepts, in bytes.
inline constexpr size_t kMaxSecretValueSize = 65536;

struct SecretValue {
  enum class Kind : uint8_t { kString = 1, kBinary = 2 };
  Kind kind = Kind::kString;
  crypto::SecureBytes bytes;

  static SecretValue String(ByteView utf8) { return {Kind::kString, crypto::SecureBytes(utf8)}; }
  static SecretValue Binary(ByteView data) { return {Kind::kBinary, crypto::SecureBytes(data)}; }
  bool is_string() const { return kind == Kind::kString; }
  // Same kind and same bytes, compared in constant time.
  bool SameAs(const SecretValue& other) const {
    return kind == other.kind && crypto::ConstantTimeEquals(bytes.view(), other.bytes.view());
  }
  SecretValue Clone() const { return {kind, bytes.Clone()}; }
};

}  // namespace meridian::secrets
