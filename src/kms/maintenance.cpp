// Background duties: destroying keys whose deletion date has passed and rotating keys whose
// automatic rotation is due.
#include <rapidjson/document.h>

#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {

Result<int> KmsService::Impl::RunDueMaintenance() {
  const int64_t now = clock_.NowMillis();
  std::vector<std::string> due;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    std::string after;
    while (true) {
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kKeys, "", after, 512));
      for (const auto& row : rows) {
        after = row.key;
        MERIDIAN_ASSIGN_OR_RETURN(auto r, KeyRecord::Parse(row.value));
        if (r.region != opts_.region) continue;
        // Replicas never rotate on their own: their primary sends them its new material.
        if ((r.state == key_state::kPendingDeletion && r.deletion_ms <= now) ||
            (r.rotation_enabled && r.state == key_state::kEnabled && r.next_rotation_ms <= now && !r.is_replica()))
          due.push_back(r.key_id);
      }
      if (rows.size() < 512) break;
    }
  }
  int changed = 0;
  for (const auto& key_id : due) {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    MERIDIAN_ASSIGN_OR_RETURN(auto record, KeyStore::ReadRecord(*txn, key_id));
    if (!record) continue;
    KeyRecord& r = *record;
    if (r.state == key_state::kPendingDeletion && r.deletion_ms <= now) {
      // Destroy the key, its material and every alias that points at it.
      MERIDIAN_ASSIGN_OR_RETURN(auto aliases, txn->Scan(storage::tables::kAliases, r.account_id + "/"));
      for (const auto& a : aliases) {
        rapidjson::Document d;
        d.Parse(a.value.data(), a.value.size());
        if (d.IsObject() && d.HasMember("target") && d["target"].IsString() && r.key_id == d["target"].GetString())
          MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kAliases, a.key));
      }
      MERIDIAN_RETURN_IF_ERROR(KeyStore::Destroy(*txn, r));
      // A deleted replica tells its primary, which may be waiting for it.
      if (r.is_replica())
        MERIDIAN_RETURN_IF_ERROR(Publish(*txn, r.primary_region, "kms.ReplicaDeleted",
                                         "{\"key_id\":\"" + r.key_id + "\",\"region\":\"" + opts_.region + "\"}"));
    } else if (r.rotation_enabled && r.state == key_state::kEnabled && r.next_rotation_ms <= now && !r.is_replica()) {
      while (r.next_rotation_ms <= now) r.next_rotation_ms += r.rotation_period_days * kMsPerDay;
      MERIDIAN_RETURN_IF_ERROR(AddBackingVersion(r, *txn, "AUTOMATIC"));
      MERIDIAN_RETURN_IF_ERROR(KeyStore::WriteRecord(*txn, r));
    } else {
      continue;
    }
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    keys_.Invalidate(key_id);
    InvalidateAliases();
    NotifyReplication();
    ++changed;
  }
  return changed;
}

}  // namespace meridian::kms
