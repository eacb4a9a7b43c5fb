#include "sdk/raw_aes_keyring.h"

#include "sdk/aead.h"
#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

constexpr uint32_t kTagBits = AlgorithmSuite::kTagLength * 8;

GcmContext& ThreadEncryptCtx() {
  thread_local GcmContext ctx;
  return ctx;
}
GcmContext& ThreadDecryptCtx() {
  thread_local GcmContext ctx;
  return ctx;
}

}  // namespace

Result<std::shared_ptr<RawAesKeyring>> RawAesKeyring::Create(std::string key_namespace, std::string key_name,
                                                             ByteView wrapping_key) {
  if (wrapping_key.size() != 16 && wrapping_key.size() != 24 && wrapping_key.size() != 32)
    return errors::InvalidArgument("raw AES wrapping key must be 128, 192 or 256 bits");
  if (key_namespace == "aws-kms") return errors::InvalidArgument("key namespace must not be aws-kms");
  if (key_namespace.size() > 0xFFFF || key_name.size() > 0xFFFF)
    return errors::InvalidArgument("key namespace or name too long");
  return std::make_shared<RawAesKeyring>(std::move(key_namespace), std::move(key_name), wrapping_key);
}

// spec: framework/raw-aes-keyring.md#onencrypt
Status RawAesKeyring::OnEncrypt(EncryptionMaterials& m) const {
  if (m.plaintext_data_key.empty()) m.plaintext_data_key = crypto::RandomSecret(m.suite->key_length);
  MERIDIAN_ASSIGN_OR_RETURN(Bytes aad, SerializeEncryptionContext(m.encryption_context));
  uint8_t iv[AlgorithmSuite::kIvLength];
  crypto::RandomFill(iv);
  EncryptedDataKey edk;
  edk.provider_id = namespace_;
  // Provider info: key name || tag length in bits (u32) || IV length (u32) || IV.
  ByteWriter info(name_.size() + 8 + sizeof iv);
  info.Write(name_);
  info.WriteU32(kTagBits);
  info.WriteU32(AlgorithmSuite::kIvLength);
  info.Write(ByteView(iv, sizeof iv));
  edk.provider_info = info.Take();
  edk.ciphertext.resize(m.plaintext_data_key.size() + AlgorithmSuite::kTagLength);
  GcmContext& ctx = ThreadEncryptCtx();
  MERIDIAN_RETURN_IF_ERROR(ctx.InitEncrypt(key_.view()));
  MERIDIAN_RETURN_IF_ERROR(ctx.Seal(ByteView(iv, sizeof iv), aad, m.plaintext_data_key.view(),
                                    edk.ciphertext.data(), edk.ciphertext.data() + m.plaintext_data_key.size()));
  m.edks.push_back(std::move(edk));
  return Status::Ok();
}

// spec: framework/raw-aes-keyring.md#ondecrypt
Status RawAesKeyring::OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const {
  if (!m.plaintext_data_key.empty()) return errors::State("decryption materials already have a data key");
  MERIDIAN_ASSIGN_OR_RETURN(Bytes aad, SerializeEncryptionContext(m.encryption_context));
  const size_t key_len = m.suite->key_length;
  for (const auto& edk : edks) {
    if (edk.provider_id != namespace_) continue;
    ByteReader r(edk.provider_info);
    ByteView name, iv;
    uint32_t tag_bits = 0, iv_len = 0;
    if (!r.ReadView(name_.size(), name) || AsString(name) != name_ || !r.ReadU32(tag_bits) ||
        !r.ReadU32(iv_len) || tag_bits != kTagBits || iv_len != AlgorithmSuite::kIvLength ||
        !r.ReadView(iv_len, iv) || !r.AtEnd())
      continue;
    if (edk.ciphertext.size() != key_len + AlgorithmSuite::kTagLength) continue;
    GcmContext& ctx = ThreadDecryptCtx();
    MERIDIAN_RETURN_IF_ERROR(ctx.InitDecrypt(key_.view()));
    crypto::SecureBytes pdk(key_len);
    ByteView ct(edk.ciphertext.data(), key_len);
    ByteView tag(edk.ciphertext.data() + key_len, AlgorithmSuite::kTagLength);
    if (ctx.Open(iv, aad, ct, tag, pdk.data())) {
      m.plaintext_data_key = std::move(pdk);
      return Status::Ok();
    }
  }
  return errors::NoDataKey("raw AES keyring " + namespace_ + "/" + name_ +
                           " could not decrypt any encrypted data key (wrong key or encryption context?)");
}

}  // namespace meridian::sdk
