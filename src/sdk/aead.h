// AES-GCM and HKDF for the SDK, through OpenSSL 3 EVP with every algorithm fetched once per
// process. A GcmContext keeps one EVP_CIPHER_CTX keyed once; each Seal/Open changes only the IV,
// so framed bodies pay the key schedule once per message instead of once per frame.
#pragma once

#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "common/status.h"
#include "sdk/algorithm_suite.h"

struct evp_cipher_ctx_st;
struct evp_md_st;

namespace meridian::sdk {

// The SHA-2 digest for a KDF hash (nullptr for kIdentity); fetched once.
const evp_md_st* DigestFor(KdfHash hash);

class GcmContext {
 public:
  GcmContext();
  ~GcmContext();
  GcmContext(const GcmContext&) = delete;
  GcmContext& operator=(const GcmContext&) = delete;

  // Keys the context (16/24/32-byte key selects AES-128/192/256) for one direction. The key is
  // copied into OpenSSL's key schedule; the caller may wipe its copy afterwards.
  Status InitEncrypt(ByteView key);
  Status InitDecrypt(ByteView key);

  // Encrypts `plaintext` to `ciphertext_out` (same length; may alias plaintext) with a 12-byte IV;
  // writes the 16-byte tag to `tag_out`.
  Status Seal(ByteView iv, ByteView aad, ByteView plaintext, uint8_t* ciphertext_out, uint8_t* tag_out);
  // Decrypts and verifies. On failure returns false and wipes `plaintext_out`.
  bool Open(ByteView iv, ByteView aad, ByteView ciphertext, ByteView tag, uint8_t* plaintext_out);

 private:
  Status Init(ByteView key, bool encrypt);
  evp_cipher_ctx_st* ctx_;
  bool encrypt_ = true;
  bool keyed_ = false;
};

// HKDF (RFC 5869) with the given SHA-2 hash; an empty salt means HashLen zero bytes.
// Uses a per-thread EVP_KDF_CTX per hash.
Status Hkdf(KdfHash hash, ByteView ikm, ByteView salt, ByteView info, uint8_t* out, size_t length);

}  // namespace meridian::sdk
