#include "sdk/raw_ecdh_keyring.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "sdk/aead.h"
#include "sdk/ecdsa.h"
#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

constexpr char kProviderId[] = "raw-ecdh";
constexpr char kKmsProviderId[] = "aws-kms-ecdh";
constexpr uint8_t kKeyringVersion = 0x01;
constexpr size_t kSaltLength = 32;
constexpr size_t kCommitLength = 32;

const char* GroupName(EcdhCurve c) {
  switch (c) {
    case EcdhCurve::kP256: return "P-256";
    case EcdhCurve::kP384: return "P-384";
    case EcdhCurve::kP521: return "P-521";
  }
  return "";
}
// The curve names the key-agreement FixedInfo carries (as the MPL serializes them).
const char* CurveSpecName(EcdhCurve c) {
  switch (c) {
    case EcdhCurve::kP256: return "p256";
    case EcdhCurve::kP384: return "p384";
    case EcdhCurve::kP521: return "p521";
  }
  return "";
}

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

bool OnCurve(const PKey& key, EcdhCurve curve) {
  char name[64] = {};
  size_t len = 0;
  if (!key || !EVP_PKEY_is_a(key.get(), "EC") ||
      EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1)
    return false;
  std::string_view n(name, len);
  // OpenSSL reports the SEC names; accept the NIST ones too.
  switch (curve) {
    case EcdhCurve::kP256: return n == "prime256v1" || n == "P-256";
    case EcdhCurve::kP384: return n == "secp384r1" || n == "P-384";
    case EcdhCurve::kP521: return n == "secp521r1" || n == "P-521";
  }
  return false;
}

Result<PKey> PointToKey(EcdhCurve curve, ByteView point) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(GroupName(curve)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t*>(point.data()), point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* k = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &k, EVP_PKEY_PUBLIC_KEY, params) != 1 || !k)
    return errors::BadMessage("invalid ECDH public key");
  return PKey(k);
}

Result<crypto::SecureBytes> SharedSecret(const PKey& priv, const PKey& pub) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), pub.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    return errors::Crypto("ECDH setup failed");
  crypto::SecureBytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1) return errors::Crypto("ECDH failed");
  return z;
}

// FixedInfo = "ecdh-key-derivation" 0 curve 0 "HMAC_SHA384" 0 sender||recipient 0 version 0 EC.
// spec: framework/key-agreement-schemas.md#key-derivation
Result<Bytes> FixedInfo(EcdhCurve curve, ByteView sender_point, ByteView recipient_point,
                        const EncryptionContext& ec) {
  MERIDIAN_ASSIGN_OR_RETURN(Bytes ec_bytes, SerializeEncryptionContext(ec));
  ByteWriter w;
  w.Write(std::string_view("ecdh-key-derivation"));
  w.WriteU8(0);
  w.Write(std::string_view(CurveSpecName(curve)));
  w.WriteU8(0);
  w.Write(std::string_view("HMAC_SHA384"));
  w.WriteU8(0);
  w.Write(sender_point);
  w.Write(recipient_point);
  w.WriteU8(0);
  w.WriteU8(kKeyringVersion);
  w.WriteU8(0);
  w.Write(ec_bytes);
  return w.Take();
}

// NIST SP 800-108 KDF in counter mode with HMAC-SHA384: 64 bytes = commit key || wrapping key.
// PRF input per block: counter(u32) || label (FixedInfo) || 0x00 || context (salt) || L(u32 bits).
Result<crypto::SecureBytes> DeriveKeyingMaterial(ByteView z, ByteView fixed_info, ByteView salt) {
  static EVP_KDF* kbkdf = EVP_KDF_fetch(nullptr, "KBKDF", nullptr);
  if (!kbkdf) return errors::Crypto("KBKDF unavailable");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kbkdf));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, const_cast<char*>("COUNTER"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, const_cast<char*>("HMAC"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA384"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(z.data()), z.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(fixed_info.data()),
                                        fixed_info.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_end()};
  crypto::SecureBytes out(64);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    return errors::Crypto("KDF in counter mode failed");
  return out;
}

