// Lookup, paging, tags, and the value paths every operation shares: reading a version through
// KMS and adding a version under the staging rules.
#include "secrets/service_impl.h"

#include <algorithm>
#include <cctype>

#include "common/encoding.h"
#include "storage/schema.h"

namespace meridian::secrets {

namespace tables = storage::tables;

const std::unordered_map<std::string_view, SecretsService::Impl::Op>& SecretsService::Impl::Ops() {
  static const std::unordered_map<std::string_view, Op> ops = {
      {"CreateSecret", &Impl::CreateSecret},
      {"DescribeSecret", &Impl::DescribeSecret},
      {"UpdateSecret", &Impl::UpdateSecret},
      {"ListSecrets", &Impl::ListSecrets},
      {"DeleteSecret", &Impl::DeleteSecret},
      {"RestoreSecret", &Impl::RestoreSecret},
      {"GetSecretValue", &Impl::GetSecretValue},
      {"BatchGetSecretValue", &Impl::BatchGetSecretValue},
      {"PutSecretValue", &Impl::PutSecretValue},
      {"UpdateSecretVersionStage", &Impl::UpdateSecretVersionStage},
      {"ListSecretVersionIds", &Impl::ListSecretVersionIds},
      {"GetRandomPassword", &Impl::GetRandomPassword},
      {"TagResource", &Impl::TagResource},
      {"UntagResource", &Impl::UntagResource},
      {"PutResourcePolicy", &Impl::PutResourcePolicy},
      {"GetResourcePolicy", &Impl::GetResourcePolicy},
      {"DeleteResourcePolicy", &Impl::DeleteResourcePolicy},
      {"ValidateResourcePolicy", &Impl::ValidateResourcePolicy},
      {"RotateSecret", &Impl::RotateSecret},
      {"CancelRotateSecret", &Impl::CancelRotateSecret},
      {"ReplicateSecretToRegions", &Impl::ReplicateSecretToRegions},
      {"RemoveRegionsFromReplication", &Impl::RemoveRegionsFromReplication},
      {"StopReplicationToReplica", &Impl::StopReplicationToReplica},
  };
  return ops;
}

// ---- helpers ----------------------------------------------------------------------------------

std::string NewVersionId() {
  return crypto::RandomUuid();
}

Result<TagList> ParseTags(const JsonRequest& req) {
  TagList tags;
  const rapidjson::Value* v = req.Get("Tags");
  if (v == nullptr) return tags;
  if (!v->IsArray()) return SerializationError("Member Tags must be a list of {Key, Value}");
  for (const auto& t : v->GetArray()) {
    if (!t.IsObject()) return SerializationError("Member Tags must be a list of {Key, Value}");
    JsonRequest tag(t);
    MERIDIAN_ASSIGN_OR_RETURN(auto key, tag.RequiredString("Key", 1, 128));
    MERIDIAN_ASSIGN_OR_RETURN(auto value, tag.OptString("Value", 0, 256));
    if (key.rfind("aws:", 0) == 0) return err::InvalidParameter("Tag keys beginning with 'aws:' are reserved for AWS use.");
    auto same = std::find_if(tags.begin(), tags.end(), [&](const auto& p) { return p.first == key; });
    if (same != tags.end()) return err::InvalidParameter("The tag key " + key + " appears more than once.");
    tags.emplace_back(std::move(key), value.value_or(""));
  }
  return tags;
}

Status MergeTags(TagList& tags, const TagList& add) {
  for (const auto& [k, v] : add) {
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == k; });
    if (it != tags.end()) it->second = v;
    else tags.emplace_back(k, v);
  }
  if (tags.size() > kMaxTagsPerSecret)
    return err::InvalidParameter("A secret can have at most " + std::to_string(kMaxTagsPerSecret) + " tags.");
  return Status::Ok();
}

namespace {
constexpr std::string_view kTokenPrefix = "meridian-page:";
}  // namespace

