// ECDSA footer signatures (P-256/SHA-256, P-384/SHA-384) of ESDK messages.
// spec: data-format/message-footer.md, framework/algorithm-suites.md#signature-algorithm
//
// The message is hashed with SignatureHasher (a plain streaming digest, so hashing can run on a
// different thread than encryption); the digest is then signed or verified with the key.
#pragma once

#include <memory>

#include "common/bytes.h"
#include "common/status.h"
#include "sdk/algorithm_suite.h"
#include "sdk/pkey.h"

struct evp_md_ctx_st;

namespace meridian::sdk {

// A fresh signing key on the suite's curve.
Result<PKey> GenerateSigningKey(SignatureCurve curve);
// The compressed SEC1 point (33 bytes for P-256, 49 for P-384), as stored base64-encoded in the
// encryption context under aws-crypto-public-key. spec: framework/default-cmm.md
Result<Bytes> CompressedPublicKey(const PKey& key);
// Parses a compressed (or uncompressed) SEC1 point on `curve`; fails if it is not on the curve.
Result<PKey> PublicKeyFromPoint(SignatureCurve curve, ByteView point);

class SignatureHasher {
 public:
  explicit SignatureHasher(SignatureCurve curve);
  ~SignatureHasher();
  SignatureHasher(const SignatureHasher&) = delete;
  SignatureHasher& operator=(const SignatureHasher&) = delete;
  void Update(ByteView data);
  // The digest of everything passed to Update. Call once.
  Bytes Final();

 private:
  evp_md_ctx_st* ctx_;
};

// DER-encoded ECDSA signature over `digest`.
Result<Bytes> SignDigest(const PKey& key, ByteView digest);
bool VerifyDigest(const PKey& key, ByteView digest, ByteView der_signature);

}  // namespace meridian::sdk
