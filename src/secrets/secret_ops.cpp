// Secret lifecycle operations: CreateSecret, DescribeSecret, UpdateSecret, ListSecrets,
// DeleteSecret, RestoreSecret.
#include <algorithm>

#include "secrets/list_filters.h"
#include "secrets/service_impl.h"
#include "storage/schema.h"

namespace meridian::secrets {

namespace tables = storage::tables;

namespace {
constexpr size_t kMaxDescription = 2048;
constexpr size_t kMaxKmsKeyId = 2048;
constexpr int64_t kMinRecoveryDays = 7;
constexpr int64_t kMaxRecoveryDays = 30;
constexpr int64_t kDefaultRecoveryDays = 30;
}  // namespace

Status SecretsService::Impl::CreateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("Name", 1, kMaxNameLength));
  MERIDIAN_RETURN_IF_ERROR(ValidateSecretName(name));
  MERIDIAN_ASSIGN_OR_RETURN(auto token, ReadToken(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, kMaxDescription));
  MERIDIAN_ASSIGN_OR_RETURN(auto kms_key_id, req.OptString("KmsKeyId", 0, kMaxKmsKeyId));
  MERIDIAN_ASSIGN_OR_RETURN(auto type, req.OptString("Type", 0, 256));
  MERIDIAN_ASSIGN_OR_RETURN(auto tag_list, ParseTags(req));
  TagList tags;
  MERIDIAN_RETURN_IF_ERROR(MergeTags(tags, tag_list));
  MERIDIAN_ASSIGN_OR_RETURN(auto force_overwrite, req.OptBool("ForceOverwriteReplicaSecret"));
  std::vector<ReplicaInfo> replicas;
  if (req.Has("AddReplicaRegions")) {
    MERIDIAN_ASSIGN_OR_RETURN(replicas, ParseReplicaRegions(req, nullptr));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto value, ReadValue(req));

  const std::string row_key = SecretRowKey(caller.account_id, name);
  std::optional<std::string> existing_row;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    MERIDIAN_ASSIGN_OR_RETURN(existing_row, txn->Get(tables::kSecrets, row_key));
  }
  auto already_exists = [&] { return err::ResourceExists("The operation failed because the secret " + name + " already exists."); };
  if (existing_row) {
    MERIDIAN_ASSIGN_OR_RETURN(auto existing, SecretRecord::Parse(*existing_row));
    if (existing.pending_deletion())
      return err::InvalidRequest(
          "You can't create this secret because a secret with this name is already scheduled for deletion.");
    const SecretVersion* same_token = existing.FindVersion(token);
    if (!value || same_token == nullptr || !same_token->has_value) return already_exists();
    // A retry of the create that made this secret: the same token and the same value is a no-op.
    MERIDIAN_ASSIGN_OR_RETURN(auto stored, OpenVersion(caller, existing, *same_token));
    if (!stored.SameAs(*value))
      return err::ResourceExists("You can't use ClientRequestToken " + token +
                                 " because that value is already in use for a version of secret " + existing.arn + ".");
    w.StartObject();
    WriteArnAndName(w, existing);
    w.Key("VersionId"); w.String(token);
    w.EndObject();
    return Status::Ok();
  }

  const int64_t now = clock_.NowMillis();
  SecretRecord r;
  r.account_id = caller.account_id;
  r.name = name;
  r.arn = SecretArn(Here(caller), name, NewArnSuffix());
  r.description = description;
  r.kms_key_id = kms_key_id.value_or("");
  r.type = type.value_or("");
  r.created_ms = r.last_changed_ms = now;
  r.tags = std::move(tags);
  r.replicas = replicas;
  std::optional<ValueSealer::Sealed> sealed;
  if (value) {
    MERIDIAN_ASSIGN_OR_RETURN(sealed, sealer_.Seal(caller, r.kms_key_id, r.arn, token, *value));
    SecretVersion v;
    v.id = token;
    v.created_ms = now;
    v.stages = {std::string(stage::kCurrent)};
    v.has_value = true;
    v.kms_key_arn = sealed->key_arn;
    v.default_key = r.kms_key_id.empty();
    r.versions.push_back(std::move(v));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  Status inserted = txn->Insert(tables::kSecrets, row_key, r.Serialize());
  if (inserted.type() == "ConflictException") return already_exists();  // created meanwhile
  MERIDIAN_RETURN_IF_ERROR(inserted);
  if (sealed) MERIDIAN_RETURN_IF_ERROR(txn->Put(tables::kSecretVersions, VersionRowKey(r.account_id, name, token), sealed->row));
  MERIDIAN_RETURN_IF_ERROR(StartReplicas(*txn, r, replicas, force_overwrite.value_or(false)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  NotifyReplication();

  w.StartObject();
  WriteArnAndName(w, r);
  if (value) { w.Key("VersionId"); w.String(token); }
  if (!r.replicas.empty()) {
    w.Key("ReplicationStatus");
    r.WriteReplicationStatus(w);
  }
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::DescribeSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto r, FindNow(secret_id, caller));
  w.StartObject();
  r.WriteDescription(w, "VersionIdsToStages");
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::UpdateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto token, ReadToken(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, kMaxDescription));
  MERIDIAN_ASSIGN_OR_RETURN(auto kms_key_id, req.OptString("KmsKeyId", 0, kMaxKmsKeyId));
  MERIDIAN_ASSIGN_OR_RETURN(auto type, req.OptString("Type", 0, 256));
  MERIDIAN_ASSIGN_OR_RETURN(auto value, ReadValue(req));
  const int64_t now = clock_.NowMillis();
  auto apply_metadata = [&](SecretRecord& s) {
    if (description) s.description = *description;
    if (kms_key_id) s.kms_key_id = *kms_key_id;
    if (type) s.type = *type;
    s.last_changed_ms = now;
  };

  MERIDIAN_ASSIGN_OR_RETURN(auto before, FindNow(secret_id, caller));
  if (before.pending_deletion()) return err::MarkedForDeletion();
  const bool key_changed = kms_key_id && *kms_key_id != before.kms_key_id;
  if (before.is_replica()) return UpdateReplicaKey(before, req, caller, w);

  SecretRecord after;
  std::optional<std::string> new_version;
  if (value) {
    VersionChange change;
    change.token = token;
    change.kms_key_id = kms_key_id;
    change.mutate = apply_metadata;
    MERIDIAN_ASSIGN_OR_RETURN(auto outcome, AddVersion(before.arn, *value, change, caller));
    after = std::move(outcome.secret);
    new_version = token;
  } else {
    if (key_changed) MERIDIAN_RETURN_IF_ERROR(sealer_.CheckKey(caller, *kms_key_id));
    MERIDIAN_ASSIGN_OR_RETURN(after, Modify(before.arn, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
      if (s.pending_deletion()) return err::MarkedForDeletion();
      apply_metadata(s);
      return Status::Ok();
    }));
  }
  if (key_changed) MERIDIAN_RETURN_IF_ERROR(ReencryptLabeledVersions(after, caller));

  w.StartObject();
  WriteArnAndName(w, after);
  if (new_version) { w.Key("VersionId"); w.String(*new_version); }
  w.EndObject();
  return Status::Ok();
}