Result<Page> Paginate(const JsonRequest& req, size_t total, size_t page_size) {
  MERIDIAN_ASSIGN_OR_RETURN(auto token, req.OptString("NextToken", 1, 4096));
  Page p;
  if (token) {
    auto decoded = Base64Decode(*token);
    if (!decoded) return err::InvalidNextToken();
    std::string_view text = AsString(*decoded);
    if (text.rfind(kTokenPrefix, 0) != 0) return err::InvalidNextToken();
    std::string_view digits = text.substr(kTokenPrefix.size());
    if (digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return err::InvalidNextToken();
    p.begin = std::stoul(std::string(digits));
    if (p.begin > total) return err::InvalidNextToken();
  }
  p.end = std::min(total, p.begin + page_size);
  p.more = p.end < total;
  return p;
}

void WriteNextToken(JsonWriter& w, const Page& page) {
  if (!page.more) return;
  w.Key("NextToken");
  w.String(Base64Encode(AsBytes(std::string(kTokenPrefix) + std::to_string(page.end))));
}

// ---- lookup -----------------------------------------------------------------------------------

Result<std::string> SecretsService::Impl::RequiredSecretId(const JsonRequest& req) {
  return req.RequiredString("SecretId", 1, kMaxSecretIdLength);
}

Result<SecretRecord> SecretsService::Impl::Find(storage::Transaction& txn, std::string_view secret_id,
                                                const Caller& caller) const {
  for (const SecretIdCandidate& c : ReadSecretId(secret_id, Here(caller))) {
    MERIDIAN_ASSIGN_OR_RETURN(auto row, txn.Get(tables::kSecrets, SecretRowKey(caller.account_id, c.name)));
    if (!row) continue;
    MERIDIAN_ASSIGN_OR_RETURN(auto record, SecretRecord::Parse(*row));
    if (c.required_arn && record.arn != *c.required_arn) continue;
    return record;
  }
  return err::NotFound();
}

Result<SecretRecord> SecretsService::Impl::FindNow(std::string_view secret_id, const Caller& caller) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  return Find(*txn, secret_id, caller);
}

Status SecretsService::Impl::WriteRecord(storage::Transaction& txn, const SecretRecord& record) {
  return txn.Put(tables::kSecrets, SecretRowKey(record.account_id, record.name), record.Serialize());
}

Result<SecretRecord> SecretsService::Impl::Modify(std::string_view secret_id, const Caller& caller,
                                                  const Mutation& mutate) {
  return ModifyChecked(secret_id, caller, mutate, /*allow_replica=*/false);
}

Result<SecretRecord> SecretsService::Impl::ModifyAny(std::string_view secret_id, const Caller& caller,
                                                     const Mutation& mutate) {
  return ModifyChecked(secret_id, caller, mutate, /*allow_replica=*/true);
}

Result<SecretRecord> SecretsService::Impl::ModifyChecked(std::string_view secret_id, const Caller& caller,
                                                         const Mutation& mutate, bool allow_replica) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  MERIDIAN_ASSIGN_OR_RETURN(auto record, Find(*txn, secret_id, caller));
  if (record.is_replica() && !allow_replica) return err::ReplicaReadOnly();
  const SecretRecord before = record;
  MERIDIAN_RETURN_IF_ERROR(mutate(record, *txn));
  MERIDIAN_RETURN_IF_ERROR(WriteRecord(*txn, record));
  MERIDIAN_RETURN_IF_ERROR(PublishChange(*txn, before, record));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  NotifyReplication();
  return record;
}

Status SecretsService::Impl::Destroy(storage::Transaction& txn, const SecretRecord& record) {
  MERIDIAN_RETURN_IF_ERROR(txn.Delete(tables::kSecrets, SecretRowKey(record.account_id, record.name)));
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn.Scan(tables::kSecretVersions, VersionRowPrefix(record.account_id, record.name)));
  for (const auto& row : rows) MERIDIAN_RETURN_IF_ERROR(txn.Delete(tables::kSecretVersions, row.key));
  return Status::Ok();
}

// ---- values -----------------------------------------------------------------------------------

Result<std::optional<SecretValue>> SecretsService::Impl::ReadValue(const JsonRequest& req) {
  auto text = req.OptString("SecretString", 1, kMaxSecretValueSize);
  if (!text.ok()) return text.status();
  auto binary = req.OptBlob("SecretBinary", 1, kMaxSecretValueSize);
  // Wipe the request's copies whatever happens next.
  struct Wipe {
    std::optional<std::string>* text;
    std::optional<Bytes>* binary;
    ~Wipe() {
      if (text && *text) crypto::Cleanse(**text);
      if (binary && *binary) crypto::Cleanse(**binary);
    }
  } wipe{&text.value(), binary.ok() ? &binary.value() : nullptr};
  if (!binary.ok()) return binary.status();
  if (*text && *binary)
    return err::InvalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  if (*text) return std::optional<SecretValue>(SecretValue::String(AsBytes(**text)));
  if (*binary) return std::optional<SecretValue>(SecretValue::Binary(**binary));
  return std::optional<SecretValue>();
}

