#include "sdk/ecdsa.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdlib>

#include "sdk/aead.h"
#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

const char* GroupName(SignatureCurve curve) {
  return curve == SignatureCurve::kP256 ? "P-256" : curve == SignatureCurve::kP384 ? "P-384" : nullptr;
}
KdfHash HashFor(SignatureCurve curve) {
  return curve == SignatureCurve::kP256 ? KdfHash::kSha256 : KdfHash::kSha384;
}
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

}  // namespace

Result<PKey> GenerateSigningKey(SignatureCurve curve) {
  const char* group = GroupName(curve);
  if (!group) return errors::InvalidArgument("suite has no signature curve");
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  if (!k) return errors::Crypto("EC key generation failed");
  return PKey(k);
}

Result<Bytes> CompressedPublicKey(const PKey& key) {
  // Read the uncompressed SEC1 point (04 || X || Y) and compress it: (02 | parity of Y) || X.
  uint8_t buf[133];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof buf, &len) != 1 ||
      len < 3)
    return errors::Crypto("cannot encode EC public key");
  if (buf[0] == 0x02 || buf[0] == 0x03) return Bytes(buf, buf + len);
  if (buf[0] != 0x04 || len % 2 != 1) return errors::Crypto("unexpected EC point encoding");
  size_t coord = (len - 1) / 2;
  Bytes out(1 + coord);
  out[0] = static_cast<uint8_t>(0x02 | (buf[len - 1] & 1));
  std::copy(buf + 1, buf + 1 + coord, out.begin() + 1);
  return out;
}

Result<PKey> PublicKeyFromPoint(SignatureCurve curve, ByteView point) {
  const char* group = GroupName(curve);
  if (!group) return errors::InvalidArgument("suite has no signature curve");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* k = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &k, EVP_PKEY_PUBLIC_KEY, params) != 1 || !k)
    return errors::BadMessage("invalid signature verification key in the encryption context");
  return PKey(k);
}

SignatureHasher::SignatureHasher(SignatureCurve curve) : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex2(ctx_, DigestFor(HashFor(curve)), nullptr) != 1) std::abort();
}
SignatureHasher::~SignatureHasher() { EVP_MD_CTX_free(ctx_); }
void SignatureHasher::Update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) std::abort();
}
Bytes SignatureHasher::Final() {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &n) != 1) std::abort();
  out.resize(n);
  return out;
}

Result<Bytes> SignDigest(const PKey& key, ByteView digest) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1)
    return errors::Crypto("ECDSA signing setup failed");
  Bytes sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1)
    return errors::Crypto("ECDSA signing failed");
  sig.resize(len);
  return sig;
}

bool VerifyDigest(const PKey& key, ByteView digest, ByteView der_signature) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  return ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(ctx.get(), der_signature.data(), der_signature.size(), digest.data(),
                         digest.size()) == 1;
}

}  // namespace meridian::sdk
