// The default CMM: adds the signing key for signed suites and delegates data keys to a keyring.
// spec: framework/default-cmm.md
#pragma once

#include <memory>

#include "sdk/materials.h"

namespace meridian::sdk {

class DefaultCmm : public CryptoMaterialsManager {
 public:
  explicit DefaultCmm(std::shared_ptr<const Keyring> keyring) : keyring_(std::move(keyring)) {}
  Result<EncryptionMaterials> GetEncryptionMaterials(const EncryptionMaterialsRequest& request) override;
  Result<DecryptionMaterials> DecryptMaterials(const DecryptMaterialsRequest& request) override;

 private:
  std::shared_ptr<const Keyring> keyring_;
};

}  // namespace meridian::sdk
