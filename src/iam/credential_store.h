// CredentialStore: accounts and the access keys that authenticate requests.
//
// Secret access keys are stored only wrapped under the region's root key (storage never sees
// them in the clear). Lookups are served from an in-memory cache that holds unwrapped secrets
// for the SigV4 verifier; the cache is filled on first use and updated by this process's own
// writes; the Directory (directory.h) writes IAM users' keys and STS sessions inside its own
// transactions through the Stage* calls below and then calls Invalidate, so a deactivated or
// deleted key stops authenticating at once in this process.
//
// Temporary (STS) credentials live in the sts_sessions table: Lookup resolves "ASIA..." ids there
// and returns the record with its session token and expiry, which the SigV4 verifier checks
// (X-Amz-Security-Token must match; ExpiredTokenException after expiry).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
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

  // The active access key (or unexpired-or-expired STS credential) with this id, or null.
  // Suitable as a sigv4::CredentialLookup.
  std::shared_ptr<const AccessKey> Lookup(const std::string& access_key_id);

  // Forgets what the cache knows about `access_key_id` (call after a committed change), or
  // everything (another frontend's changes, storage/change_feed.h). A Lookup loading meanwhile
  // does not cache what it read, so a record read before a change never outlives its invalidation.
  void Invalidate(const std::string& access_key_id);
  void InvalidateAll();

  // ---- Writes inside a caller's transaction (the Directory's). Nothing is cached; call
  // Invalidate after Commit.
  // Metadata of a stored long-term key (no secret).
  struct KeyMetadata {
    std::string account_id;
    std::string principal_arn;
    std::string user_name;  // empty for the account's root keys
    std::string status;     // "Active" | "Inactive"
    int64_t create_date = 0;
  };
  static Result<std::optional<KeyMetadata>> ReadKeyMetadata(storage::Transaction& txn, const std::string& access_key_id);
  // A fresh AKIA key for an IAM user; returns the id and the secret (plaintext, for the response).
  Result<std::pair<std::string, std::string>> StageUserAccessKey(storage::Transaction& txn,
                                                                 const std::string& account_id,
                                                                 const std::string& principal_arn,
                                                                 const std::string& user_name, int64_t create_date);
  static Status StageKeyStatus(storage::Transaction& txn, const std::string& access_key_id, const std::string& status);

  // A fresh STS credential: "ASIA" + 16 base32 id, 40-character secret, opaque session token.
  // `session_json` is a JSON object the Directory keeps with it (the session's identity data),
  // readable back with ReadSessionData.
  struct SessionCredential {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;
    int64_t expires_at = 0;
  };
  Result<SessionCredential> StageSession(storage::Transaction& txn, const std::string& account_id,
                                         const std::string& principal_arn, int64_t expires_at,
                                         std::string_view session_json);
  // The Directory's JSON for a session id (nullopt when unknown).
  static Result<std::optional<std::string>> ReadSessionData(storage::Transaction& txn, const std::string& access_key_id);

  static bool IsValidAccountId(const std::string& id);
  static std::string GenerateAccountId();
  // Fresh credentials in AWS's formats: "AKIA" + 16 base32 characters; a 40-character secret.
  static std::string GenerateAccessKeyId();
  static std::string GenerateSecretAccessKey();
  static std::string GenerateSessionAccessKeyId();  // "ASIA" + 16 base32 characters
  static std::string GenerateSessionToken();        // 200 characters of [A-Za-z0-9+/]

 private:
  Result<std::shared_ptr<const AccessKey>> Load(const std::string& access_key_id);
  Result<std::shared_ptr<const AccessKey>> LoadSession(storage::Transaction& txn, const std::string& access_key_id);

  storage::Storage& storage_;
  const crypto::RootKey& root_key_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const AccessKey>> cache_;  // guarded by mu_
  uint64_t generation_ = 0;  // guarded by mu_; bumped by every invalidation
};

}  // namespace meridian::iam
