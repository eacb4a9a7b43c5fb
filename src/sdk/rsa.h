// RSA key wrapping for the raw RSA keyring. spec: framework/raw-rsa-keyring.md
// OAEP uses MGF1 with the same hash as the OAEP hash (as the other ESDKs do).
#pragma once

#include <optional>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/crypto.h"
#include "sdk/pkey.h"

namespace meridian::sdk {

enum class RsaPadding { kPkcs1, kOaepSha1, kOaepSha256, kOaepSha384, kOaepSha512 };

// Accepts "pkcs1", "oaep-sha1", "oaep-sha256" (also "oaep-mgf1-sha256"), ...
std::optional<RsaPadding> ParseRsaPadding(std::string_view text);

Result<Bytes> RsaEncrypt(const PKey& public_key, RsaPadding padding, ByteView plaintext);
Result<crypto::SecureBytes> RsaDecrypt(const PKey& private_key, RsaPadding padding, ByteView ciphertext);

}  // namespace meridian::sdk
