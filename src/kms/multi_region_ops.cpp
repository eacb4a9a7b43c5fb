// Multi-Region key operations: ReplicateKey and UpdatePrimaryRegion, and how a key's changes are
// published to the other regions (Publish, PublishConfiguration).
#include <algorithm>

#include <rapidjson/stringbuffer.h>

#include "kms/primary_region_update.h"
#include "kms/service_impl.h"

namespace meridian::kms {
namespace {

bool IsRegionOf(const std::vector<std::string>& regions, const std::string& region) {
  return std::find(regions.begin(), regions.end(), region) != regions.end();
}

// The kms.MultiRegionConfigurationUpdated payload; `updated_from` (the old primary's region) is
// set only in the copy sent to the new primary of an UpdatePrimaryRegion (primary_region_update.h).
std::string ConfigurationPayload(const KeyRecord& r, const std::string& updated_from) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("key_id"); w.String(r.key_id);
  w.Key("primary_region"); w.String(r.primary_region);
  w.Key("replica_regions");
  w.StartArray();
  for (const auto& region : r.replica_regions) w.String(region);
  w.EndArray();
  if (!updated_from.empty()) { w.Key(primary_update::kFromMember); w.String(updated_from); }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

Status KmsService::Impl::Publish(storage::Transaction& txn, const std::string& peer, std::string_view kind,
                                 std::string payload) {
  if (!opts_.outbox || peer == opts_.region) return Status::Ok();
  return opts_.outbox->Enqueue(txn, peer, {std::string(kind), std::move(payload)});
}

void KmsService::Impl::NotifyReplication() {
  if (opts_.outbox && opts_.replication_enqueued) opts_.replication_enqueued();
}

Status KmsService::Impl::PublishConfiguration(storage::Transaction& txn, const KeyRecord& r,
                                              const std::string& except_region) {
  const std::string payload = ConfigurationPayload(r, "");
  std::vector<std::string> targets = r.replica_regions;
  targets.push_back(r.primary_region);
  for (const auto& region : targets)
    if (region != opts_.region && region != except_region)
      MERIDIAN_RETURN_IF_ERROR(Publish(txn, region, "kms.MultiRegionConfigurationUpdated", payload));
  return Status::Ok();
}

Status KmsService::Impl::ReplicateKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto region, req.RequiredString("ReplicaRegion", 1, 32));
  MERIDIAN_ASSIGN_OR_RETURN(auto policy, req.OptString("Policy", 1, 32768));
  MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, 8192));
  MERIDIAN_ASSIGN_OR_RETURN(auto bypass, req.OptBool("BypassPolicyLockoutSafetyCheck"));
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, ParseTags(req));
  if (policy) MERIDIAN_RETURN_IF_ERROR(ValidatePolicyDocument(*policy));
  if (!IsRegionOf(opts_.regions, region) || region == opts_.region) {
    std::string list;
    for (const auto& r : opts_.regions) list += (list.empty() ? "" : ", ") + r;
    if (region == opts_.region)
      return err::AlreadyExists("The primary key is already in " + region + "; choose another ReplicaRegion.");
    return err::Unsupported("Region " + region + " is not a region of this deployment (its regions: " + list + ").");
  }

  KeyRecord replica;
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction& txn) {
    if (!r.multi_region)
      return err::Unsupported(r.arn + " is not a multi-Region key; only multi-Region keys can be replicated.");
    if (!r.is_primary())
      return err::Unsupported(r.arn + " is a replica key; replicate the primary key in " + r.primary_region + ".");
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    if (r.state == primary_update::kUpdatingState)
      return err::InvalidState(r.arn + " is Updating: its primary Region is changing. Try again when it is Enabled.");
    if (IsRegionOf(r.replica_regions, region))
      return err::AlreadyExists("A replica of " + r.key_id + " already exists in " + region + ".");
    r.replica_regions.push_back(region);
    std::sort(r.replica_regions.begin(), r.replica_regions.end());

    // The replica: shared properties from the primary, independent ones from the request.
    replica = r;
    replica.region = region;
    replica.arn = r.ArnInRegion(opts_.partition, region);
    replica.state = key_state::kEnabled;
    replica.deletion_ms = 0;
    replica.pending_window_days = 0;
    replica.description = description.value_or(r.description);
    replica.policy = policy ? *policy : DefaultKeyPolicy(opts_.partition, r.account_id);
    if (policy && !bypass.value_or(false))
      MERIDIAN_RETURN_IF_ERROR(CheckPolicyLockout(replica.policy, replica.arn, caller));
    replica.tags.clear();
    replica.creation_ms = clock_.NowMillis();
    MERIDIAN_RETURN_IF_ERROR(MergeTags(replica.tags, tags));

    MERIDIAN_RETURN_IF_ERROR(PublishConfiguration(txn, r, region));
    return Publish(txn, region, "kms.ReplicaCreated", "{\"record\":" + replica.Serialize() + "}");
  }));
  (void)arn;

  // The replica is Creating until its region has applied it.
  KeyRecord shown = replica;
  shown.state = "Creating";
  w.StartObject();
  w.Key("ReplicaKeyMetadata");
  shown.WriteMetadata(w, opts_.partition);
  w.Key("ReplicaPolicy"); w.String(replica.policy);
  w.Key("ReplicaTags");
  w.StartArray();
  for (const auto& [k, v] : replica.tags) {
    w.StartObject();
    w.Key("TagKey"); w.String(k);
    w.Key("TagValue"); w.String(v);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::UpdatePrimaryRegion(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto region, req.RequiredString("PrimaryRegion", 1, 32));
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction& txn) {
    if (!r.multi_region) return err::Unsupported(r.arn + " is not a multi-Region key.");
    if (!r.is_primary())
      return err::Unsupported(r.arn + " is a replica key; call UpdatePrimaryRegion on the primary key in " +
                              r.primary_region + ".");
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    if (r.state != key_state::kEnabled)
      return err::InvalidState(r.arn + " is " + r.state + "; the primary key must be Enabled to update its primary Region.");
    if (!IsRegionOf(r.replica_regions, region))
      return err::NotFound("There is no replica of " + r.key_id + " in " + region + " to make the primary key.");
    // This key becomes a replica of the one in `region`, Updating until the new primary has
    // taken over (primary_region_update.h).
    std::erase(r.replica_regions, region);
    r.replica_regions.push_back(opts_.region);
    std::sort(r.replica_regions.begin(), r.replica_regions.end());
    r.primary_region = region;
    r.state = primary_update::kUpdatingState;
    MERIDIAN_RETURN_IF_ERROR(PublishConfiguration(txn, r, region));
    return Publish(txn, region, "kms.MultiRegionConfigurationUpdated", ConfigurationPayload(r, opts_.region));
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
