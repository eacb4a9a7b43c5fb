// TOTP (RFC 6238) over HMAC-SHA-1, as AWS virtual MFA devices use it, and RFC 4648 Base32.
//
// A virtual MFA device holds a random 20-byte seed; the authenticator app receives it as an
// unpadded Base32 string (AWS's Base32StringSeed). A code is HOTP(seed, floor(t / 30)) truncated
// to 6 decimal digits (RFC 4226 section 5.3). HMAC runs through OpenSSL 3's EVP_MAC, fetched once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace meridian::iam {

inline constexpr int kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;

// RFC 4648 Base32, upper case, without padding; Decode accepts upper or lower case and ignores
// trailing '=' padding. nullopt on any other character.
std::string Base32Encode(ByteView data);
std::optional<Bytes> Base32Decode(std::string_view text);

// HOTP(seed, counter) as a zero-padded decimal string of `digits` digits (6..8).
std::string HotpCode(ByteView seed, uint64_t counter, int digits = kTotpDigits);
// The TOTP code for the 30-second step containing `epoch_seconds`.
std::string TotpCode(ByteView seed, int64_t epoch_seconds, int digits = kTotpDigits);
// The step counter (epoch_seconds / 30) whose code equals `code`, searching the current step and
// `window` steps either side (clock drift); nullopt if none. Compared in constant time.
std::optional<uint64_t> MatchTotp(ByteView seed, std::string_view code, int64_t epoch_seconds, int window = 1);

}  // namespace meridian::iam
