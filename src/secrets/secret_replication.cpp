// Both ends of secret replication (secret_replication.h): what a primary publishes, the expander
// that adds values on the wire, and the handlers that apply the messages in the other region.
#include "secrets/secret_replication.h"

#include <algorithm>
#include <unordered_set>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include "common/encoding.h"
#include "secrets/service_impl.h"
#include "storage/schema.h"

namespace meridian::secrets {

namespace tables = storage::tables;

namespace {

// Secrets Manager acting on its own behalf in the secret's account (as rotation does).
Caller ServiceCaller(const std::string& account_id) { return Caller{account_id, "secretsmanager.amazonaws.com", ""}; }

Status Malformed(std::string_view kind) {
  return Status("ReplicationError", "malformed replicated message " + std::string(kind), 400);
}

// The secret a message is about: its account, name and the primary's ARN.
struct SecretRef {
  std::string account_id, name, primary_arn;
};

std::string Str(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool ReadRef(const rapidjson::Value& p, SecretRef& ref) {
  ref.account_id = Str(p, "account");
  ref.name = Str(p, "name");
  ref.primary_arn = Str(p, "arn");
  return !ref.account_id.empty() && !ref.name.empty() && !ref.primary_arn.empty();
}

void WriteRef(JsonWriter& w, const SecretRef& ref) {
  w.Key("account"); w.String(ref.account_id);
  w.Key("name"); w.String(ref.name);
  w.Key("arn"); w.String(ref.primary_arn);
}

// A payload: the reference and whatever `extra` writes.
template <typename Extra>
std::string Payload(const SecretRef& ref, Extra&& extra) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  WriteRef(w, ref);
  extra(w);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

SecretRef RefOfPrimary(const SecretRecord& primary) { return {primary.account_id, primary.name, primary.arn}; }

// The payload of a SecretChanged: the shared view of `s` and the versions whose values follow.
std::string ChangedPayload(const SecretRecord& s, const std::string& shared, const std::vector<std::string>& values) {
  return Payload(RefOfPrimary(s), [&](JsonWriter& w) {
    w.Key("record"); w.String(shared);
    w.Key("values");
    w.StartArray();
    for (const auto& id : values) w.String(id);
    w.EndArray();
  });
}

// True if `local` is the replica, in this region, of the primary secret `primary_arn` in `source`.
bool IsReplicaOf(const SecretRecord& local, std::string_view source, const std::string& primary_arn) {
  return local.is_replica() && local.primary_region == source &&
         local.arn == ArnInRegion(primary_arn, ArnRegion(local.arn));
}

Result<std::optional<SecretRecord>> Load(storage::Transaction& txn, const SecretRef& ref) {
  MERIDIAN_ASSIGN_OR_RETURN(auto row, txn.Get(tables::kSecrets, SecretRowKey(ref.account_id, ref.name)));
  if (!row) return std::optional<SecretRecord>();
  MERIDIAN_ASSIGN_OR_RETURN(auto record, SecretRecord::Parse(*row));
  return std::optional<SecretRecord>(std::move(record));
}

Status WriteRecordRow(storage::Transaction& txn, const SecretRecord& r) {
  return txn.Put(tables::kSecrets, SecretRowKey(r.account_id, r.name), r.Serialize());
}

// Overwrites the characters of a string value held by a RapidJSON document before it is freed.
void CleanseString(const rapidjson::Value& v) {
  if (v.IsString()) crypto::Cleanse(const_cast<char*>(v.GetString()), v.GetStringLength());
}

}  // namespace

std::string SecretRefPayload(const std::string& account_id, const std::string& name, const std::string& primary_arn) {
  return Payload(SecretRef{account_id, name, primary_arn}, [](JsonWriter&) {});
}

// ---- the primary's side ------------------------------------------------------------------------

Status SecretsService::Impl::Publish(storage::Transaction& txn, const std::string& region, std::string_view kind,
                                     std::string payload) {
  if (!opts_.outbox || region == opts_.region) return Status::Ok();
  return opts_.outbox->Enqueue(txn, region, {std::string(kind), std::move(payload)});
}

void SecretsService::Impl::NotifyReplication() {
  if (opts_.outbox && opts_.replication_enqueued) opts_.replication_enqueued();
}

Status SecretsService::Impl::PublishChange(storage::Transaction& txn, const SecretRecord& before,
                                           const SecretRecord& after) {
  if (after.replicas.empty() || after.is_replica()) return Status::Ok();
  const std::string shared = after.SharedView().Serialize();
  if (shared == before.SharedView().Serialize()) return Status::Ok();  // e.g. an access date
  std::vector<std::string> gained;
  for (const auto& v : after.versions) {
    if (!v.has_value) continue;
    const SecretVersion* old = before.FindVersion(v.id);
    if (old == nullptr || !old->has_value) gained.push_back(v.id);
  }
  const std::string payload = ChangedPayload(after, shared, gained);
  for (const auto& r : after.replicas)
    MERIDIAN_RETURN_IF_ERROR(Publish(txn, r.region, message::kSecretChanged, payload));
  return Status::Ok();
}

Status SecretsService::Impl::StartReplicas(storage::Transaction& txn, const SecretRecord& s,
                                           const std::vector<ReplicaInfo>& added, bool force_overwrite) {
  if (added.empty()) return Status::Ok();
  std::vector<std::string> all_values;
  for (const auto& v : s.versions)
    if (v.has_value) all_values.push_back(v.id);
  const std::string changed = ChangedPayload(s, s.SharedView().Serialize(), all_values);
  for (const auto& r : added) {
    std::string created = Payload(RefOfPrimary(s), [&](JsonWriter& w) {
      w.Key("kms_key_id"); w.String(r.kms_key_id);
      w.Key("force_overwrite"); w.Bool(force_overwrite);
      w.Key("created_ms"); w.Int64(s.created_ms);
    });
    MERIDIAN_RETURN_IF_ERROR(Publish(txn, r.region, message::kReplicaCreated, std::move(created)));
    MERIDIAN_RETURN_IF_ERROR(Publish(txn, r.region, message::kSecretChanged, changed));
  }
  return Status::Ok();
}

Status SecretsService::Impl::RefuseReplicaWrite(std::string_view operation, const JsonRequest& req,
                                                const Caller& caller) {
  static const std::unordered_set<std::string_view> kWrites = {
      "UpdateSecret", "PutSecretValue", "UpdateSecretVersionStage", "DeleteSecret", "RestoreSecret",
      "TagResource", "UntagResource", "PutResourcePolicy", "DeleteResourcePolicy", "RotateSecret",
      "CancelRotateSecret", "ReplicateSecretToRegions", "RemoveRegionsFromReplication"};
  if (kWrites.count(operation) == 0) return Status::Ok();
  // A replica's encryption key is its own: UpdateSecret with KmsKeyId (and nothing else the
  // replica shares) is allowed in its region (UpdateReplicaKey checks the rest).
  if (operation == "UpdateSecret" && req.Has("KmsKeyId")) return Status::Ok();
  auto id = req.OptString("SecretId", 1, kMaxSecretIdLength);
  if (!id.ok() || !*id) return Status::Ok();  // the operation reports it
  auto found = FindNow(**id, caller);
  if (!found.ok()) return Status::Ok();
  return found->is_replica() ? err::ReplicaReadOnly() : Status::Ok();
}

// At send time: the values of the versions a SecretChanged names, opened from this region's
// store, travel in the wire payload only.
Result<std::string> SecretsService::Impl::ExpandForWire(const replication::Message& message) {
  if (message.kind != message::kSecretChanged) return message.payload;
  rapidjson::Document p;
  p.Parse(message.payload.data(), message.payload.size());
  SecretRef ref;
  if (p.HasParseError() || !p.IsObject() || !ReadRef(p, ref) || !p.HasMember("values") || !p["values"].IsArray())
    return Malformed(message.kind);
  if (p["values"].Empty()) return message.payload;

  auto& alloc = p.GetAllocator();
  rapidjson::Value wire_values(rapidjson::kObjectType), missing(rapidjson::kArrayType), errors(rapidjson::kObjectType);
  const Caller service = ServiceCaller(ref.account_id);
  for (const auto& id_value : p["values"].GetArray()) {
    if (!id_value.IsString()) return Malformed(message.kind);
    const std::string id = id_value.GetString();
    std::optional<std::string> row;
    {
      MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
      MERIDIAN_ASSIGN_OR_RETURN(row, txn->Get(tables::kSecretVersions, VersionRowKey(ref.account_id, ref.name, id)));
    }
    if (!row) {  // pruned or destroyed since: later messages no longer name it
      missing.PushBack(rapidjson::Value(id.c_str(), alloc), alloc);
      continue;
    }
    auto value = sealer_.Open(service, *row, ref.primary_arn, id);
    if (!value.ok()) {
      errors.AddMember(rapidjson::Value(id.c_str(), alloc), rapidjson::Value(value.status().message().c_str(), alloc),
                       alloc);
      continue;
    }
    std::string b64 = Base64Encode(value->bytes.view());
    rapidjson::Value entry(rapidjson::kObjectType);
    entry.AddMember("kind", static_cast<int>(value->kind), alloc);
    entry.AddMember("value", rapidjson::Value(b64.c_str(), static_cast<rapidjson::SizeType>(b64.size()), alloc), alloc);
    crypto::Cleanse(b64);
    wire_values.AddMember(rapidjson::Value(id.c_str(), alloc), entry, alloc);
  }
  p.AddMember("wire_values", wire_values, alloc);
  p.AddMember("value_missing", missing, alloc);
  p.AddMember("value_errors", errors, alloc);
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  p.Accept(w);
  std::string out(sb.GetString(), sb.GetSize());
  crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
  for (auto& m : p["wire_values"].GetObject()) CleanseString(m.value["value"]);
  return out;
}

// ---- the replica's side ------------------------------------------------------------------------

Status SecretsService::Impl::ApplyReplicated(storage::Transaction& txn, std::string_view source,
                                             const replication::WireEntry& entry) {
  rapidjson::Document p;
  p.Parse(entry.payload.data(), entry.payload.size());
  if (p.HasParseError() || !p.IsObject()) return Malformed(entry.kind);
  struct Wipe {  // the document may hold values (SecretChanged's wire_values)
    rapidjson::Document& doc;
    ~Wipe() {
      auto it = doc.FindMember("wire_values");
      if (it == doc.MemberEnd() || !it->value.IsObject()) return;
      for (auto& m : it->value.GetObject())
        if (m.value.IsObject() && m.value.HasMember("value")) CleanseString(m.value["value"]);
    }
  } wipe{p};
  if (entry.kind == message::kReplicaCreated) return ApplyReplicaCreated(txn, source, p);
  if (entry.kind == message::kSecretChanged) return ApplySecretChanged(txn, source, p);
  if (entry.kind == message::kReplicaRemoved) return ApplyReplicaRemoved(txn, source, p);
  if (entry.kind == message::kReplicaStatus) return ApplyReplicaStatus(txn, source, p);
  if (entry.kind == message::kReplicaPromoted) return ApplyReplicaPromoted(txn, source, p);
  return Status("ReplicationError", "unknown replicated Secrets Manager message " + entry.kind, 400);
}

Status SecretsService::Impl::ReportReplicaStatus(storage::Transaction& txn, const SecretRecord& replica,
                                                 bool key_changed) {
  const SecretRef ref{replica.account_id, replica.name, ArnInRegion(replica.arn, replica.primary_region)};
  return Publish(txn, replica.primary_region, message::kReplicaStatus, Payload(ref, [&](JsonWriter& w) {
                   w.Key("status"); w.String(replica.replica_status);
                   w.Key("message"); w.String(replica.replica_status_message);
                   w.Key("accessed_ms"); w.Int64(replica.last_accessed_ms);
                   if (key_changed) { w.Key("kms_key_id"); w.String(replica.kms_key_id); }
                 }));
}

Status SecretsService::Impl::ApplyReplicaCreated(storage::Transaction& txn, std::string_view source,
                                                 const rapidjson::Value& p) {
  SecretRef ref;
  if (!ReadRef(p, ref) || !p.HasMember("created_ms") || !p["created_ms"].IsInt64())
    return Malformed(message::kReplicaCreated);
  const std::string kms_key_id = Str(p, "kms_key_id");
  const bool force = p.HasMember("force_overwrite") && p["force_overwrite"].IsBool() && p["force_overwrite"].GetBool();
  MERIDIAN_ASSIGN_OR_RETURN(auto local, Load(txn, ref));

  // A replica that cannot be created is reported Failed to the primary; nothing changes here.
  auto fail = [&](const std::string& why) {
    SecretRecord report;
    report.account_id = ref.account_id;
    report.name = ref.name;
    report.arn = ArnInRegion(ref.primary_arn, opts_.region);
    report.primary_region = std::string(source);
    report.replica_status = replica_status::kFailed;
    report.replica_status_message = "Replication failed: " + why;
    return ReportReplicaStatus(txn, report);
  };
  if (local && IsReplicaOf(*local, source, ref.primary_arn)) {
    // Replicated again (a retry after a failure): the following SecretChanged re-sends every value.
    local->kms_key_id = kms_key_id;
    local->replica_status = replica_status::kInProgress;
    local->replica_status_message.clear();
    return WriteRecordRow(txn, *local);
  }
  if (local && !force) return fail("Secret name " + ref.name + " already exists in region " + opts_.region + ".");
  if (local && !local->replicas.empty())
    return fail("Secret name " + ref.name + " already exists in region " + opts_.region +
                " and is the primary of other replicas.");
  if (!kms_key_id.empty()) {
    Status usable = sealer_.CheckKey(ServiceCaller(ref.account_id), kms_key_id);
    if (!usable.ok()) return fail(usable.message());
  }
  if (local) MERIDIAN_RETURN_IF_ERROR(Destroy(txn, *local));  // ForceOverwriteReplicaSecret

  SecretRecord r;
  r.account_id = ref.account_id;
  r.name = ref.name;
  r.arn = ArnInRegion(ref.primary_arn, opts_.region);
  r.kms_key_id = kms_key_id;
  r.created_ms = r.last_changed_ms = p["created_ms"].GetInt64();
  r.primary_region = std::string(source);
  r.replica_status = replica_status::kInProgress;
  return WriteRecordRow(txn, r);
}

Status SecretsService::Impl::ApplySecretChanged(storage::Transaction& txn, std::string_view source,
                                                const rapidjson::Value& p) {
  SecretRef ref;
  if (!ReadRef(p, ref) || !p.HasMember("record") || !p["record"].IsString() || !p.HasMember("values") ||
      !p["values"].IsArray())
    return Malformed(message::kSecretChanged);
  MERIDIAN_ASSIGN_OR_RETURN(auto local, Load(txn, ref));
  if (!local || !IsReplicaOf(*local, source, ref.primary_arn)) return Status::Ok();  // removed, promoted or clashing
  MERIDIAN_ASSIGN_OR_RETURN(SecretRecord shared, SecretRecord::Parse(Str(p, "record")));
  if (shared.account_id != ref.account_id || shared.name != ref.name) return Malformed(message::kSecretChanged);

  std::unordered_set<std::string> sent, missing;
  for (const auto& id : p["values"].GetArray())
    if (id.IsString()) sent.insert(id.GetString());
  if (auto it = p.FindMember("value_missing"); it != p.MemberEnd() && it->value.IsArray())
    for (const auto& id : it->value.GetArray())
      if (id.IsString()) missing.insert(id.GetString());
  const rapidjson::Value* wire_values = nullptr;
  if (auto it = p.FindMember("wire_values"); it != p.MemberEnd() && it->value.IsObject()) wire_values = &it->value;
  const rapidjson::Value* value_errors = nullptr;
  if (auto it = p.FindMember("value_errors"); it != p.MemberEnd() && it->value.IsObject()) value_errors = &it->value;

  // The replica: the primary's shared record with this region's own ARN, key, access dates and
  // sealed values.
  SecretRecord r = std::move(shared);
  r.arn = local->arn;
  r.kms_key_id = local->kms_key_id;
  r.primary_region = local->primary_region;
  r.last_accessed_ms = local->last_accessed_ms;
  const Caller service = ServiceCaller(r.account_id);
  // Sealing must not create the aws/secretsmanager key inside this transaction: ReplicaCreated's
  // after-commit step did, so name it by its alias.
  const std::string seal_key = r.kms_key_id.empty() ? std::string(kDefaultKeyAlias) : r.kms_key_id;
  std::vector<std::string> failures;
  std::vector<SecretVersion> kept;
  for (SecretVersion& v : r.versions) {
    const SecretVersion* have = local->FindVersion(v.id);
    v.last_accessed_ms = have ? have->last_accessed_ms : 0;
    if (!v.has_value) {
      kept.push_back(std::move(v));
      continue;
    }
    if (have && have->has_value) {
      v.kms_key_arn = have->kms_key_arn;
      v.default_key = have->default_key;
      kept.push_back(std::move(v));
      continue;
    }
    if (missing.count(v.id)) continue;  // gone on the primary too
    const rapidjson::Value* wire = nullptr;
    if (wire_values) {
      auto it = wire_values->FindMember(v.id.c_str());
      if (it != wire_values->MemberEnd() && it->value.IsObject()) wire = &it->value;
    }
    if (wire == nullptr) {
      std::string why = "version " + v.id + " was not received";
      if (value_errors && value_errors->HasMember(v.id.c_str()) && (*value_errors)[v.id.c_str()].IsString())
        why = "version " + v.id + " could not be read in " + std::string(source) + ": " +
              (*value_errors)[v.id.c_str()].GetString();
      else if (!sent.count(v.id))
        why = "version " + v.id + " is missing here; replicate the secret to this region again to resend it";
      failures.push_back(why);
      continue;
    }
    const rapidjson::Value& kind = (*wire)["kind"];
    std::string b64 = Str(*wire, "value");
    std::optional<Bytes> bytes = Base64Decode(b64);
    if (!kind.IsInt() || !bytes ||
        (kind.GetInt() != static_cast<int>(SecretValue::Kind::kString) &&
         kind.GetInt() != static_cast<int>(SecretValue::Kind::kBinary))) {
      if (bytes) crypto::Cleanse(*bytes);
      return Malformed(message::kSecretChanged);
    }
    SecretValue value{static_cast<SecretValue::Kind>(kind.GetInt()), crypto::SecureBytes(*bytes)};
    crypto::Cleanse(*bytes);
    crypto::Cleanse(b64);
    auto sealed = sealer_.Seal(service, seal_key, r.arn, v.id, value);
    if (!sealed.ok()) {
      failures.push_back("version " + v.id + " could not be encrypted in " + opts_.region + ": " +
                         sealed.status().message());
      continue;
    }
    MERIDIAN_RETURN_IF_ERROR(txn.Put(tables::kSecretVersions, VersionRowKey(r.account_id, r.name, v.id), sealed->row));
    v.kms_key_arn = sealed->key_arn;
    v.default_key = r.kms_key_id.empty();
    kept.push_back(std::move(v));
  }
  r.versions = std::move(kept);
  // Versions the primary no longer has (pruned) go here too.
  for (const auto& old : local->versions)
    if (r.FindVersion(old.id) == nullptr)
      MERIDIAN_RETURN_IF_ERROR(txn.Delete(tables::kSecretVersions, VersionRowKey(r.account_id, r.name, old.id)));

  if (failures.empty()) {
    r.replica_status = replica_status::kInSync;
    r.replica_status_message.clear();
  } else {
    r.replica_status = replica_status::kFailed;
    std::string message = "Replication failed: ";
    for (size_t i = 0; i < failures.size(); ++i) message += (i ? "; " : "") + failures[i];
    if (message.size() > 4096) message.resize(4096);  // AWS's limit for StatusMessage
    r.replica_status_message = std::move(message);
  }
  MERIDIAN_RETURN_IF_ERROR(WriteRecordRow(txn, r));
  if (r.replica_status != local->replica_status || r.replica_status_message != local->replica_status_message)
    return ReportReplicaStatus(txn, r);
  return Status::Ok();
}

Status SecretsService::Impl::ApplyReplicaRemoved(storage::Transaction& txn, std::string_view source,
                                                 const rapidjson::Value& p) {
  SecretRef ref;
  if (!ReadRef(p, ref)) return Malformed(message::kReplicaRemoved);
  MERIDIAN_ASSIGN_OR_RETURN(auto local, Load(txn, ref));
  if (!local || !IsReplicaOf(*local, source, ref.primary_arn)) return Status::Ok();
  return Destroy(txn, *local);
}

Status SecretsService::Impl::ApplyReplicaStatus(storage::Transaction& txn, std::string_view source,
                                                const rapidjson::Value& p) {
  SecretRef ref;
  if (!ReadRef(p, ref) || !p.HasMember("accessed_ms") || !p["accessed_ms"].IsInt64())
    return Malformed(message::kReplicaStatus);
  MERIDIAN_ASSIGN_OR_RETURN(auto local, Load(txn, ref));
  if (!local || local->is_replica() || local->arn != ref.primary_arn) return Status::Ok();
  ReplicaInfo* info = local->FindReplica(source);
  if (info == nullptr) return Status::Ok();  // removed meanwhile
  info->status = Str(p, "status");
  info->status_message = Str(p, "message");
  if (p.HasMember("kms_key_id") && p["kms_key_id"].IsString()) info->kms_key_id = p["kms_key_id"].GetString();
  if (info->status == replica_status::kInSync && info->status_message.empty())
    info->status_message = "Replication succeeded";
  info->last_accessed_ms = std::max(info->last_accessed_ms, p["accessed_ms"].GetInt64());
  return WriteRecordRow(txn, *local);
}

Status SecretsService::Impl::ApplyReplicaPromoted(storage::Transaction& txn, std::string_view source,
                                                  const rapidjson::Value& p) {
  SecretRef ref;
  if (!ReadRef(p, ref)) return Malformed(message::kReplicaPromoted);
  MERIDIAN_ASSIGN_OR_RETURN(auto local, Load(txn, ref));
  if (!local || local->is_replica() || local->arn != ref.primary_arn) return Status::Ok();
  std::erase_if(local->replicas, [&](const ReplicaInfo& r) { return r.region == source; });
  return WriteRecordRow(txn, *local);
}

void SecretsService::Impl::AfterReplicatedCommit(const replication::WireEntry& entry) {
  if (entry.kind == message::kReplicaCreated) {
    // A replica under the default key needs this region's aws/secretsmanager key before its
    // values arrive; it is created here, outside the inbox's transaction. A failure shows up as
    // the replica's Failed status when the values cannot be sealed.
    rapidjson::Document p;
    p.Parse(entry.payload.data(), entry.payload.size());
    SecretRef ref;
    if (!p.HasParseError() && p.IsObject() && ReadRef(p, ref) && Str(p, "kms_key_id").empty()) {
      auto txn = storage_.BeginRead();
      auto local = txn.ok() ? Load(**txn, ref) : Result<std::optional<SecretRecord>>(txn.status());
      if (local.ok() && *local && IsReplicaOf(**local, ArnRegion(ref.primary_arn), ref.primary_arn))
        (void)sealer_.DefaultKeyArn(ServiceCaller(ref.account_id));
    }
  }
  NotifyReplication();  // statuses may have been enqueued for the primary
}

}  // namespace meridian::secrets
