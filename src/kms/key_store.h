// KeyStore: persistence of KMS keys (records, wrapped material and grants) plus a read cache.
//
// Ownership: the cache holds unwrapped material in SecureBytes, shared with in-flight requests
// through shared_ptr<const LoadedKey>; it is wiped when the last holder lets go. Writers change
// storage inside a transaction and call Invalidate(key_id) after the commit, so a cached entry
// is never newer than storage and at most one request behind this process's own writes. A key's
// grants are cached with it, so authorizing a request reads no storage; a grant change
// invalidates the key's entry like any other change to the key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "iam/policy/policy.h"
#include "kms/grant_set.h"
#include "kms/key_record.h"
#include "storage/storage.h"

namespace meridian::kms {

struct LoadedKey {
  KeyRecord record;
  std::unordered_map<std::string, crypto::SecureBytes> material;  // by BackingKeyVersion::id_hex
  // The key policy compiled by the IAM policy engine; null if the stored policy does not compile
  // (requests on the key are then denied: fail closed).
  iam::policy::PolicyPtr policy;
  GrantSet grants;  // this region's grants of the key
};

class KeyStore {
 public:
  KeyStore(storage::Storage& storage, const crypto::RootKey& root_key);

  // The key with its unwrapped material, or null if no such key exists.
  Result<std::shared_ptr<const LoadedKey>> Get(const std::string& key_id);
  // Drops the key's entry (or every entry). A Get that was loading meanwhile does not cache what
  // it read, so an entry read before a change never lands after the change's invalidation (another
  // frontend's changes arrive through storage/change_feed.h while this process loads).
  void Invalidate(const std::string& key_id);
  void InvalidateAll();

  static Result<std::optional<KeyRecord>> ReadRecord(storage::Transaction& txn, const std::string& key_id);
  static Status WriteRecord(storage::Transaction& txn, const KeyRecord& record);
  Status WriteMaterial(storage::Transaction& txn, const std::string& key_id, const std::string& version_hex,
                       const crypto::SecureBytes& material) const;
  // Removes the record, every version of its material and every grant of the key.
  static Status Destroy(storage::Transaction& txn, const KeyRecord& record);

 private:
  Result<std::shared_ptr<const LoadedKey>> Load(const std::string& key_id);

  storage::Storage& storage_;
  const crypto::RootKey& root_key_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const LoadedKey>> cache_;  // guarded by mu_
  uint64_t generation_ = 0;  // guarded by mu_; bumped by every invalidation
};

}  // namespace meridian::kms
