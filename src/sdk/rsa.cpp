#include "sdk/rsa.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

const EVP_MD* OaepMd(RsaPadding p) {
  static EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  static EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  switch (p) {
    case RsaPadding::kOaepSha1: return sha1;
    case RsaPadding::kOaepSha256: return sha256;
    case RsaPadding::kOaepSha384: return sha384;
    case RsaPadding::kOaepSha512: return sha512;
    case RsaPadding::kPkcs1: return nullptr;
  }
  return nullptr;
}

bool ConfigurePadding(EVP_PKEY_CTX* ctx, RsaPadding p) {
  if (p == RsaPadding::kPkcs1) return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
  const EVP_MD* md = OaepMd(p);
  return md && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1;
}

}  // namespace

std::optional<RsaPadding> ParseRsaPadding(std::string_view text) {
  std::string t(text);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::replace(t.begin(), t.end(), '_', '-');
  if (t == "pkcs1" || t == "pkcs1-v1.5" || t == "pkcs1v15") return RsaPadding::kPkcs1;
  if (t == "oaep-sha1" || t == "oaep-mgf1-sha1" || t == "oaep-sha1-mgf1") return RsaPadding::kOaepSha1;
  if (t == "oaep-sha256" || t == "oaep-mgf1-sha256" || t == "oaep-sha256-mgf1") return RsaPadding::kOaepSha256;
  if (t == "oaep-sha384" || t == "oaep-mgf1-sha384" || t == "oaep-sha384-mgf1") return RsaPadding::kOaepSha384;
  if (t == "oaep-sha512" || t == "oaep-mgf1-sha512" || t == "oaep-sha512-mgf1") return RsaPadding::kOaepSha512;
  return std::nullopt;
}

Result<Bytes> RsaEncrypt(const PKey& key, RsaPadding padding, ByteView plaintext) {
  if (!key.is_rsa()) return errors::InvalidArgument("not an RSA key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !ConfigurePadding(ctx.get(), padding) ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plaintext.data(), plaintext.size()) != 1)
    return errors::Crypto("RSA encryption setup failed");
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plaintext.data(), plaintext.size()) != 1)
    return errors::Crypto("RSA encryption failed");
  out.resize(len);
  return out;
}

Result<crypto::SecureBytes> RsaDecrypt(const PKey& key, RsaPadding padding, ByteView ciphertext) {
  if (!key.is_rsa() || !key.has_private()) return errors::InvalidArgument("not an RSA private key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !ConfigurePadding(ctx.get(), padding) ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &len, ciphertext.data(), ciphertext.size()) != 1)
    return errors::Crypto("RSA decryption setup failed");
  crypto::SecureBytes out(len);
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, ciphertext.data(), ciphertext.size()) != 1)
    return errors::NoDataKey("RSA decryption failed");
  crypto::SecureBytes exact(ByteView(out.data(), len));
  return exact;
}

}  // namespace meridian::sdk