// A replica changes only through its primary, except for its encryption key (AWS: "A replica
// secret can't be updated independently from its primary secret, except for its encryption
// key"): UpdateSecret with KmsKeyId alone, in the replica's region. The labelled versions are
// re-encrypted under the new key, and the primary's ReplicationStatus shows it.
Status SecretsService::Impl::UpdateReplicaKey(const SecretRecord& before, const JsonRequest& req, const Caller& caller,
                                              JsonWriter& w) {
  for (const char* member : {"Description", "SecretString", "SecretBinary", "Type", "ClientRequestToken"})
    if (req.Has(member)) return err::ReplicaReadOnly();
  MERIDIAN_ASSIGN_OR_RETURN(auto kms_key_id, req.OptString("KmsKeyId", 0, kMaxKmsKeyId));
  if (!kms_key_id) return err::ReplicaReadOnly();
  if (*kms_key_id != before.kms_key_id) MERIDIAN_RETURN_IF_ERROR(sealer_.CheckKey(caller, *kms_key_id));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto after, ModifyAny(before.arn, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
    if (!s.is_replica()) return err::InvalidRequest("The secret " + s.arn + " changed while it was updated; try again.");
    s.kms_key_id = *kms_key_id;
    s.last_changed_ms = now;
    return ReportReplicaStatus(txn, s, /*key_changed=*/true);
  }));
  NotifyReplication();
  if (*kms_key_id != before.kms_key_id) MERIDIAN_RETURN_IF_ERROR(ReencryptLabeledVersions(after, caller));
  w.StartObject();
  WriteArnAndName(w, after);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::ListSecrets(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto include_deleted, req.OptBool("IncludePlannedDeletion"));
  MERIDIAN_ASSIGN_OR_RETURN(auto max_results, req.OptInt("MaxResults", 1, 100));
  MERIDIAN_ASSIGN_OR_RETURN(auto filters, ParseFilters(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto sort_order, req.OptEnum("SortOrder", {"asc", "desc"}));
  MERIDIAN_ASSIGN_OR_RETURN(auto sort_by, req.OptEnum("SortBy", {"created-date", "last-accessed-date",
                                                                 "last-changed-date", "name"}));
  std::vector<SecretRecord> secrets;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(tables::kSecrets, caller.account_id + "/"));
    for (const auto& row : rows) {
      MERIDIAN_ASSIGN_OR_RETURN(auto r, SecretRecord::Parse(row.value));
      if (r.pending_deletion() && !include_deleted.value_or(false)) continue;
      if (!MatchesFilters(r, filters)) continue;
      secrets.push_back(std::move(r));
    }
  }
  const std::string by = sort_by.value_or("created-date");
  const bool ascending = sort_order.value_or("desc") == "asc";
  auto sort_key = [&](const SecretRecord& r) -> int64_t {
    if (by == "last-accessed-date") return r.last_accessed_ms;
    if (by == "last-changed-date") return r.last_changed_ms;
    return r.created_ms;
  };
  std::stable_sort(secrets.begin(), secrets.end(), [&](const SecretRecord& a, const SecretRecord& b) {
    if (by == "name") return ascending ? a.name < b.name : b.name < a.name;
    if (sort_key(a) != sort_key(b)) return ascending ? sort_key(a) < sort_key(b) : sort_key(b) < sort_key(a);
    return a.name < b.name;
  });
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, secrets.size(), static_cast<size_t>(max_results.value_or(100))));
  w.StartObject();
  w.Key("SecretList");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    w.StartObject();
    secrets[i].WriteDescription(w, "SecretVersionsToStages");
    w.EndObject();
  }
  w.EndArray();
  WriteNextToken(w, page);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::DeleteSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto window, req.OptInt("RecoveryWindowInDays", INT64_MIN, INT64_MAX));
  MERIDIAN_ASSIGN_OR_RETURN(auto force, req.OptBool("ForceDeleteWithoutRecovery"));
  if (window && force.value_or(false))
    return err::InvalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  if (window && (*window < kMinRecoveryDays || *window > kMaxRecoveryDays))
    return err::InvalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  const int64_t now = clock_.NowMillis();
  // A primary keeps its replicas until they are removed, as AWS requires.
  auto refuse_replicated = [](const SecretRecord& s) -> Status {
    if (s.is_replica()) return err::ReplicaReadOnly();
    if (s.replicas.empty()) return Status::Ok();
    std::string regions;
    for (const auto& r : s.replicas) regions += (regions.empty() ? "" : ", ") + r.region;
    return err::InvalidParameter("You can't delete secret " + s.arn + " that still has replica regions [" + regions + "].");
  };

  if (force.value_or(false)) {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    auto found = Find(*txn, secret_id, caller);
    if (found.ok()) MERIDIAN_RETURN_IF_ERROR(refuse_replicated(*found));
    w.StartObject();
    if (found.ok()) {
      MERIDIAN_RETURN_IF_ERROR(Destroy(*txn, *found));
      MERIDIAN_RETURN_IF_ERROR(txn->Commit());
      WriteArnAndName(w, *found);
    } else if (found.status().type() == "ResourceNotFoundException") {
      // Forcing the deletion of a secret that does not exist succeeds, as AWS documents.
      std::vector<SecretIdCandidate> readings = ReadSecretId(secret_id, Here(caller));
      const std::string name = readings.empty() ? secret_id : readings.back().name;
      w.Key("ARN");
      w.String(secret_id.rfind("arn:", 0) == 0 ? secret_id
                                                : "arn:" + opts_.partition + ":secretsmanager:" + opts_.region + ":" +
                                                      caller.account_id + ":secret:" + name);
      w.Key("Name"); w.String(name);
    } else {
      return found.status();
    }
    w.Key("DeletionDate"); WriteTimestamp(w, now);
    w.EndObject();
    return Status::Ok();
  }

  const int64_t deletion = now + window.value_or(kDefaultRecoveryDays) * kMsPerDay;
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    MERIDIAN_RETURN_IF_ERROR(refuse_replicated(s));
    if (s.pending_deletion()) return err::MarkedForDeletion();
    s.deletion_ms = deletion;
    s.last_changed_ms = now;
    return Status::Ok();
  }));
  w.StartObject();
  WriteArnAndName(w, r);
  w.Key("DeletionDate"); WriteTimestamp(w, deletion);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::RestoreSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) {
      s.deletion_ms = 0;
      s.last_changed_ms = now;
    }
    return Status::Ok();
  }));
  w.StartObject();
  WriteArnAndName(w, r);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::secrets
