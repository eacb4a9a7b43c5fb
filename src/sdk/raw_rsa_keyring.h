// Raw RSA keyring: wraps data keys with an RSA public key and unwraps with the private key.
// spec: framework/raw-rsa-keyring.md
#pragma once

#include <memory>
#include <string>

#include "sdk/materials.h"
#include "sdk/rsa.h"

namespace meridian::sdk {

class RawRsaKeyring : public Keyring {
 public:
  // At least one key is required; with only a private key the public key is derived from it.
  // Without a private key the keyring can only encrypt; without a public key only decrypt.
  static Result<std::shared_ptr<RawRsaKeyring>> Create(std::string key_namespace, std::string key_name,
                                                       RsaPadding padding, PKey public_key, PKey private_key);

  Status OnEncrypt(EncryptionMaterials& materials) const override;
  Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const override;

  RawRsaKeyring(std::string ns, std::string name, RsaPadding padding, PKey pub, PKey priv)
      : namespace_(std::move(ns)), name_(std::move(name)), padding_(padding), public_(std::move(pub)),
        private_(std::move(priv)) {}

 private:
  std::string namespace_;
  std::string name_;
  RsaPadding padding_;
  PKey public_;
  PKey private_;
};

}  // namespace meridian::sdk
