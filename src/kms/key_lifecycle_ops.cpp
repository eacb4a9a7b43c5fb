// Key lifecycle operations: CreateKey, DescribeKey, ListKeys, Enable/DisableKey,
// UpdateKeyDescription, Schedule/CancelKeyDeletion.
#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {

Status KmsService::Impl::CreateKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto policy, req.OptString("Policy", 1, 32768));
  MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, 8192));
  MERIDIAN_ASSIGN_OR_RETURN(auto usage, req.OptEnum("KeyUsage", {"SIGN_VERIFY", "ENCRYPT_DECRYPT",
                                                                 "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}));
  static const std::initializer_list<std::string_view> kSpecs = {
      "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
      "ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
      "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519"};
  MERIDIAN_ASSIGN_OR_RETURN(auto spec, req.OptEnum("KeySpec", kSpecs));
  MERIDIAN_ASSIGN_OR_RETURN(auto cmk_spec, req.OptEnum("CustomerMasterKeySpec", kSpecs));
  MERIDIAN_ASSIGN_OR_RETURN(auto origin, req.OptEnum("Origin", {"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM",
                                                               "EXTERNAL_KEY_STORE"}));
  MERIDIAN_ASSIGN_OR_RETURN(auto multi_region, req.OptBool("MultiRegion"));
  MERIDIAN_ASSIGN_OR_RETURN(auto bypass, req.OptBool("BypassPolicyLockoutSafetyCheck"));
  MERIDIAN_ASSIGN_OR_RETURN(auto custom_store, req.OptString("CustomKeyStoreId", 1, 64));
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, ParseTags(req));
  if (spec && cmk_spec)
    return errors::Validation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                              "CustomerMasterKeySpec is deprecated; use KeySpec.");
  const std::string key_spec = spec ? *spec : cmk_spec.value_or("SYMMETRIC_DEFAULT");
  const std::string key_usage = usage.value_or("ENCRYPT_DECRYPT");
  if (key_spec == "SYMMETRIC_DEFAULT" && key_usage != "ENCRYPT_DECRYPT")
    return errors::Validation("KeyUsage " + key_usage + " is not compatible with KeySpec SYMMETRIC_DEFAULT; "
                              "symmetric encryption keys have KeyUsage ENCRYPT_DECRYPT.");
  if (key_spec != "SYMMETRIC_DEFAULT")
    return err::Unsupported("KeySpec " + key_spec + " is not supported yet: Meridian creates SYMMETRIC_DEFAULT keys.");
  if (origin && *origin != "AWS_KMS")
    return err::Unsupported("Origin " + *origin + " is not supported: Meridian generates key material itself (AWS_KMS).");
  if (custom_store) return err::Unsupported("Custom key stores are not supported.");
  if (policy) MERIDIAN_RETURN_IF_ERROR(ValidatePolicyDocument(*policy));

  KeyRecord r;
  r.multi_region = multi_region.value_or(false);
  r.key_id = r.multi_region ? NewMultiRegionKeyId() : NewKeyId();
  if (r.multi_region) r.primary_region = opts_.region;
  r.account_id = caller.account_id;
  r.region = opts_.region;
  r.arn = KeyArn(caller.account_id, r.key_id);
  r.description = description.value_or("");
  r.key_usage = key_usage;
  r.key_spec = key_spec;
  r.creation_ms = clock_.NowMillis();
  r.policy = policy ? *policy : DefaultKeyPolicy(opts_.partition, caller.account_id);
  if (policy && !bypass.value_or(false)) MERIDIAN_RETURN_IF_ERROR(CheckPolicyLockout(r.policy, r.arn, caller));
  MERIDIAN_RETURN_IF_ERROR(MergeTags(r.tags, tags));

  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  MERIDIAN_RETURN_IF_ERROR(AddBackingVersion(r, *txn, ""));
  MERIDIAN_RETURN_IF_ERROR(txn->Insert(storage::tables::kKeys, r.key_id, r.Serialize()));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());

  w.StartObject();
  w.Key("KeyMetadata");
  r.WriteMetadata(w, opts_.partition);
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::DescribeKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", true, caller));
  w.StartObject();
  w.Key("KeyMetadata");
  key->record.WriteMetadata(w, opts_.partition);
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ListKeys(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, 1000));
  MERIDIAN_ASSIGN_OR_RETURN(auto marker, req.OptString("Marker", 1, 1024));
  if (marker && !LooksLikeKeyId(*marker)) return err::InvalidMarker();
  const size_t n = static_cast<size_t>(limit.value_or(100));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  std::vector<KeyRecord> page;
  std::string after = marker.value_or("");
  bool truncated = false;
  // Keys of other accounts share the table; scan in chunks until the page is full.
  while (true) {
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kKeys, "", after, 256));
    for (auto& row : rows) {
      after = row.key;
      MERIDIAN_ASSIGN_OR_RETURN(auto r, KeyRecord::Parse(row.value));
      if (r.account_id != caller.account_id) continue;
      if (page.size() == n) {
        truncated = true;
        break;
      }
      page.push_back(std::move(r));
    }
    if (truncated || rows.size() < 256) break;
  }
  w.StartObject();
  w.Key("Keys");
  w.StartArray();
  for (const auto& r : page) {
    w.StartObject();
    w.Key("KeyId"); w.String(r.key_id);
    w.Key("KeyArn"); w.String(r.arn);
    w.EndObject();
  }
  w.EndArray();
  w.Key("Truncated");
  w.Bool(truncated);
  if (truncated) {
    w.Key("NextMarker");
    w.String(page.back().key_id);
  }
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::EnableKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    r.state = key_state::kEnabled;
    return Status::Ok();
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::DisableKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    r.state = key_state::kDisabled;
    return Status::Ok();
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::UpdateKeyDescription(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, 8192));
  if (!description) return MissingMemberError("description");
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    r.description = *description;
    return Status::Ok();
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ScheduleKeyDeletion(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto days, req.OptInt("PendingWindowInDays", 7, 30));
  const int window = static_cast<int>(days.value_or(30));
  int64_t deletion_ms = 0;
  std::string state;
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    r.pending_window_days = window;
    if (r.is_primary() && !r.replica_regions.empty()) {
      // A primary outlives its replicas: its waiting period starts when the last one is gone.
      r.state = key_state::kPendingReplicaDeletion;
      r.deletion_ms = 0;
    } else {
      r.state = key_state::kPendingDeletion;
      r.deletion_ms = clock_.NowMillis() + window * kMsPerDay;
    }
    deletion_ms = r.deletion_ms;
    state = r.state;
    return Status::Ok();
  }));
  w.StartObject();
  w.Key("KeyId"); w.String(arn);
  if (deletion_ms) {
    w.Key("DeletionDate"); WriteTimestamp(w, deletion_ms);
  }
  w.Key("KeyState"); w.String(state);
  w.Key("PendingWindowInDays"); w.Int(window);
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::CancelKeyDeletion(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [](KeyRecord& r, storage::Transaction&) {
    if (r.state != key_state::kPendingDeletion && r.state != key_state::kPendingReplicaDeletion)
      return err::InvalidState(r.arn + " is not pending deletion.");
    r.state = key_state::kDisabled;
    r.deletion_ms = 0;
    r.pending_window_days = 0;
    return Status::Ok();
  }));
  w.StartObject();
  w.Key("KeyId"); w.String(arn);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
