#include "sdk/aead.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "crypto/crypto.h"
#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

struct Fetched {
  EVP_CIPHER* gcm128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  EVP_CIPHER* gcm192 = EVP_CIPHER_fetch(nullptr, "AES-192-GCM", nullptr);
  EVP_CIPHER* gcm256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD* sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  Fetched() {
    if (!gcm128 || !gcm192 || !gcm256 || !sha256 || !sha384 || !sha512 || !hkdf) std::abort();
  }
};
const Fetched& F() {
  static const Fetched f;
  return f;
}

const EVP_CIPHER* GcmFor(size_t key_len) {
  switch (key_len) {
    case 16: return F().gcm128;
    case 24: return F().gcm192;
    case 32: return F().gcm256;
    default: return nullptr;
  }
}

// Feeds `data` in pieces no larger than INT_MAX (EVP lengths are int).
template <typename Fn>
bool Chunked(ByteView data, Fn fn) {
  constexpr size_t kMax = size_t{1} << 30;
  size_t off = 0;
  do {
    size_t n = std::min(kMax, data.size() - off);
    if (!fn(data.data() + off, static_cast<int>(n), off)) return false;
    off += n;
  } while (off < data.size());
  return true;
}

struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

EVP_KDF_CTX* ThreadHkdf(KdfHash hash) {
  thread_local std::array<std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter>, 4> ctxs;
  auto& slot = ctxs[static_cast<size_t>(hash)];
  if (!slot) {
    slot.reset(EVP_KDF_CTX_new(F().hkdf));
    const char* name = EVP_MD_get0_name(DigestFor(hash));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(name), 0),
        OSSL_PARAM_construct_end()};
    if (!slot || EVP_KDF_CTX_set_params(slot.get(), params) != 1) std::abort();
  }
  return slot.get();
}

}  // namespace

const evp_md_st* DigestFor(KdfHash hash) {
  switch (hash) {
    case KdfHash::kSha256: return F().sha256;
    case KdfHash::kSha384: return F().sha384;
    case KdfHash::kSha512: return F().sha512;
    case KdfHash::kIdentity: return nullptr;
  }
  return nullptr;
}

GcmContext::GcmContext() : ctx_(EVP_CIPHER_CTX_new()) {
  if (!ctx_) std::abort();
}
GcmContext::~GcmContext() { EVP_CIPHER_CTX_free(ctx_); }

Status GcmContext::Init(ByteView key, bool encrypt) {
  const EVP_CIPHER* cipher = GcmFor(key.size());
  if (!cipher) return errors::InvalidArgument("AES-GCM key must be 16, 24 or 32 bytes");
  int ok = encrypt ? EVP_EncryptInit_ex2(ctx_, cipher, key.data(), nullptr, nullptr)
                   : EVP_DecryptInit_ex2(ctx_, cipher, key.data(), nullptr, nullptr);
  if (ok != 1) return errors::Crypto("AES-GCM key setup failed");
  encrypt_ = encrypt;
  keyed_ = true;
  return Status::Ok();
}
Status GcmContext::InitEncrypt(ByteView key) { return Init(key, true); }
Status GcmContext::InitDecrypt(ByteView key) { return Init(key, false); }

Status GcmContext::Seal(ByteView iv, ByteView aad, ByteView plaintext, uint8_t* ciphertext_out,
                        uint8_t* tag_out) {
  if (!keyed_ || !encrypt_ || iv.size() != AlgorithmSuite::kIvLength)
    return errors::State("GCM context not keyed for encryption");
  // spec: reuse the keyed context; only the IV changes (EVP_EncryptInit_ex2 with NULL cipher/key).
  if (EVP_EncryptInit_ex2(ctx_, nullptr, nullptr, iv.data(), nullptr) != 1)
    return errors::Crypto("AES-GCM IV setup failed");
  int len = 0;
  if (!aad.empty() && !Chunked(aad, [&](const uint8_t* p, int n, size_t) {
        return EVP_EncryptUpdate(ctx_, nullptr, &len, p, n) == 1;
      }))
    return errors::Crypto("AES-GCM AAD failed");
  if (!plaintext.empty() && !Chunked(plaintext, [&](const uint8_t* p, int n, size_t off) {
        return EVP_EncryptUpdate(ctx_, ciphertext_out + off, &len, p, n) == 1;
      }))
    return errors::Crypto("AES-GCM encryption failed");
  if (EVP_EncryptFinal_ex(ctx_, ciphertext_out + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, AlgorithmSuite::kTagLength, tag_out) != 1)
    return errors::Crypto("AES-GCM finalization failed");
  return Status::Ok();
}

bool GcmContext::Open(ByteView iv, ByteView aad, ByteView ciphertext, ByteView tag, uint8_t* plaintext_out) {
  if (!keyed_ || encrypt_ || iv.size() != AlgorithmSuite::kIvLength ||
      tag.size() != AlgorithmSuite::kTagLength)
    return false;
  if (EVP_DecryptInit_ex2(ctx_, nullptr, nullptr, iv.data(), nullptr) != 1) return false;
  int len = 0;
  bool ok = true;
  if (!aad.empty())
    ok = Chunked(aad, [&](const uint8_t* p, int n, size_t) {
      return EVP_DecryptUpdate(ctx_, nullptr, &len, p, n) == 1;
    });
  if (ok && !ciphertext.empty())
    ok = Chunked(ciphertext, [&](const uint8_t* p, int n, size_t off) {
      return EVP_DecryptUpdate(ctx_, plaintext_out + off, &len, p, n) == 1;
    });
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, AlgorithmSuite::kTagLength,
                                 const_cast<uint8_t*>(tag.data())) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx_, plaintext_out + ciphertext.size(), &len) == 1;
  if (!ok && !ciphertext.empty()) crypto::Cleanse(plaintext_out, ciphertext.size());
  return ok;
}

Status Hkdf(KdfHash hash, ByteView ikm, ByteView salt, ByteView info, uint8_t* out, size_t length) {
  const EVP_MD* md = DigestFor(hash);
  if (!md) return errors::InvalidArgument("HKDF needs a SHA-2 hash");
  std::array<uint8_t, 64> zeros{};
  if (salt.empty()) salt = ByteView(zeros.data(), static_cast<size_t>(EVP_MD_get_size(md)));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  if (EVP_KDF_derive(ThreadHkdf(hash), out, length, params) != 1) return errors::Crypto("HKDF failed");
  return Status::Ok();
}

}  // namespace meridian::sdk
