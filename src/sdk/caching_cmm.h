// Caching CMM: reuses encryption and decryption materials from an in-process, thread-safe LRU
// cryptographic materials cache, bounded by age, messages and bytes per data key, and keyed per
// partition. spec: framework/caching-cmm.md, framework/cryptographic-materials-cache.md
//
// Suites with the identity KDF are never cached. Encryption materials are cached only when the
// plaintext length is known in advance (so the byte limit can be enforced).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "sdk/materials.h"

namespace meridian::sdk {

// An LRU cache of materials; may be shared by several caching CMMs (entries are separated by
// their partition id).
class MaterialsCache {
 public:
  explicit MaterialsCache(size_t capacity = 1000) : capacity_(capacity) {}
  size_t size() const;

 private:
  friend class CachingCmm;
  struct Entry {
    std::shared_ptr<const EncryptionMaterials> encryption;
    std::shared_ptr<const DecryptionMaterials> decryption;
    int64_t expires_at_ms = 0;
    uint64_t messages = 0;
    uint64_t bytes = 0;
  };
  // Returns the entry (moved to the front) or nullptr; expired entries are erased.
  Entry* Find(const std::string& id, int64_t now_ms);
  void Put(const std::string& id, Entry entry);
  void Erase(const std::string& id);

  mutable std::mutex mu_;
  size_t capacity_;
  std::list<std::pair<std::string, Entry>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Entry>>::iterator> index_;
};

struct CachingCmmOptions {
  int64_t max_age_seconds = 300;           // > 0
  uint64_t max_messages = uint64_t{1} << 32;
  uint64_t max_bytes = (uint64_t{1} << 63) - 1;
  std::string partition_id;                // empty: unique per caching CMM
  const Clock* clock = nullptr;            // nullptr: the system clock
};

class CachingCmm : public CryptoMaterialsManager {
 public:
  static Result<std::shared_ptr<CachingCmm>> Create(std::shared_ptr<CryptoMaterialsManager> underlying,
                                                    std::shared_ptr<MaterialsCache> cache, CachingCmmOptions options);
  Result<EncryptionMaterials> GetEncryptionMaterials(const EncryptionMaterialsRequest& request) override;
  Result<DecryptionMaterials> DecryptMaterials(const DecryptMaterialsRequest& request) override;

  CachingCmm(std::shared_ptr<CryptoMaterialsManager> u, std::shared_ptr<MaterialsCache> c, CachingCmmOptions o);

 private:
  int64_t NowMs() const;
  std::shared_ptr<CryptoMaterialsManager> underlying_;
  std::shared_ptr<MaterialsCache> cache_;
  CachingCmmOptions options_;
  Bytes partition_hash_;
};

}  // namespace meridian::sdk
