#include "sdk/default_cmm.h"

#include "common/encoding.h"
#include "sdk/ecdsa.h"
#include "sdk/errors.h"

namespace meridian::sdk {

Result<EncryptionMaterials> DefaultCmm::GetEncryptionMaterials(const EncryptionMaterialsRequest& req) {
  const AlgorithmSuite* suite = req.suite ? req.suite : &DefaultSuite(req.commitment_policy);
  if (!PolicyAllowsEncrypt(req.commitment_policy, *suite))
    return errors::Policy(std::string("algorithm suite ") + suite->name + " is not allowed by commitment policy " +
                          CommitmentPolicyName(req.commitment_policy));
  if (req.encryption_context.count(kPublicKeyContextKey))
    return errors::InvalidArgument("encryption context must not contain the reserved key aws-crypto-public-key");
  EncryptionMaterials m;
  m.suite = suite;
  m.encryption_context = req.encryption_context;
  m.required_ec_keys = req.required_ec_keys;
  if (suite->signed_suite()) {
    MERIDIAN_ASSIGN_OR_RETURN(m.signing_key, GenerateSigningKey(suite->signature));
    MERIDIAN_ASSIGN_OR_RETURN(Bytes point, CompressedPublicKey(m.signing_key));
    m.encryption_context[kPublicKeyContextKey] = Base64Encode(point);
  }
  MERIDIAN_RETURN_IF_ERROR(keyring_->OnEncrypt(m));
  if (m.plaintext_data_key.size() != suite->key_length || m.edks.empty())
    return errors::Crypto("keyring did not produce a data key and an encrypted data key");
  return m;
}

Result<DecryptionMaterials> DefaultCmm::DecryptMaterials(const DecryptMaterialsRequest& req) {
  if (!PolicyAllowsDecrypt(req.commitment_policy, *req.suite))
    return errors::Policy(std::string("algorithm suite ") + req.suite->name +
                          " is not allowed by commitment policy " + CommitmentPolicyName(req.commitment_policy));
  DecryptionMaterials m;
  m.suite = req.suite;
  m.encryption_context = req.encryption_context;
  // Reproduced context: values must agree with the stored ones; keys missing from the message
  // are authenticated only (spec: framework/default-cmm.md#decrypt-materials).
  for (const auto& [k, v] : req.reproduced_encryption_context) {
    auto it = req.encryption_context.find(k);
    if (it != req.encryption_context.end()) {
      if (it->second != v)
        return errors::Context("encryption context value for key '" + k + "' does not match the message");
    } else {
      m.encryption_context.emplace(k, v);
      m.required_ec_keys.push_back(k);
    }
  }
  auto pub = m.encryption_context.find(kPublicKeyContextKey);
  if (req.suite->signed_suite()) {
    if (pub == m.encryption_context.end())
      return errors::BadMessage("signed message without aws-crypto-public-key in its encryption context");
    auto point = Base64Decode(pub->second);
    if (!point) return errors::BadMessage("aws-crypto-public-key is not base64");
    MERIDIAN_ASSIGN_OR_RETURN(m.verification_key, PublicKeyFromPoint(req.suite->signature, *point));
  } else if (pub != m.encryption_context.end()) {
    return errors::BadMessage("unsigned message carries aws-crypto-public-key");
  }
  MERIDIAN_RETURN_IF_ERROR(keyring_->OnDecrypt(m, *req.edks));
  if (m.plaintext_data_key.size() != req.suite->key_length)
    return errors::NoDataKey("keyring returned no data key of the suite's length");
  return m;
}

}  // namespace meridian::sdk
