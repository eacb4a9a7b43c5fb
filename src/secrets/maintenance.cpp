// Background duties: destroying secrets whose recovery window has ended, scheduled or
// reattempted rotations, and retrying Failed replicas.
#include <algorithm>

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
        const bool failed_replica = std::any_of(r.replicas.begin(), r.replicas.end(), [](const ReplicaInfo& i) {
          return i.status == replica_status::kFailed;
        });
        if ((r.pending_deletion() && r.deletion_ms <= now) ||
            (!r.pending_deletion() && (r.rotation.configured || failed_replica)))
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
      MERIDIAN_ASSIGN_OR_RETURN(int retried, RetryFailedReplicas(secret, now));
      MERIDIAN_ASSIGN_OR_RETURN(bool rotated, RotateIfDue(secret, now));
      changed += (rotated || retried > 0) ? 1 : 0;
    }
  }
  return changed;
}

Result<int> SecretsService::Impl::RetryFailedReplicas(const SecretRecord& secret, int64_t now) {
  std::vector<ReplicaInfo> due;
  {
    std::lock_guard<std::mutex> lock(replica_retry_mu_);
    for (const auto& r : secret.replicas) {
      const std::string key = secret.arn + " " + r.region;
      if (r.status != replica_status::kFailed) {
        replica_retry_.erase(key);
        continue;
      }
      auto [it, first_seen] = replica_retry_.try_emplace(key, now + kReplicaRetryMs, kReplicaRetryMs);
      if (first_seen || it->second.first > now) continue;
      it->second.second = std::min(it->second.second * 2, kReplicaRetryMaxMs);
      it->second.first = now + it->second.second;
      due.push_back(r);
    }
  }
  if (due.empty() || !opts_.outbox) return 0;
  int retried = 0;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    MERIDIAN_ASSIGN_OR_RETURN(auto row, txn->Get(tables::kSecrets, SecretRowKey(secret.account_id, secret.name)));
    if (!row) return 0;
    MERIDIAN_ASSIGN_OR_RETURN(auto current, SecretRecord::Parse(*row));
    if (current.arn != secret.arn || current.pending_deletion()) return 0;
    std::vector<ReplicaInfo> again;
    for (const auto& r : due)
      if (const ReplicaInfo* now_info = current.FindReplica(r.region);
          now_info != nullptr && now_info->status == replica_status::kFailed)
        again.push_back(*now_info);
    MERIDIAN_RETURN_IF_ERROR(StartReplicas(*txn, current, again, /*force_overwrite=*/false));
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    retried = static_cast<int>(again.size());
  }
  if (retried > 0) NotifyReplication();
  return retried;
}

}  // namespace meridian::secrets
