// Replication operations: ReplicateSecretToRegions, RemoveRegionsFromReplication (on a primary)
// and StopReplicationToReplica (on a replica, in its region). What travels is in
// secret_replication.cpp.
#include <algorithm>

#include "secrets/secret_replication.h"
#include "secrets/service_impl.h"

namespace meridian::secrets {

namespace {
constexpr size_t kMaxRegionLength = 128;
constexpr size_t kMaxKmsKeyId = 2048;
constexpr size_t kMaxRegionsPerRequest = 50;
}  // namespace

Result<std::vector<ReplicaInfo>> SecretsService::Impl::ParseReplicaRegions(const JsonRequest& req,
                                                                           const SecretRecord* existing) const {
  const rapidjson::Value* list = req.Get("AddReplicaRegions");
  if (list == nullptr) return MissingMemberError("addReplicaRegions");
  if (!list->IsArray()) return SerializationError("Member AddReplicaRegions must be a list of {Region, KmsKeyId}");
  if (list->Empty()) return ValidationError("addReplicaRegions", "Member must have length greater than or equal to 1");
  if (list->Size() > kMaxRegionsPerRequest)
    return ValidationError("addReplicaRegions",
                           "Member must have length less than or equal to " + std::to_string(kMaxRegionsPerRequest));
  std::vector<ReplicaInfo> out;
  for (const auto& item : list->GetArray()) {
    if (!item.IsObject()) return SerializationError("Member AddReplicaRegions must be a list of {Region, KmsKeyId}");
    JsonRequest entry(item);
    MERIDIAN_ASSIGN_OR_RETURN(auto region, entry.RequiredString("Region", 1, kMaxRegionLength));
    MERIDIAN_ASSIGN_OR_RETURN(auto kms_key_id, entry.OptString("KmsKeyId", 0, kMaxKmsKeyId));
    if (region == opts_.region) return err::InvalidParameter("Invalid replica region.");
    if (std::find(opts_.regions.begin(), opts_.regions.end(), region) == opts_.regions.end() || !opts_.outbox) {
      std::string list_text;
      for (const auto& r : opts_.regions) list_text += (list_text.empty() ? "" : ", ") + r;
      return err::InvalidParameter("Invalid replica region: " + region +
                                   " is not a region of this deployment (its regions: " + list_text + ").");
    }
    if (std::any_of(out.begin(), out.end(), [&](const ReplicaInfo& r) { return r.region == region; }))
      return err::InvalidParameter("The replica region " + region + " appears more than once.");
    if (existing != nullptr) {
      const ReplicaInfo* present = existing->FindReplica(region);
      // A failed replica may be replicated again (a retry); a working one may not.
      if (present != nullptr && present->status != replica_status::kFailed)
        return err::InvalidParameter("The secret " + existing->arn + " is already replicated to " + region + ".");
    }
    out.push_back({region, kms_key_id.value_or(""), replica_status::kInProgress, "", 0});
  }
  return out;
}

Status SecretsService::Impl::ReplicateSecretToRegions(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto force, req.OptBool("ForceOverwriteReplicaSecret"));
  MERIDIAN_ASSIGN_OR_RETURN(auto before, FindNow(secret_id, caller));
  MERIDIAN_RETURN_IF_ERROR(ParseReplicaRegions(req, &before).status());
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(before.arn, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    MERIDIAN_ASSIGN_OR_RETURN(auto added, ParseReplicaRegions(req, &s));  // against the record as it is now
    for (const auto& a : added) {
      if (ReplicaInfo* present = s.FindReplica(a.region)) *present = a;
      else s.replicas.push_back(a);
    }
    return StartReplicas(txn, s, added, force.value_or(false));
  }));
  w.StartObject();
  w.Key("ARN"); w.String(r.arn);
  w.Key("ReplicationStatus");
  r.WriteReplicationStatus(w);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::RemoveRegionsFromReplication(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto regions, req.OptStringList("RemoveReplicaRegions", kMaxRegionsPerRequest,
                                                            kMaxRegionLength));
  if (!regions) return MissingMemberError("removeReplicaRegions");
  if (regions->empty())
    return ValidationError("removeReplicaRegions", "Member must have length greater than or equal to 1");
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
    for (const auto& region : *regions) {
      if (s.FindReplica(region) == nullptr)
        return err::InvalidParameter("The secret " + s.arn + " is not replicated to " + region + ".");
      MERIDIAN_RETURN_IF_ERROR(Publish(txn, region, message::kReplicaRemoved,
                                       SecretRefPayload(s.account_id, s.name, s.arn)));
      std::erase_if(s.replicas, [&](const ReplicaInfo& info) { return info.region == region; });
    }
    return Status::Ok();
  }));
  w.StartObject();
  w.Key("ARN"); w.String(r.arn);
  w.Key("ReplicationStatus");
  r.WriteReplicationStatus(w);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::StopReplicationToReplica(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, ModifyAny(secret_id, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
    if (!s.is_replica())
      return err::InvalidRequest("The secret " + s.arn +
                                 " is not a replica secret. Call StopReplicationToReplica in the Region of a replica.");
    const std::string primary = s.primary_region;
    MERIDIAN_RETURN_IF_ERROR(Publish(txn, primary, message::kReplicaPromoted,
                                     SecretRefPayload(s.account_id, s.name, ArnInRegion(s.arn, primary))));
    // A standalone secret from now on, with this region's ARN, key and values.
    s.primary_region.clear();
    s.replica_status.clear();
    s.replica_status_message.clear();
    s.last_changed_ms = now;
    return Status::Ok();
  }));
  w.StartObject();
  w.Key("ARN"); w.String(r.arn);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::secrets
