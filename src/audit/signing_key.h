// The per-region audit signing key: Ed25519 through OpenSSL 3 EVP_PKEY.
//
// The private key exists in plaintext only in memory (OpenSSL's key object; the raw bytes are
// wiped after use). At rest it is wrapped under the region's root key (RootKey::Wrap, with the
// context "meridian:audit-signing-key:<region>") in <dir>/audit-signing-key.wrapped, mode 0600.
// The public key is published as PEM (SubjectPublicKeyInfo) in <dir>/audit-public-key.pem; a
// verifier should use a copy of it kept outside the audit directory.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/root_key.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace meridian::audit {

class AuditPublicKey {
 public:
  static Result<AuditPublicKey> FromPem(std::string_view pem);

  bool Verify(ByteView message, ByteView signature) const;
  std::string Pem() const;
  // Lower-case hex SHA-256 of the raw 32-byte public key; digests name the key by it.
  const std::string& Fingerprint() const { return fingerprint_; }

 private:
  friend class AuditSigningKey;
  explicit AuditPublicKey(std::shared_ptr<EVP_PKEY> key);
  std::shared_ptr<EVP_PKEY> key_;
  std::string fingerprint_;
};

class AuditSigningKey {
 public:
  // Loads <directory>/audit-signing-key.wrapped, unwrapping it with `root_key`, or creates a new
  // key when the directory has none. (Re)writes audit-public-key.pem when it is missing or does
  // not match. A wrapped key that does not unwrap (another root key, an altered file) is an error,
  // never silently replaced.
  static Result<AuditSigningKey> LoadOrCreate(const std::string& directory, std::string_view region,
                                              const crypto::RootKey& root_key);
  // A fresh key held only in memory (tests, benchmarks).
  static Result<AuditSigningKey> Generate();

  Result<Bytes> Sign(ByteView message) const;
  const AuditPublicKey& public_key() const { return public_key_; }

 private:
  AuditSigningKey(std::shared_ptr<EVP_PKEY> private_key, AuditPublicKey public_key)
      : private_key_(std::move(private_key)), public_key_(std::move(public_key)) {}
  static Result<AuditSigningKey> FromPrivate(std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<EVP_PKEY> private_key_;
  AuditPublicKey public_key_;
};

}  // namespace meridian::audit
