// PKey: shared ownership of an OpenSSL EVP_PKEY (reference counted by OpenSSL), plus PEM/DER
// loading. Private key bytes are never copied out of OpenSSL by this type.
#pragma once

#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

struct evp_pkey_st;

namespace meridian::sdk {

class PKey {
 public:
  PKey() = default;
  explicit PKey(evp_pkey_st* owned) : pkey_(owned) {}  // takes ownership of one reference
  PKey(const PKey& o);
  PKey& operator=(const PKey& o);
  PKey(PKey&& o) noexcept : pkey_(o.pkey_), private_(o.private_) { o.pkey_ = nullptr; }
  PKey& operator=(PKey&& o) noexcept;
  ~PKey();

  evp_pkey_st* get() const { return pkey_; }
  explicit operator bool() const { return pkey_ != nullptr; }
  bool is_rsa() const;
  bool has_private() const { return private_; }

  // PEM ("-----BEGIN PRIVATE KEY-----", "RSA PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY") or DER.
  static Result<PKey> LoadPrivate(ByteView pem_or_der);
  static Result<PKey> LoadPublic(ByteView pem_or_der);
  // PEM encodings (SubjectPublicKeyInfo / PKCS#8).
  Result<std::string> PublicPem() const;

 private:
  evp_pkey_st* pkey_ = nullptr;
  bool private_ = false;
  friend struct PKeyAccess;
};

}  // namespace meridian::sdk
