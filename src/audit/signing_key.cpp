#include "audit/signing_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>

#include "audit/durable_file.h"
#include "audit/log_format.h"
#include "common/encoding.h"
#include "crypto/crypto.h"

namespace meridian::audit {
namespace {

constexpr size_t kEd25519KeySize = 32;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) { return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free); }

Status OpenSslError(std::string what) { return Status("AuditSigningKeyError", std::move(what), 500); }

std::string WrapContext(std::string_view region) {
  return "meridian:audit-signing-key:" + std::string(region);
}

}  // namespace

// ---- AuditPublicKey -----------------------------------------------------------------------------

AuditPublicKey::AuditPublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {
  uint8_t raw[kEd25519KeySize];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &len) == 1 && len == sizeof raw) {
    auto digest = crypto::Sha256(ByteView(raw, len));
    fingerprint_ = HexEncode(ByteView(digest.data(), digest.size()));
  }
}

Result<AuditPublicKey> AuditPublicKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return OpenSslError("out of memory");
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return Status("InvalidAuditPublicKey", "the file is not a PEM public key", 400);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return Status("InvalidAuditPublicKey", "the audit public key must be an Ed25519 key", 400);
  }
  return AuditPublicKey(Own(key));
}

bool AuditPublicKey::Verify(ByteView message, ByteView signature) const {
  if (!key_ || signature.size() != 64) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_DigestVerifyInit_ex(ctx, nullptr, nullptr, nullptr, nullptr, key_.get(), nullptr) == 1 &&
            EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string AuditPublicKey::Pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  std::string out;
  if (PEM_write_bio_PUBKEY(bio, key_.get()) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

// ---- AuditSigningKey ----------------------------------------------------------------------------

Result<AuditSigningKey> AuditSigningKey::FromPrivate(std::shared_ptr<EVP_PKEY> key) {
  uint8_t raw[kEd25519KeySize];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key.get(), raw, &len) != 1 || len != sizeof raw)
    return OpenSslError("cannot read the Ed25519 public key");
  EVP_PKEY* pub = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, raw, len);
  if (!pub) return OpenSslError("cannot build the Ed25519 public key");
  return AuditSigningKey(std::move(key), AuditPublicKey(Own(pub)));
}

Result<AuditSigningKey> AuditSigningKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) return OpenSslError("Ed25519 key generation failed");
  return FromPrivate(Own(key));
}

Result<AuditSigningKey> AuditSigningKey::LoadOrCreate(const std::string& directory, std::string_view region,
                                                      const crypto::RootKey& root_key) {
  const std::string wrapped_path = (std::filesystem::path(directory) / kWrappedSigningKeyFileName).string();
  const std::string pem_path = (std::filesystem::path(directory) / kPublicKeyFileName).string();
  std::shared_ptr<EVP_PKEY> key;
  std::error_code ec;
  if (std::filesystem::exists(wrapped_path, ec)) {
    MERIDIAN_ASSIGN_OR_RETURN(std::string wrapped, ReadWholeFile(wrapped_path));
    auto raw = root_key.Unwrap(AsBytes(wrapped), WrapContext(region));
    if (!raw.ok())
      return Status("AuditSigningKeyError",
                    "the audit signing key in " + wrapped_path +
                        " does not unwrap under this region's root key (another root key, another region, or an "
                        "altered file)",
                    500);
    if (raw->size() != kEd25519KeySize) return OpenSslError("the wrapped audit signing key has the wrong size");
    EVP_PKEY* k = EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, raw->data(), raw->size());
    if (!k) return OpenSslError("cannot load the audit signing key");
    key = Own(k);
  } else {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!k) return OpenSslError("Ed25519 key generation failed");
    key = Own(k);
    crypto::SecureBytes raw(kEd25519KeySize);
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_private_key(key.get(), raw.data(), &len) != 1 || len != kEd25519KeySize)
      return OpenSslError("cannot export the new audit signing key for wrapping");
    Bytes wrapped = root_key.Wrap(raw.view(), WrapContext(region));
    MERIDIAN_RETURN_IF_ERROR(WriteFileDurably(wrapped_path, AsString(wrapped), 0600));
  }
  MERIDIAN_ASSIGN_OR_RETURN(AuditSigningKey signing, FromPrivate(std::move(key)));
  const std::string pem = signing.public_key().Pem();
  auto existing = ReadWholeFile(pem_path);
  if (!existing.ok() || *existing != pem) MERIDIAN_RETURN_IF_ERROR(WriteFileDurably(pem_path, pem, 0644));
  return signing;
}

Result<Bytes> AuditSigningKey::Sign(ByteView message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return OpenSslError("out of memory");
  Bytes signature(64);
  size_t len = signature.size();
  bool ok = EVP_DigestSignInit_ex(ctx, nullptr, nullptr, nullptr, nullptr, private_key_.get(), nullptr) == 1 &&
            EVP_DigestSign(ctx, signature.data(), &len, message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 64) return OpenSslError("Ed25519 signing failed");
  return signature;
}

}  // namespace meridian::audit
