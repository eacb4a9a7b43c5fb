#include "sdk/caching_cmm.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>

#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

Bytes Sha512(ByteView data) {
  Bytes out(64);
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha512(), nullptr);
  return out;
}

Bytes ContextHash(const EncryptionContext& ec) {
  auto bytes = SerializeEncryptionContext(ec);
  return Sha512(bytes.ok() ? ByteView(*bytes) : ByteView());
}

Bytes SerializeEdk(const EncryptedDataKey& e) {
  ByteWriter w;
  w.WriteU16(static_cast<uint16_t>(e.provider_id.size()));
  w.Write(e.provider_id);
  w.WriteU16(static_cast<uint16_t>(e.provider_info.size()));
  w.Write(e.provider_info);
  w.WriteU16(static_cast<uint16_t>(e.ciphertext.size()));
  w.Write(e.ciphertext);
  return w.Take();
}

EncryptionMaterials Clone(const EncryptionMaterials& m) {
  EncryptionMaterials c;
  c.suite = m.suite;
  c.encryption_context = m.encryption_context;
  c.edks = m.edks;
  c.plaintext_data_key = m.plaintext_data_key.Clone();
  c.required_ec_keys = m.required_ec_keys;
  c.signing_key = m.signing_key;
  return c;
}

DecryptionMaterials Clone(const DecryptionMaterials& m) {
  DecryptionMaterials c;
  c.suite = m.suite;
  c.encryption_context = m.encryption_context;
  c.plaintext_data_key = m.plaintext_data_key.Clone();
  c.required_ec_keys = m.required_ec_keys;
  c.verification_key = m.verification_key;
  return c;
}

std::string UniquePartition() {
  static std::atomic<uint64_t> counter{0};
  return "meridian-caching-cmm-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(reinterpret_cast<uintptr_t>(&counter));
}

}  // namespace

size_t MaterialsCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

MaterialsCache::Entry* MaterialsCache::Find(const std::string& id, int64_t now_ms) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  if (it->second->second.expires_at_ms <= now_ms) {
    lru_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->second;
}

void MaterialsCache::Put(const std::string& id, Entry entry) {
  Erase(id);
  lru_.emplace_front(id, std::move(entry));
  index_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void MaterialsCache::Erase(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

CachingCmm::CachingCmm(std::shared_ptr<CryptoMaterialsManager> u, std::shared_ptr<MaterialsCache> c,
                       CachingCmmOptions o)
    : underlying_(std::move(u)), cache_(std::move(c)), options_(std::move(o)) {
  if (options_.partition_id.empty()) options_.partition_id = UniquePartition();
  partition_hash_ = Sha512(AsBytes(options_.partition_id));
}

Result<std::shared_ptr<CachingCmm>> CachingCmm::Create(std::shared_ptr<CryptoMaterialsManager> underlying,
                                                       std::shared_ptr<MaterialsCache> cache,
                                                       CachingCmmOptions options) {
  if (!underlying || !cache) return errors::InvalidArgument("caching CMM needs an underlying CMM and a cache");
  if (options.max_age_seconds <= 0) return errors::InvalidArgument("cache limit TTL must be greater than zero");
  if (options.max_messages == 0 || options.max_messages > (uint64_t{1} << 32))
    return errors::InvalidArgument("max messages must be in 1..2^32");
  if (options.max_bytes > (uint64_t{1} << 63) - 1) return errors::InvalidArgument("max bytes must be at most 2^63-1");
  return std::make_shared<CachingCmm>(std::move(underlying), std::move(cache), std::move(options));
}

int64_t CachingCmm::NowMs() const {
  return (options_.clock ? options_.clock : &SystemClock::Instance())->NowMillis();
}

// spec: framework/caching-cmm.md#get-encryption-materials
Result<EncryptionMaterials> CachingCmm::GetEncryptionMaterials(const EncryptionMaterialsRequest& req) {
  bool identity = req.suite && req.suite->kdf == KdfHash::kIdentity;
  if (identity || !req.max_plaintext_length || *req.max_plaintext_length > options_.max_bytes)
    return underlying_->GetEncryptionMaterials(req);
  // spec: framework/caching-cmm.md#appendix-a-cache-entry-identifier-formulas
  ByteWriter w;
  w.Write(partition_hash_);
  if (req.suite) {
    w.WriteU8(0x01);
    w.WriteU16(req.suite->id);
  } else {
    w.WriteU8(0x00);
  }
  w.Write(ContextHash(req.encryption_context));
  // Required (authenticate-only) keys change the materials; keep such requests apart.
  for (const auto& k : req.required_ec_keys) w.Write(Sha512(AsBytes(k)));
  std::string id(AsString(Sha512(w.bytes())));
  uint64_t bytes = *req.max_plaintext_length;
  {
    std::lock_guard lock(cache_->mu_);
    if (auto* e = cache_->Find(id, NowMs()); e && e->encryption) {
      if (e->messages + 1 <= options_.max_messages && e->bytes + bytes <= options_.max_bytes &&
          PolicyAllowsEncrypt(req.commitment_policy, *e->encryption->suite)) {
        e->messages += 1;
        e->bytes += bytes;
        return Clone(*e->encryption);
      }
      cache_->Erase(id);
    }
  }
  MERIDIAN_ASSIGN_OR_RETURN(EncryptionMaterials fresh, underlying_->GetEncryptionMaterials(req));
  if (fresh.suite->kdf == KdfHash::kIdentity) return fresh;
  MaterialsCache::Entry entry;
  entry.encryption = std::make_shared<const EncryptionMaterials>(Clone(fresh));
  entry.expires_at_ms = NowMs() + options_.max_age_seconds * 1000;
  entry.messages = 1;
  entry.bytes = bytes;
  std::lock_guard lock(cache_->mu_);
  cache_->Put(id, std::move(entry));
  return fresh;
}

// spec: framework/caching-cmm.md#decrypt-materials
Result<DecryptionMaterials> CachingCmm::DecryptMaterials(const DecryptMaterialsRequest& req) {
  if (req.suite->kdf == KdfHash::kIdentity) return underlying_->DecryptMaterials(req);
  std::vector<Bytes> edk_hashes;
  for (const auto& e : *req.edks) edk_hashes.push_back(Sha512(SerializeEdk(e)));
  std::sort(edk_hashes.begin(), edk_hashes.end());
  ByteWriter w;
  w.Write(partition_hash_);
  w.WriteU16(req.suite->id);
  for (const auto& h : edk_hashes) w.Write(h);
  w.Write(Bytes(64, 0));
  w.Write(ContextHash(req.encryption_context));
  // The reproduced context is part of what the underlying CMM checked; keep requests apart.
  if (!req.reproduced_encryption_context.empty()) w.Write(ContextHash(req.reproduced_encryption_context));
  std::string id(AsString(Sha512(w.bytes())));
  {
    std::lock_guard lock(cache_->mu_);
    if (auto* e = cache_->Find(id, NowMs()); e && e->decryption) {
      if (PolicyAllowsDecrypt(req.commitment_policy, *e->decryption->suite)) return Clone(*e->decryption);
    }
  }
  MERIDIAN_ASSIGN_OR_RETURN(DecryptionMaterials fresh, underlying_->DecryptMaterials(req));
  MaterialsCache::Entry entry;
  entry.decryption = std::make_shared<const DecryptionMaterials>(Clone(fresh));
  entry.expires_at_ms = NowMs() + options_.max_age_seconds * 1000;
  std::lock_guard lock(cache_->mu_);
  cache_->Put(id, std::move(entry));
  return fresh;
}

}  // namespace meridian::sdk
