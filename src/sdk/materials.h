// Cryptographic materials and the two interfaces that produce them: keyrings (wrap/unwrap the
// data key) and cryptographic materials managers (assemble complete materials).
// spec: framework/structures.md, framework/keyring-interface.md, framework/cmm-interface.md
//
// Implementations must be safe to call from several threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/crypto.h"
#include "sdk/algorithm_suite.h"
#include "sdk/encryption_context.h"
#include "sdk/header.h"
#include "sdk/pkey.h"

namespace meridian::sdk {

// spec: framework/structures.md#encryption-materials
struct EncryptionMaterials {
  const AlgorithmSuite* suite = nullptr;
  EncryptionContext encryption_context;          // full context (stored + authenticate-only)
  std::vector<EncryptedDataKey> edks;
  crypto::SecureBytes plaintext_data_key;        // empty until a keyring generates it
  std::vector<std::string> required_ec_keys;     // authenticated but not stored in the header
  PKey signing_key;                              // set iff the suite signs
};

// spec: framework/structures.md#decryption-materials
struct DecryptionMaterials {
  const AlgorithmSuite* suite = nullptr;
  EncryptionContext encryption_context;
  crypto::SecureBytes plaintext_data_key;        // empty until a keyring decrypts one
  std::vector<std::string> required_ec_keys;
  PKey verification_key;                         // set iff the suite signs
};

class Keyring {
 public:
  virtual ~Keyring() = default;
  // Generates the data key if absent, and appends this keyring's encrypted data key(s).
  virtual Status OnEncrypt(EncryptionMaterials& materials) const = 0;
  // Sets materials.plaintext_data_key from one of `edks`; fails if it is already set.
  virtual Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const = 0;
};

// spec: framework/cmm-interface.md#encryption-materials-request
struct EncryptionMaterialsRequest {
  EncryptionContext encryption_context;
  const AlgorithmSuite* suite = nullptr;  // nullptr: the policy's default suite
  CommitmentPolicy commitment_policy = CommitmentPolicy::kRequireEncryptRequireDecrypt;
  std::optional<uint64_t> max_plaintext_length;
  std::vector<std::string> required_ec_keys;
};

// spec: framework/cmm-interface.md#decrypt-materials-request
struct DecryptMaterialsRequest {
  const AlgorithmSuite* suite = nullptr;
  CommitmentPolicy commitment_policy = CommitmentPolicy::kRequireEncryptRequireDecrypt;
  const std::vector<EncryptedDataKey>* edks = nullptr;  // borrowed for the call
  EncryptionContext encryption_context;                  // stored in the message header
  EncryptionContext reproduced_encryption_context;       // supplied by the caller of decrypt
};

class CryptoMaterialsManager {
 public:
  virtual ~CryptoMaterialsManager() = default;
  virtual Result<EncryptionMaterials> GetEncryptionMaterials(const EncryptionMaterialsRequest& request) = 0;
  virtual Result<DecryptionMaterials> DecryptMaterials(const DecryptMaterialsRequest& request) = 0;
};

}  // namespace meridian::sdk
