#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

namespace meridian::crypto {
namespace {

// Algorithms fetched once; OpenSSL keeps them alive for the process.
struct Algorithms {
  EVP_CIPHER* aes_256_gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF* scrypt = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  Algorithms() {
    if (!aes_256_gcm || !sha256 || !hmac || !hkdf || !scrypt) std::abort();
  }
};
const Algorithms& Algs() {
  static const Algorithms algs;
  return algs;
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

EVP_CIPHER_CTX* ThreadCipherCtx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}
EVP_MD_CTX* ThreadMdCtx() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}
// The digest is set once, when the thread's context is made: EVP_MAC_init with parameters would
// re-fetch the digest on every call.
EVP_MAC_CTX* NewHmacSha256Ctx() {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(Algs().hmac);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0), OSSL_PARAM_END};
  if (!ctx || EVP_MAC_CTX_set_params(ctx, params) != 1) std::abort();
  return ctx;
}
EVP_MAC_CTX* ThreadHmacCtx() {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(NewHmacSha256Ctx());
  return ctx.get();
}

}  // namespace

void SecureBytes::Wipe() {
  if (!data_.empty()) OPENSSL_cleanse(data_.data(), data_.size());
}

void Cleanse(void* p, size_t n) {
  if (n) OPENSSL_cleanse(p, n);
}

void RandomFill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

Bytes RandomBytes(size_t n) {
  Bytes b(n);
  RandomFill(b);
  return b;
}

SecureBytes RandomSecret(size_t n) {
  SecureBytes s(n);
  RandomFill(std::span<uint8_t>(s.data(), s.size()));
  return s;
}

std::string UuidV4FromRandomBytes(const uint8_t (&random)[16]) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  for (size_t i = 0; i < 16; ++i) {
    uint8_t b = random[i];
    if (i == 6) b = (b & 0x0f) | 0x40;  // version 4
    if (i == 8) b = (b & 0x3f) | 0x80;  // RFC 4122 variant
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // keeps the '-'
    out[pos++] = kDigits[b >> 4];
    out[pos++] = kDigits[b & 15];
  }
  return out;
}

std::string RandomUuid() {
  uint8_t r[16];
  RandomFill(r);
  return UuidV4FromRandomBytes(r);
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Sha256Digest Sha256(ByteView data) {
  Sha256Digest out;
  EVP_MD_CTX* ctx = ThreadMdCtx();
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, Algs().sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1)
    std::abort();
  return out;
}

Sha256Digest HmacSha256(ByteView key, ByteView data) {
  Sha256Digest out;
  EVP_MAC_CTX* ctx = ThreadHmacCtx();
  size_t len = 0;
  // An empty key is legal for HMAC; OpenSSL wants a non-null pointer.
  static const uint8_t kEmpty = 0;
  const uint8_t* k = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx, k, key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1)
    std::abort();
  return out;
}

SecureBytes HkdfSha256(ByteView ikm, ByteView salt, ByteView info, size_t length) {
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(Algs().hkdf);
  if (!kctx) std::abort();
  OSSL_PARAM params[5];
  size_t i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size());
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size());
  params[i++] = OSSL_PARAM_construct_end();
  SecureBytes out(length);
  int rc = EVP_KDF_derive(kctx, out.data(), length, params);
  EVP_KDF_CTX_free(kctx);
  if (rc != 1) std::abort();
  return out;
}

Result<SecureBytes> Scrypt(std::string_view passphrase, ByteView salt, const ScryptParams& p,
                           size_t length) {
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(Algs().scrypt);
  if (!kctx) return errors::Internal("scrypt is unavailable in this OpenSSL build");
  uint64_t n = p.n;
  uint32_t r = p.r, par = p.p;
  uint64_t maxmem = 1ull << 31;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(passphrase.data()), passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  SecureBytes out(length);
  int rc = EVP_KDF_derive(kctx, out.data(), length, params);
  EVP_KDF_CTX_free(kctx);
  if (rc != 1) return errors::Internal("scrypt failed: parameters out of range");
  return out;
}

Status AesGcmSeal(ByteView key, ByteView iv, ByteView aad, ByteView plaintext, Bytes& out) {
  if (key.size() != kAesGcmKeySize || iv.size() != kAesGcmIvSize)
    return errors::Internal("AES-GCM: bad key or IV size");
  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  const size_t base = out.size();
  out.resize(base + plaintext.size() + kAesGcmTagSize);
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, Algs().aes_256_gcm, key.data(), iv.data(), nullptr) == 1 &&
            (aad.empty() || EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1) &&
            (plaintext.empty() || EVP_EncryptUpdate(ctx, out.data() + base, &len, plaintext.data(),
                                                    static_cast<int>(plaintext.size())) == 1) &&
            EVP_EncryptFinal_ex(ctx, out.data() + base + plaintext.size(), &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kAesGcmTagSize,
                                out.data() + base + plaintext.size()) == 1;
  if (!ok) {
    out.resize(base);
    return errors::Internal("AES-GCM encryption failed");
  }
  return Status::Ok();
}

bool AesGcmOpen(ByteView key, ByteView iv, ByteView aad, ByteView ct, SecureBytes& plaintext) {
  if (key.size() != kAesGcmKeySize || iv.size() != kAesGcmIvSize || ct.size() < kAesGcmTagSize)
    return false;
  const size_t n = ct.size() - kAesGcmTagSize;
  SecureBytes out(n);
  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int len = 0;
  uint8_t tag[kAesGcmTagSize];
  std::memcpy(tag, ct.data() + n, kAesGcmTagSize);
  bool ok = EVP_DecryptInit_ex2(ctx, Algs().aes_256_gcm, key.data(), iv.data(), nullptr) == 1 &&
            (aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1) &&
            (n == 0 || EVP_DecryptUpdate(ctx, out.data(), &len, ct.data(), static_cast<int>(n)) == 1) &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kAesGcmTagSize, tag) == 1 &&
            EVP_DecryptFinal_ex(ctx, tag, &len) == 1;  // GCM writes no bytes here
  if (!ok) return false;
  plaintext = std::move(out);
  return true;
}

}  // namespace meridian::crypto
