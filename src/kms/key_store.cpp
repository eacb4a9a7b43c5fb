#include "kms/key_store.h"

#include <mutex>

#include "storage/schema.h"

namespace meridian::kms {
namespace {

std::string MaterialKey(const std::string& key_id, const std::string& version_hex) {
  return key_id + "/" + version_hex;
}
std::string WrapContext(const std::string& key_id, const std::string& version_hex) {
  return "kms-key-material:" + key_id + ":" + version_hex;
}

}  // namespace

KeyStore::KeyStore(storage::Storage& storage, const crypto::RootKey& root_key)
    : storage_(storage), root_key_(root_key) {}

Result<std::shared_ptr<const LoadedKey>> KeyStore::Get(const std::string& key_id) {
  uint64_t generation;
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(key_id);
    if (it != cache_.end()) return it->second;
    generation = generation_;
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto loaded, Load(key_id));
  if (loaded) {
    std::unique_lock lock(mu_);
    if (generation_ == generation) cache_[key_id] = loaded;
  }
  return loaded;
}

void KeyStore::Invalidate(const std::string& key_id) {
  std::unique_lock lock(mu_);
  ++generation_;
  cache_.erase(key_id);
}

void KeyStore::InvalidateAll() {
  std::unique_lock lock(mu_);
  ++generation_;
  cache_.clear();
}

Result<std::shared_ptr<const LoadedKey>> KeyStore::Load(const std::string& key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto record, ReadRecord(*txn, key_id));
  if (!record) return std::shared_ptr<const LoadedKey>();
  auto key = std::make_shared<LoadedKey>();
  for (const auto& v : record->versions) {
    MERIDIAN_ASSIGN_OR_RETURN(auto wrapped, txn->Get(storage::tables::kKeyMaterial, MaterialKey(key_id, v.id_hex)));
    if (!wrapped) return errors::Internal("key material for " + key_id + " is missing from storage");
    MERIDIAN_ASSIGN_OR_RETURN(auto material, root_key_.Unwrap(AsBytes(*wrapped), WrapContext(key_id, v.id_hex)));
    key->material.emplace(v.id_hex, std::move(material));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto grant_rows, txn->Scan(storage::tables::kKmsGrants, GrantRowPrefix(key_id)));
  std::vector<Grant> grants;
  grants.reserve(grant_rows.size());
  for (const auto& row : grant_rows) {
    MERIDIAN_ASSIGN_OR_RETURN(auto grant, Grant::Parse(row.value));
    grants.push_back(std::move(grant));
  }
  key->grants = GrantSet(std::move(grants));
  iam::policy::ParseOptions options;
  options.kind = iam::policy::PolicyKind::kResource;
  options.id = "key-policy";
  if (auto compiled = iam::policy::Policy::Parse(record->policy, options); compiled.ok()) key->policy = *compiled;
  key->record = std::move(*record);
  return std::shared_ptr<const LoadedKey>(std::move(key));
}

Result<std::optional<KeyRecord>> KeyStore::ReadRecord(storage::Transaction& txn, const std::string& key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kKeys, key_id));
  if (!value) return std::optional<KeyRecord>();
  MERIDIAN_ASSIGN_OR_RETURN(auto record, KeyRecord::Parse(*value));
  return std::optional<KeyRecord>(std::move(record));
}

Status KeyStore::WriteRecord(storage::Transaction& txn, const KeyRecord& record) {
  return txn.Put(storage::tables::kKeys, record.key_id, record.Serialize());
}

Status KeyStore::WriteMaterial(storage::Transaction& txn, const std::string& key_id, const std::string& version_hex,
                               const crypto::SecureBytes& material) const {
  Bytes wrapped = root_key_.Wrap(material.view(), WrapContext(key_id, version_hex));
  return txn.Insert(storage::tables::kKeyMaterial, MaterialKey(key_id, version_hex), AsString(wrapped));
}

Status KeyStore::Destroy(storage::Transaction& txn, const KeyRecord& record) {
  for (const auto& v : record.versions)
    MERIDIAN_RETURN_IF_ERROR(txn.Delete(storage::tables::kKeyMaterial, MaterialKey(record.key_id, v.id_hex)));
  MERIDIAN_ASSIGN_OR_RETURN(auto grants, txn.Scan(storage::tables::kKmsGrants, GrantRowPrefix(record.key_id)));
  for (const auto& g : grants) MERIDIAN_RETURN_IF_ERROR(txn.Delete(storage::tables::kKmsGrants, g.key));
  return txn.Delete(storage::tables::kKeys, record.key_id);
}

}  // namespace meridian::kms
