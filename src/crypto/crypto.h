// Cryptographic primitives, all through OpenSSL 3 EVP. Algorithms are fetched once per process
// (fetching per call is the main cost of small operations in OpenSSL 3); contexts are reused
// per thread. Nothing here logs or keeps key material beyond the call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace meridian::crypto {

// Owns sensitive bytes (key material, plaintext data keys); wiped with OPENSSL_cleanse when
// destroyed or reassigned. Move-only.
class SecureBytes {
 public:
  SecureBytes() = default;
  explicit SecureBytes(size_t n) : data_(n) {}
  explicit SecureBytes(ByteView v) : data_(v.begin(), v.end()) {}
  ~SecureBytes() { Wipe(); }
  SecureBytes(SecureBytes&& o) noexcept : data_(std::move(o.data_)) { o.data_.clear(); }
  SecureBytes& operator=(SecureBytes&& o) noexcept {
    if (this != &o) {
      Wipe();
      data_ = std::move(o.data_);
      o.data_.clear();
    }
    return *this;
  }
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;
  SecureBytes Clone() const { return SecureBytes(view()); }

  uint8_t* data() { return data_.data(); }
  const uint8_t* data() const { return data_.data(); }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  ByteView view() const { return data_; }
  void Wipe();

 private:
  Bytes data_;
};

void Cleanse(void* p, size_t n);
inline void Cleanse(Bytes& b) { Cleanse(b.data(), b.size()); }
inline void Cleanse(std::string& s) { Cleanse(s.data(), s.size()); }

// Cryptographically secure random bytes (OpenSSL's DRBG). Aborts if the DRBG fails.
void RandomFill(std::span<uint8_t> out);
Bytes RandomBytes(size_t n);
SecureBytes RandomSecret(size_t n);

// A random (version 4, RFC 4122) UUID in lower-case text form: key ids, request ids, event ids,
// secret version ids.
std::string RandomUuid();
// The version 4 UUID text (8-4-4-4-12, lower case) of 16 random bytes: sets the version and
// variant bits, then formats. The one home of the format (RandomUuid, PooledRandomUuid).
std::string UuidV4FromRandomBytes(const uint8_t (&random)[16]);

// Constant-time equality (CRYPTO_memcmp); false if the lengths differ.
bool ConstantTimeEquals(ByteView a, ByteView b);

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest Sha256(ByteView data);
Sha256Digest HmacSha256(ByteView key, ByteView data);

// HKDF-SHA256 (RFC 5869), extract-then-expand.
SecureBytes HkdfSha256(ByteView ikm, ByteView salt, ByteView info, size_t length);

// scrypt (RFC 7914), the memory-hard KDF used to seal root key files.
struct ScryptParams {
  uint64_t n = 1u << 15;  // 32 MiB with r=8
  uint32_t r = 8;
  uint32_t p = 1;
};
Result<SecureBytes> Scrypt(std::string_view passphrase, ByteView salt, const ScryptParams& params,
                           size_t length);

// AES-256-GCM with a 12-byte IV and a 16-byte tag.
inline constexpr size_t kAesGcmKeySize = 32;
inline constexpr size_t kAesGcmIvSize = 12;
inline constexpr size_t kAesGcmTagSize = 16;

// Encrypts plaintext; writes ciphertext (same length as plaintext) then the tag to `out`.
Status AesGcmSeal(ByteView key, ByteView iv, ByteView aad, ByteView plaintext, Bytes& out);
// Decrypts ciphertext||tag; returns false if authentication fails (nothing is written then).
bool AesGcmOpen(ByteView key, ByteView iv, ByteView aad, ByteView ciphertext_and_tag,
                SecureBytes& plaintext);

}  // namespace meridian::crypto