void AppendKey(ByteWriter& w, ByteView point) {
  w.WriteU32(static_cast<uint32_t>(point.size()));
  w.Write(point);
}

}  // namespace

Result<std::shared_ptr<RawEcdhKeyring>> RawEcdhKeyring::StaticKeys(EcdhCurve curve, PKey sender_private,
                                                                   PKey recipient_public) {
  if (!sender_private.has_private() || !OnCurve(sender_private, curve) || !OnCurve(recipient_public, curve))
    return errors::InvalidArgument("raw ECDH keyring keys must be on the configured curve");
  MERIDIAN_ASSIGN_OR_RETURN(Bytes own, CompressedPublicKey(sender_private));
  MERIDIAN_ASSIGN_OR_RETURN(Bytes peer, CompressedPublicKey(recipient_public));
  return std::make_shared<RawEcdhKeyring>(Schema::kStatic, curve, std::move(sender_private),
                                          std::move(recipient_public), std::move(own), std::move(peer));
}

Result<std::shared_ptr<RawEcdhKeyring>> RawEcdhKeyring::Ephemeral(EcdhCurve curve, PKey recipient_public) {
  if (!OnCurve(recipient_public, curve)) return errors::InvalidArgument("recipient key is not on the curve");
  MERIDIAN_ASSIGN_OR_RETURN(Bytes peer, CompressedPublicKey(recipient_public));
  return std::make_shared<RawEcdhKeyring>(Schema::kEphemeral, curve, PKey(), std::move(recipient_public), Bytes{},
                                          std::move(peer));
}

Result<std::shared_ptr<RawEcdhKeyring>> RawEcdhKeyring::Discovery(EcdhCurve curve, PKey recipient_private) {
  if (!recipient_private.has_private() || !OnCurve(recipient_private, curve))
    return errors::InvalidArgument("recipient private key is not on the curve");
  MERIDIAN_ASSIGN_OR_RETURN(Bytes own, CompressedPublicKey(recipient_private));
  return std::make_shared<RawEcdhKeyring>(Schema::kDiscovery, curve, std::move(recipient_private), PKey(),
                                          std::move(own), Bytes{});
}

// spec: framework/raw-ecdh-keyring.md#onencrypt
Status RawEcdhKeyring::OnEncrypt(EncryptionMaterials& m) const {
  if (schema_ == Schema::kDiscovery) return errors::State("a public-key-discovery ECDH keyring cannot encrypt");
  PKey sender = own_private_;
  Bytes sender_point = own_point_;
  if (schema_ == Schema::kEphemeral) {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", GroupName(curve_));
    if (!k) return errors::Crypto("ephemeral EC key generation failed");
    sender = PKey(k);
    MERIDIAN_ASSIGN_OR_RETURN(sender_point, CompressedPublicKey(sender));
  }
  if (m.plaintext_data_key.empty()) m.plaintext_data_key = crypto::RandomSecret(m.suite->key_length);
  MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes z, SharedSecret(sender, peer_public_));
  MERIDIAN_ASSIGN_OR_RETURN(Bytes fixed, FixedInfo(curve_, sender_point, peer_point_, m.encryption_context));
  Bytes salt = crypto::RandomBytes(kSaltLength);
  MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes okm, DeriveKeyingMaterial(z.view(), fixed, salt));
  GcmContext gcm;
  MERIDIAN_RETURN_IF_ERROR(gcm.InitEncrypt(ByteView(okm.data() + kCommitLength, 32)));
  const size_t n = m.plaintext_data_key.size();
  Bytes wrapped(n + AlgorithmSuite::kTagLength);
  std::array<uint8_t, AlgorithmSuite::kIvLength> zero_iv{};
  MERIDIAN_RETURN_IF_ERROR(gcm.Seal(zero_iv, fixed, m.plaintext_data_key.view(), wrapped.data(), wrapped.data() + n));
  EncryptedDataKey edk;
  edk.provider_id = kProviderId;
  ByteWriter info;
  info.WriteU8(kKeyringVersion);
  AppendKey(info, peer_point_);   // recipient first
  AppendKey(info, sender_point);  // then sender
  edk.provider_info = info.Take();
  ByteWriter ct;
  ct.Write(salt);
  ct.Write(ByteView(okm.data(), kCommitLength));
  ct.Write(wrapped);
  edk.ciphertext = ct.Take();
  m.edks.push_back(std::move(edk));
  return Status::Ok();
}

