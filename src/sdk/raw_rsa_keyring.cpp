#include "sdk/raw_rsa_keyring.h"

#include "sdk/errors.h"

namespace meridian::sdk {

Result<std::shared_ptr<RawRsaKeyring>> RawRsaKeyring::Create(std::string ns, std::string name, RsaPadding padding,
                                                             PKey public_key, PKey private_key) {
  if (!public_key && !private_key) return errors::InvalidArgument("raw RSA keyring needs a public or private key");
  if ((public_key && !public_key.is_rsa()) || (private_key && !private_key.is_rsa()))
    return errors::InvalidArgument("raw RSA keyring keys must be RSA keys");
  if (ns == "aws-kms") return errors::InvalidArgument("key namespace must not be aws-kms");
  if (!public_key) public_key = private_key;  // an RSA private key carries its public half
  return std::make_shared<RawRsaKeyring>(std::move(ns), std::move(name), padding, std::move(public_key),
                                         std::move(private_key));
}

// spec: framework/raw-rsa-keyring.md#onencrypt
Status RawRsaKeyring::OnEncrypt(EncryptionMaterials& m) const {
  if (!public_) return errors::State("raw RSA keyring has no public key to encrypt with");
  if (m.plaintext_data_key.empty()) m.plaintext_data_key = crypto::RandomSecret(m.suite->key_length);
  EncryptedDataKey edk;
  edk.provider_id = namespace_;
  edk.provider_info = ToBytes(name_);
  MERIDIAN_ASSIGN_OR_RETURN(edk.ciphertext, RsaEncrypt(public_, padding_, m.plaintext_data_key.view()));
  m.edks.push_back(std::move(edk));
  return Status::Ok();
}

// spec: framework/raw-rsa-keyring.md#ondecrypt
Status RawRsaKeyring::OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const {
  if (!m.plaintext_data_key.empty()) return errors::State("decryption materials already have a data key");
  if (!private_) return errors::State("raw RSA keyring has no private key to decrypt with");
  for (const auto& edk : edks) {
    if (edk.provider_id != namespace_ || AsString(edk.provider_info) != name_) continue;
    auto pdk = RsaDecrypt(private_, padding_, edk.ciphertext);
    if (pdk.ok() && pdk->size() == m.suite->key_length) {
      m.plaintext_data_key = std::move(pdk).value();
      return Status::Ok();
    }
  }
  return errors::NoDataKey("raw RSA keyring " + namespace_ + "/" + name_ +
                           " could not decrypt any encrypted data key (wrong key?)");
}

}  // namespace meridian::sdk