Result<std::string> SecretsService::Impl::ReadToken(const JsonRequest& req) {
  MERIDIAN_ASSIGN_OR_RETURN(auto token, req.OptString("ClientRequestToken", 32, 64));
  return token ? std::move(*token) : NewVersionId();
}

Result<SecretValue> SecretsService::Impl::OpenVersion(const Caller& caller, const SecretRecord& secret,
                                                      const SecretVersion& version) {
  std::optional<std::string> row;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    MERIDIAN_ASSIGN_OR_RETURN(row, txn->Get(tables::kSecretVersions,
                                            VersionRowKey(secret.account_id, secret.name, version.id)));
  }
  if (!row) return err::Internal("A stored secret version is missing.");
  return sealer_.Open(caller, *row, secret.arn, version.id);
}

Result<const SecretVersion*> SecretsService::Impl::SelectVersion(const SecretRecord& secret,
                                                                 const std::string& version_id,
                                                                 const std::string& version_stage) {
  if (!version_id.empty()) {
    const SecretVersion* v = secret.FindVersion(version_id);
    if (v == nullptr || !v->has_value)
      return err::NotFound("Secrets Manager can't find the specified secret value for VersionId: " + version_id);
    if (!version_stage.empty() && !v->HasStage(version_stage))
      return err::InvalidRequest("You provided a VersionStage that is not associated to the provided VersionId.");
    return v;
  }
  const std::string stage = version_stage.empty() ? std::string(stage::kCurrent) : version_stage;
  const SecretVersion* v = secret.VersionWithStage(stage);
  if (v == nullptr || !v->has_value)
    return err::NotFound("Secrets Manager can't find the specified secret value for staging label: " + stage);
  return v;
}

Result<SecretsService::Impl::ReadResult> SecretsService::Impl::ReadSecretValue(std::string_view secret_id,
                                                                               const std::string& version_id,
                                                                               const std::string& version_stage,
                                                                               const Caller& caller) {
  ReadResult out;
  std::optional<std::string> row;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    MERIDIAN_ASSIGN_OR_RETURN(out.secret, Find(*txn, secret_id, caller));
    if (out.secret.pending_deletion()) return err::MarkedForDeletion();
    MERIDIAN_ASSIGN_OR_RETURN(const SecretVersion* version, SelectVersion(out.secret, version_id, version_stage));
    out.version_id = version->id;
    MERIDIAN_ASSIGN_OR_RETURN(row, txn->Get(tables::kSecretVersions,
                                            VersionRowKey(out.secret.account_id, out.secret.name, out.version_id)));
  }
  if (!row) return err::Internal("A stored secret version is missing.");
  MERIDIAN_ASSIGN_OR_RETURN(out.value, sealer_.Open(caller, *row, out.secret.arn, out.version_id));
  RecordAccess(out.secret, out.version_id);
  return out;
}

void SecretsService::Impl::WriteSecretValue(JsonWriter& w, const SecretRecord& secret, const std::string& version_id,
                                            const SecretValue& value) {
  WriteArnAndName(w, secret);
  w.Key("VersionId"); w.String(version_id);
  if (value.is_string()) {
    w.Key("SecretString");
    w.String(value.bytes.empty() ? "" : reinterpret_cast<const char*>(value.bytes.data()),
             static_cast<rapidjson::SizeType>(value.bytes.size()));
  } else {
    std::string encoded = Base64Encode(value.bytes.view());
    w.Key("SecretBinary");
    w.String(encoded);
    crypto::Cleanse(encoded);
  }
  const SecretVersion* v = secret.FindVersion(version_id);
  if (v != nullptr && !v->stages.empty()) {
    w.Key("VersionStages");
    w.StartArray();
    for (const auto& s : v->stages) w.String(s);
    w.EndArray();
  }
  if (v != nullptr) { w.Key("CreatedDate"); WriteTimestamp(w, v->created_ms); }
}

void SecretsService::Impl::RecordAccess(const SecretRecord& secret, const std::string& version_id) {
  const int64_t today = DayStart(clock_.NowMillis());
  const SecretVersion* v = secret.FindVersion(version_id);
  if (secret.last_accessed_ms == today && (v == nullptr || v->last_accessed_ms == today)) return;
  Caller owner{secret.account_id, "", ""};
  // Bookkeeping only: a failure here (e.g. the secret was deleted meanwhile) must not fail the
  // read that already succeeded, so its status is deliberately dropped.
  (void)ModifyAny(secret.arn, owner, [&](SecretRecord& s, storage::Transaction& txn) {
    const bool new_day = s.last_accessed_ms != today;
    s.last_accessed_ms = today;
    if (SecretVersion* sv = s.FindVersion(version_id)) sv->last_accessed_ms = today;
    // A replica tells its primary, whose ReplicationStatus shows when each region last read it.
    return s.is_replica() && new_day ? ReportReplicaStatus(txn, s) : Status::Ok();
  });
}