// spec: framework/raw-ecdh-keyring.md#ondecrypt
Status RawEcdhKeyring::OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const {
  if (!m.plaintext_data_key.empty()) return errors::State("decryption materials already have a data key");
  if (schema_ == Schema::kEphemeral) return errors::State("an ephemeral ECDH keyring cannot decrypt");
  std::string failures;
  const size_t key_len = m.suite->key_length;
  for (const auto& edk : edks) {
    if (edk.provider_id != kProviderId && edk.provider_id != kKmsProviderId) continue;
    ByteReader r(edk.provider_info);
    uint8_t version = 0;
    uint32_t rlen = 0, slen = 0;
    ByteView recipient_point, sender_point;
    if (!r.ReadU8(version) || version != kKeyringVersion || !r.ReadU32(rlen) || !r.ReadView(rlen, recipient_point) ||
        !r.ReadU32(slen) || !r.ReadView(slen, sender_point) || !r.AtEnd())
      continue;
    auto eq = [](ByteView a, const Bytes& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); };
    // The peer whose public key goes into the ECDH computation.
    ByteView peer_point;
    if (schema_ == Schema::kDiscovery) {
      if (!eq(recipient_point, own_point_)) continue;
      peer_point = sender_point;
    } else if (eq(sender_point, own_point_) && eq(recipient_point, peer_point_)) {
      peer_point = recipient_point;
    } else if (eq(sender_point, peer_point_) && eq(recipient_point, own_point_)) {
      peer_point = sender_point;
    } else {
      continue;
    }
    ByteReader c(edk.ciphertext);
    ByteView salt, commit, wrapped, tag;
    if (!c.ReadView(kSaltLength, salt) || !c.ReadView(kCommitLength, commit) || !c.ReadView(key_len, wrapped) ||
        !c.ReadView(AlgorithmSuite::kTagLength, tag) || !c.AtEnd()) {
      failures += "; malformed ECDH ciphertext";
      continue;
    }
    auto peer = PointToKey(curve_, peer_point);
    if (!peer.ok()) {
      failures += "; " + peer.status().message();
      continue;
    }
    auto z = SharedSecret(own_private_, *peer);
    if (!z.ok()) {
      failures += "; " + z.status().message();
      continue;
    }
    MERIDIAN_ASSIGN_OR_RETURN(Bytes fixed, FixedInfo(curve_, sender_point, recipient_point, m.encryption_context));
    auto okm = DeriveKeyingMaterial(z->view(), fixed, salt);
    if (!okm.ok()) {
      failures += "; " + okm.status().message();
      continue;
    }
    if (!crypto::ConstantTimeEquals(ByteView(okm->data(), kCommitLength), commit)) {
      failures += "; ECDH commitment key mismatch";
      continue;
    }
    GcmContext gcm;
    MERIDIAN_RETURN_IF_ERROR(gcm.InitDecrypt(ByteView(okm->data() + kCommitLength, 32)));
    crypto::SecureBytes pdk(key_len);
    std::array<uint8_t, AlgorithmSuite::kIvLength> zero_iv{};
    if (!gcm.Open(zero_iv, fixed, wrapped, tag, pdk.data())) {
      failures += "; ECDH data key unwrap failed";
      continue;
    }
    m.plaintext_data_key = std::move(pdk);
    return Status::Ok();
  }
  return errors::NoDataKey("raw ECDH keyring could not decrypt any encrypted data key" + failures);
}

}  // namespace meridian::sdk
