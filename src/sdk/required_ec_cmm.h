// Required-encryption-context CMM: every configured key must be present in the encryption context
// on encrypt (and is then authenticated but not stored) and reproduced by the caller on decrypt.
// spec: framework/required-encryption-context-cmm.md
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sdk/materials.h"

namespace meridian::sdk {

class RequiredEncryptionContextCmm : public CryptoMaterialsManager {
 public:
  RequiredEncryptionContextCmm(std::shared_ptr<CryptoMaterialsManager> underlying, std::vector<std::string> keys)
      : underlying_(std::move(underlying)), keys_(std::move(keys)) {}
  Result<EncryptionMaterials> GetEncryptionMaterials(const EncryptionMaterialsRequest& request) override;
  Result<DecryptionMaterials> DecryptMaterials(const DecryptMaterialsRequest& request) override;

 private:
  std::shared_ptr<CryptoMaterialsManager> underlying_;
  std::vector<std::string> keys_;
};

}  // namespace meridian::sdk