namespace {
Status TokenInUse(const std::string& token, const std::string& arn) {
  return err::ResourceExists("You can't use ClientRequestToken " + token +
                             " because that value is already in use for a version of secret " + arn + ".");
}
}  // namespace

Result<SecretsService::Impl::VersionOutcome> SecretsService::Impl::AddVersion(std::string_view secret_id,
                                                                              const SecretValue& value,
                                                                              const VersionChange& change,
                                                                              const Caller& caller) {
  MERIDIAN_ASSIGN_OR_RETURN(SecretRecord before, FindNow(secret_id, caller));
  if (before.pending_deletion()) return err::MarkedForDeletion();
  if (const SecretVersion* existing = before.FindVersion(change.token); existing && existing->has_value) {
    MERIDIAN_ASSIGN_OR_RETURN(auto stored, OpenVersion(caller, before, *existing));
    if (!stored.SameAs(value)) return TokenInUse(change.token, before.arn);
    return VersionOutcome{std::move(before), false};
  }

  // Seal outside any transaction (KMS has its own).
  const std::string key = change.kms_key_id ? *change.kms_key_id : before.kms_key_id;
  MERIDIAN_ASSIGN_OR_RETURN(auto sealed, sealer_.Seal(caller, key, before.arn, change.token, value));

  const int64_t now = clock_.NowMillis();
  auto committed = Modify(before.arn, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    const SecretVersion* existing = s.FindVersion(change.token);
    if (existing != nullptr && existing->has_value) return TokenInUse(change.token, s.arn);
    if (existing == nullptr) {
      MERIDIAN_ASSIGN_OR_RETURN(auto removed, MakeRoomForVersion(s, now));
      for (const auto& id : removed)
        MERIDIAN_RETURN_IF_ERROR(txn.Delete(tables::kSecretVersions, VersionRowKey(s.account_id, s.name, id)));
      SecretVersion fresh;
      fresh.id = change.token;
      fresh.created_ms = now;
      s.versions.push_back(std::move(fresh));
    }
    SecretVersion* v = s.FindVersion(change.token);
    v->has_value = true;
    v->kms_key_arn = sealed.key_arn;
    v->default_key = key.empty();
    if (change.mutate) change.mutate(s);
    std::vector<std::string> stages = change.stages.value_or(std::vector<std::string>{std::string(stage::kCurrent)});
    if (s.VersionWithStage(stage::kCurrent) == nullptr &&
        std::find(stages.begin(), stages.end(), stage::kCurrent) == stages.end())
      stages.emplace_back(stage::kCurrent);
    for (const auto& label : stages) AttachStage(s, change.token, label);
    MERIDIAN_RETURN_IF_ERROR(CheckStageQuotas(s));
    s.last_changed_ms = now;
    return txn.Put(tables::kSecretVersions, VersionRowKey(s.account_id, s.name, change.token), sealed.row);
  });
  if (!committed.ok()) return committed.status();
  return VersionOutcome{std::move(committed).value(), true};
}

Status SecretsService::Impl::ReencryptLabeledVersions(const SecretRecord& secret, const Caller& caller) {
  for (const auto& version : secret.versions) {
    if (!version.has_value ||
        !(version.HasStage(stage::kCurrent) || version.HasStage(stage::kPending) || version.HasStage(stage::kPrevious)))
      continue;
    auto value = OpenVersion(caller, secret, version);
    if (!value.ok()) continue;  // the old key no longer opens it: leave it as it is, as AWS does
    MERIDIAN_ASSIGN_OR_RETURN(auto sealed, sealer_.Seal(caller, secret.kms_key_id, secret.arn, version.id, *value));
    // A replica's own key may change (its one independent property, secret_replication.h).
    auto written = ModifyChecked(secret.arn, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
      SecretVersion* v = s.FindVersion(version.id);
      if (v == nullptr || !v->has_value) return Status::Ok();  // removed meanwhile
      v->kms_key_arn = sealed.key_arn;
      v->default_key = s.kms_key_id.empty();
      return txn.Put(tables::kSecretVersions, VersionRowKey(s.account_id, s.name, v->id), sealed.row);
    }, /*allow_replica=*/secret.is_replica());
    if (!written.ok()) return written.status();
  }
  return Status::Ok();
}

}  // namespace meridian::secrets
