#include "sdk/required_ec_cmm.h"

#include <algorithm>

#include "sdk/errors.h"

namespace meridian::sdk {

Result<EncryptionMaterials> RequiredEncryptionContextCmm::GetEncryptionMaterials(
    const EncryptionMaterialsRequest& request) {
  EncryptionMaterialsRequest forwarded = request;
  for (const auto& k : keys_) {
    if (!request.encryption_context.count(k))
      return errors::Context("encryption context is missing required key '" + k + "'");
    if (std::find(forwarded.required_ec_keys.begin(), forwarded.required_ec_keys.end(), k) ==
        forwarded.required_ec_keys.end())
      forwarded.required_ec_keys.push_back(k);
  }
  MERIDIAN_ASSIGN_OR_RETURN(EncryptionMaterials m, underlying_->GetEncryptionMaterials(forwarded));
  for (const auto& k : keys_)
    if (std::find(m.required_ec_keys.begin(), m.required_ec_keys.end(), k) == m.required_ec_keys.end())
      return errors::Context("underlying CMM dropped required encryption context key '" + k + "'");
  return m;
}

Result<DecryptionMaterials> RequiredEncryptionContextCmm::DecryptMaterials(const DecryptMaterialsRequest& request) {
  for (const auto& k : keys_)
    if (!request.reproduced_encryption_context.count(k))
      return errors::Context("reproduced encryption context is missing required key '" + k + "'");
  MERIDIAN_ASSIGN_OR_RETURN(DecryptionMaterials m, underlying_->DecryptMaterials(request));
  for (const auto& k : keys_)
    if (!m.encryption_context.count(k))
      return errors::Context("decryption materials lack required encryption context key '" + k + "'");
  return m;
}

}  // namespace meridian::sdk
