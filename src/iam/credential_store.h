// CredentialStore: accounts and the access keys that authenticate requests.
//
// Secret access keys are stored only wrapped under the region's root key (storage never sees
// them in the clear). Lookups are served from an in-memory cache that holds unwrapped secrets
// for the SigV4 verifier; the cache is filled on first use and updated by this process's own
// writes. (The IAM issue adds users, roles, policies and STS on top of this.)
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "sigv4/verifier.h"
#include "storage/storage.h"

namespace meridian::iam {

// An access key as the SigV4 verifier needs it: the secret is plaintext in memory only
// (SecureBytes, wiped when the last holder lets go).
using AccessKey = sigv4::CredentialRecord;

class CredentialStore {
 public:
  CredentialStore(storage::Storage& storage, const crypto::RootKey& root_key);

  // Creates the account record if missing. Account ids are 12 digits.
  Status EnsureAccount(const std::string& account_id);
  bool AccountExists(const std::string& account_id);

  // Stores an access key for `principal_arn` in `account_id`. With id/secret given (bootstrap
  // credentials chosen by the operator) they are used as is; otherwise fresh ones are generated
  // in AWS's formats (AKIA + 16 base32 characters; 40-character secret). If the id exists with
  // the same secret this is a no-op; with another secret it is an error.
  Result<std::shared_ptr<const AccessKey>> CreateAccessKey(const std::string& account_id,
                                                           const std::string& principal_arn,
                                                           std::optional<std::string> access_key_id = {},
                                                           std::optional<std::string> secret = {});

  // The active access key with this id, or null. Suitable as a sigv4::CredentialLookup.
  std::shared_ptr<const AccessKey> Lookup(const std::string& access_key_id);

  static bool IsValidAccountId(const std::string& id);
  static std::string GenerateAccountId();
  // Fresh credentials in AWS's formats: "AKIA" + 16 base32 characters; a 40-character secret.
  static std::string GenerateAccessKeyId();
  static std::string GenerateSecretAccessKey();

 private:
  Result<std::shared_ptr<const AccessKey>> Load(const std::string& access_key_id);

  storage::Storage& storage_;
  const crypto::RootKey& root_key_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const AccessKey>> cache_;  // guarded by mu_
};

}  // namespace meridian::iam
