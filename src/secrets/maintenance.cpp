// Background duties: destroying secrets whose recovery window has ended, and scheduled or
// reattempted rotations.
#include "secrets/service_impl.h"
#include "storage/schema.h"

namespace meridian::secrets {

namespace tables = storage::tables;

Result<int> SecretsService::Impl::RunDueMaintenance() {
  constexpr size_t kBatch = 512;
  const int64_t now = clock_.NowMillis();
  std::vector<SecretRecord> secrets;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    std::string after;
    while (true) {
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(tables::kSecrets, "", after, kBatch));
      for (const auto& row : rows) {
        after = row.key;
        MERIDIAN_ASSIGN_OR_RETURN(auto r, SecretRecord::Parse(row.value));
        if (r.is_replica()) continue;  // a replica changes only through its primary
        if ((r.pending_deletion() && r.deletion_ms <= now) || (r.rotation.configured && !r.pending_deletion()))
          secrets.push_back(std::move(r));
      }
      if (rows.size() < kBatch) break;
    }
  }
  int changed = 0;
  for (const auto& secret : secrets) {
    if (secret.pending_deletion()) {
      MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
      MERIDIAN_ASSIGN_OR_RETURN(auto row, txn->Get(tables::kSecrets, SecretRowKey(secret.account_id, secret.name)));
      if (!row) continue;
      MERIDIAN_ASSIGN_OR_RETURN(auto current, SecretRecord::Parse(*row));
      if (current.arn != secret.arn || !current.pending_deletion() || current.deletion_ms > now) continue;  // restored
      MERIDIAN_RETURN_IF_ERROR(Destroy(*txn, current));
      MERIDIAN_RETURN_IF_ERROR(txn->Commit());
      ++changed;
    } else {
      MERIDIAN_ASSIGN_OR_RETURN(bool rotated, RotateIfDue(secret, now));
      changed += rotated ? 1 : 0;
    }
  }
  return changed;
}

}  // namespace meridian::secrets
