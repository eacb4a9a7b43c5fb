// Random passwords with the options of AWS's GetRandomPassword.
//
// Characters are drawn uniformly from the allowed set with the OpenSSL DRBG (no modulo bias).
// When every included type is required, candidates lacking a type are drawn again, so the result
// is uniform over the passwords that satisfy the requirement.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "crypto/crypto.h"

namespace meridian::secrets {

inline constexpr int64_t kMaxPasswordLength = 4096;

struct PasswordOptions {
  int64_t length = 32;
  std::string exclude_characters;
  bool exclude_numbers = false;
  bool exclude_punctuation = false;
  bool exclude_uppercase = false;
  bool exclude_lowercase = false;
  bool include_space = false;
  // At least one character of each included type (lowercase, uppercase, digit, punctuation).
  bool require_each_included_type = true;
};

// InvalidParameterException when the options leave no character to choose from, or when the
// length is too short to hold one character of every required type.
Result<crypto::SecureBytes> GenerateRandomPassword(const PasswordOptions& options);

}  // namespace meridian::secrets
