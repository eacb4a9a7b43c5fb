// Rotation operations: Enable/DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
// ListKeyRotations.
#include <algorithm>

#include <rapidjson/stringbuffer.h>

#include "kms/service_impl.h"

namespace meridian::kms {

Status KmsService::Impl::RequireRotatable(const KeyRecord& r) {
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(r));
  if (r.key_spec != "SYMMETRIC_DEFAULT" || r.origin != "AWS_KMS")
    return err::Unsupported("Only symmetric encryption keys with AWS_KMS key material can be rotated.");
  if (r.is_replica())
    return err::Unsupported(r.arn + " is a replica key: rotation is shared by every key of a multi-Region key and "
                            "is managed on the primary key in " + r.primary_region + ".");
  return Status::Ok();
}

Status KmsService::Impl::PublishSharedProperties(storage::Transaction& txn, const KeyRecord& r) {
  if (!r.is_primary()) return Status::Ok();
  for (const auto& replica : r.replica_regions) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("key_id"); w.String(r.key_id);
    w.Key("rotation_enabled"); w.Bool(r.rotation_enabled);
    w.Key("rotation_period_days"); w.Int(r.rotation_period_days);
    w.Key("next_rotation_ms"); w.Int64(r.next_rotation_ms);
    w.EndObject();
    MERIDIAN_RETURN_IF_ERROR(Publish(txn, replica, "kms.SharedPropertiesUpdated", std::string(sb.GetString(), sb.GetSize())));
  }
  return Status::Ok();
}

Status KmsService::Impl::EnableKeyRotation(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto period, req.OptInt("RotationPeriodInDays", 90, 2560));
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction& txn) {
    MERIDIAN_RETURN_IF_ERROR(RequireRotatable(r));
    const int days = static_cast<int>(period.value_or(r.rotation_enabled ? r.rotation_period_days : 365));
    if (!r.rotation_enabled || days != r.rotation_period_days) {
      r.rotation_period_days = days;
      r.next_rotation_ms = clock_.NowMillis() + days * kMsPerDay;
    }
    r.rotation_enabled = true;
    return PublishSharedProperties(txn, r);
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::DisableKeyRotation(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction& txn) {
    MERIDIAN_RETURN_IF_ERROR(RequireRotatable(r));
    r.rotation_enabled = false;
    r.next_rotation_ms = 0;
    return PublishSharedProperties(txn, r);
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::GetKeyRotationStatus(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  const KeyRecord& r = key->record;
  w.StartObject();
  w.Key("KeyRotationEnabled"); w.Bool(r.rotation_enabled);
  w.Key("KeyId"); w.String(r.arn);
  if (r.rotation_enabled) {
    w.Key("RotationPeriodInDays"); w.Int(r.rotation_period_days);
    w.Key("NextRotationDate"); WriteTimestamp(w, r.next_rotation_ms);
  }
  if (r.on_demand_rotation_start_ms) {
    w.Key("OnDemandRotationStartDate"); WriteTimestamp(w, r.on_demand_rotation_start_ms);
  }
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::RotateKeyOnDemand(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction& txn) {
    MERIDIAN_RETURN_IF_ERROR(RequireRotatable(r));
    int on_demand = static_cast<int>(std::count_if(r.versions.begin(), r.versions.end(),
                                                   [](const auto& v) { return v.rotation_type == "ON_DEMAND"; }));
    if (on_demand >= kMaxOnDemandRotations)
      return err::LimitExceeded("This key has reached the limit of " + std::to_string(kMaxOnDemandRotations) +
                                " on-demand rotations.");
    return AddBackingVersion(r, txn, "ON_DEMAND");
  }));
  w.StartObject();
  w.Key("KeyId"); w.String(arn);
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ListKeyRotations(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  const KeyRecord& r = key->record;
  const size_t rotations = r.versions.size() - 1;
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, rotations, 1000, 100));
  w.StartObject();
  w.Key("Rotations");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    const auto& v = r.versions[i + 1];
    w.StartObject();
    w.Key("KeyId"); w.String(r.arn);
    w.Key("RotationDate"); WriteTimestamp(w, v.created_ms);
    w.Key("RotationType"); w.String(v.rotation_type);
    w.EndObject();
  }
  w.EndArray();
  WritePageEnd(w, page);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
