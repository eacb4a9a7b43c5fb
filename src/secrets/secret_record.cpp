#include "secrets/secret_record.h"

#include <algorithm>

#include <rapidjson/document.h>

#include "secrets/errors.h"
#include "secrets/naming.h"

namespace meridian::secrets {
namespace {

constexpr int kFormat = 1;

void WritePairs(JsonWriter& w, const TagList& pairs) {
  w.StartArray();
  for (const auto& [k, v] : pairs) {
    w.StartArray();
    w.String(k);
    w.String(v);
    w.EndArray();
  }
  w.EndArray();
}

// Typed reads from a stored record; any mismatch marks the record corrupt.
class Reader {
 public:
  explicit Reader(const rapidjson::Value& obj) : obj_(obj) {}
  bool ok() const { return ok_; }

  std::string Str(const char* name) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) return {};
    if (!it->value.IsString()) return Fail<std::string>();
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  std::optional<std::string> OptStr(const char* name) {
    if (!obj_.HasMember(name)) return std::nullopt;
    return Str(name);
  }
  int64_t Int(const char* name) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) return 0;
    if (!it->value.IsInt64()) return Fail<int64_t>();
    return it->value.GetInt64();
  }
  bool Bool(const char* name) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) return false;
    if (!it->value.IsBool()) return Fail<bool>();
    return it->value.GetBool();
  }
  TagList Pairs(const char* name) {
    TagList out;
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) return out;
    if (!it->value.IsArray()) return Fail<TagList>();
    for (const auto& p : it->value.GetArray()) {
      if (!p.IsArray() || p.Size() != 2 || !p[0].IsString() || !p[1].IsString()) return Fail<TagList>();
      out.emplace_back(std::string(p[0].GetString(), p[0].GetStringLength()),
                       std::string(p[1].GetString(), p[1].GetStringLength()));
    }
    return out;
  }
  std::vector<std::string> Strings(const char* name) {
    std::vector<std::string> out;
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) return out;
    if (!it->value.IsArray()) return Fail<std::vector<std::string>>();
    for (const auto& s : it->value.GetArray()) {
      if (!s.IsString()) return Fail<std::vector<std::string>>();
      out.emplace_back(s.GetString(), s.GetStringLength());
    }
    return out;
  }
  const rapidjson::Value* Object(const char* name) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd()) return nullptr;
    if (!it->value.IsObject()) return Fail<const rapidjson::Value*>();
    return &it->value;
  }
  const rapidjson::Value* Array(const char* name) {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd() || !it->value.IsArray()) return Fail<const rapidjson::Value*>();
    return &it->value;
  }

 private:
  template <typename T>
  T Fail() {
    ok_ = false;
    return T();
  }
  const rapidjson::Value& obj_;
  bool ok_ = true;
};

}  // namespace

bool SecretVersion::HasStage(std::string_view stage) const {
  return std::find(stages.begin(), stages.end(), stage) != stages.end();
}

SecretVersion* SecretRecord::FindVersion(std::string_view id) {
  auto it = std::find_if(versions.begin(), versions.end(), [&](const SecretVersion& v) { return v.id == id; });
  return it == versions.end() ? nullptr : &*it;
}
const SecretVersion* SecretRecord::FindVersion(std::string_view id) const {
  return const_cast<SecretRecord*>(this)->FindVersion(id);
}
SecretVersion* SecretRecord::VersionWithStage(std::string_view stage) {
  auto it = std::find_if(versions.begin(), versions.end(), [&](const SecretVersion& v) { return v.HasStage(stage); });
  return it == versions.end() ? nullptr : &*it;
}
const SecretVersion* SecretRecord::VersionWithStage(std::string_view stage) const {
  return const_cast<SecretRecord*>(this)->VersionWithStage(stage);
}

ReplicaInfo* SecretRecord::FindReplica(std::string_view region) {
  auto it = std::find_if(replicas.begin(), replicas.end(), [&](const ReplicaInfo& r) { return r.region == region; });
  return it == replicas.end() ? nullptr : &*it;
}

const ReplicaInfo* SecretRecord::FindReplica(std::string_view region) const {
  return const_cast<SecretRecord*>(this)->FindReplica(region);
}

SecretRecord SecretRecord::SharedView() const {
  SecretRecord v = *this;
  v.kms_key_id.clear();
  v.last_accessed_ms = 0;
  v.replicas.clear();
  v.primary_region.clear();
  v.replica_status.clear();
  v.replica_status_message.clear();
  for (auto& version : v.versions) {
    version.last_accessed_ms = 0;
    version.kms_key_arn.clear();
    version.default_key = false;
  }
  return v;
}

std::string SecretRecord::Serialize() const {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("format"); w.Int(kFormat);
  w.Key("account"); w.String(account_id);
  w.Key("name"); w.String(name);
  w.Key("arn"); w.String(arn);
  if (description) { w.Key("description"); w.String(*description); }
  w.Key("kms_key_id"); w.String(kms_key_id);
  w.Key("type"); w.String(type);
  w.Key("created_ms"); w.Int64(created_ms);
  w.Key("changed_ms"); w.Int64(last_changed_ms);
  w.Key("accessed_ms"); w.Int64(last_accessed_ms);
  w.Key("deletion_ms"); w.Int64(deletion_ms);
  w.Key("tags"); WritePairs(w, tags);
  w.Key("policy"); w.String(resource_policy);
  w.Key("rotation");
  w.StartObject();
  w.Key("configured"); w.Bool(rotation.configured);
  w.Key("enabled"); w.Bool(rotation.enabled);
  w.Key("function"); w.String(rotation.function_id);
  if (rotation.rules.automatically_after_days) { w.Key("days"); w.Int64(*rotation.rules.automatically_after_days); }
  w.Key("schedule"); w.String(rotation.rules.schedule_expression);
  w.Key("duration"); w.String(rotation.rules.duration);
  w.Key("last_ms"); w.Int64(rotation.last_rotated_ms);
  w.Key("next_ms"); w.Int64(rotation.next_rotation_ms);
  w.EndObject();
  w.Key("ext_metadata"); WritePairs(w, external_rotation_metadata);
  w.Key("ext_role"); w.String(external_rotation_role_arn);
  w.Key("versions");
  w.StartArray();
  for (const auto& v : versions) {
    w.StartObject();
    w.Key("id"); w.String(v.id);
    w.Key("created_ms"); w.Int64(v.created_ms);
    w.Key("accessed_ms"); w.Int64(v.last_accessed_ms);
    w.Key("stages");
    w.StartArray();
    for (const auto& s : v.stages) w.String(s);
    w.EndArray();
    w.Key("has_value"); w.Bool(v.has_value);
    w.Key("key"); w.String(v.kms_key_arn);
    w.Key("default_key"); w.Bool(v.default_key);
    w.EndObject();
  }
  w.EndArray();
  if (!replicas.empty()) {
    w.Key("replicas");
    w.StartArray();
    for (const auto& r : replicas) {
      w.StartObject();
      w.Key("region"); w.String(r.region);
      w.Key("kms_key_id"); w.String(r.kms_key_id);
      w.Key("status"); w.String(r.status);
      w.Key("message"); w.String(r.status_message);
      w.Key("accessed_ms"); w.Int64(r.last_accessed_ms);
      w.EndObject();
    }
    w.EndArray();
  }
  if (is_replica()) {
    w.Key("primary_region"); w.String(primary_region);
    w.Key("replica_status"); w.String(replica_status);
    w.Key("replica_message"); w.String(replica_status_message);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Result<SecretRecord> SecretRecord::Parse(std::string_view json) {
  const Status corrupt = err::Internal("A stored secret record is corrupt.");
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return corrupt;
  Reader r(d);
  if (r.Int("format") != kFormat) return corrupt;
  SecretRecord s;
  s.account_id = r.Str("account");
  s.name = r.Str("name");
  s.arn = r.Str("arn");
  s.description = r.OptStr("description");
  s.kms_key_id = r.Str("kms_key_id");
  s.type = r.Str("type");
  s.created_ms = r.Int("created_ms");
  s.last_changed_ms = r.Int("changed_ms");
  s.last_accessed_ms = r.Int("accessed_ms");
  s.deletion_ms = r.Int("deletion_ms");
  s.tags = r.Pairs("tags");
  s.resource_policy = r.Str("policy");
  s.external_rotation_metadata = r.Pairs("ext_metadata");
  s.external_rotation_role_arn = r.Str("ext_role");
  if (const rapidjson::Value* rot = r.Object("rotation")) {
    Reader rr(*rot);
    s.rotation.configured = rr.Bool("configured");
    s.rotation.enabled = rr.Bool("enabled");
    s.rotation.function_id = rr.Str("function");
    if (rot->HasMember("days")) s.rotation.rules.automatically_after_days = rr.Int("days");
    s.rotation.rules.schedule_expression = rr.Str("schedule");
    s.rotation.rules.duration = rr.Str("duration");
    s.rotation.last_rotated_ms = rr.Int("last_ms");
    s.rotation.next_rotation_ms = rr.Int("next_ms");
    if (!rr.ok()) return corrupt;
  }
  const rapidjson::Value* versions = r.Array("versions");
  if (!r.ok() || versions == nullptr || s.name.empty() || s.arn.empty()) return corrupt;
  for (const auto& item : versions->GetArray()) {
    if (!item.IsObject()) return corrupt;
    Reader vr(item);
    SecretVersion v;
    v.id = vr.Str("id");
    v.created_ms = vr.Int("created_ms");
    v.last_accessed_ms = vr.Int("accessed_ms");
    v.stages = vr.Strings("stages");
    v.has_value = vr.Bool("has_value");
    v.kms_key_arn = vr.Str("key");
    v.default_key = vr.Bool("default_key");
    if (!vr.ok() || v.id.empty()) return corrupt;
    s.versions.push_back(std::move(v));
  }
  if (d.HasMember("replicas")) {
    const rapidjson::Value* replicas = r.Array("replicas");
    if (!r.ok()) return corrupt;
    for (const auto& item : replicas->GetArray()) {
      if (!item.IsObject()) return corrupt;
      Reader rr(item);
      ReplicaInfo info;
      info.region = rr.Str("region");
      info.kms_key_id = rr.Str("kms_key_id");
      info.status = rr.Str("status");
      info.status_message = rr.Str("message");
      info.last_accessed_ms = rr.Int("accessed_ms");
      if (!rr.ok() || info.region.empty()) return corrupt;
      s.replicas.push_back(std::move(info));
    }
  }
  s.primary_region = r.Str("primary_region");
  s.replica_status = r.Str("replica_status");
  s.replica_status_message = r.Str("replica_message");
  if (!r.ok()) return corrupt;
  return s;
}

void SecretRecord::WriteDescription(JsonWriter& w, const char* versions_member) const {
  w.Key("ARN"); w.String(arn);
  w.Key("Name"); w.String(name);
  if (!type.empty()) { w.Key("Type"); w.String(type); }
  if (description) { w.Key("Description"); w.String(*description); }
  if (!kms_key_id.empty()) { w.Key("KmsKeyId"); w.String(kms_key_id); }
  if (rotation.configured) {
    w.Key("RotationEnabled"); w.Bool(rotation.enabled);
    if (!rotation.function_id.empty()) { w.Key("RotationLambdaARN"); w.String(rotation.function_id); }
    if (!rotation.rules.empty()) {
      w.Key("RotationRules");
      w.StartObject();
      if (rotation.rules.automatically_after_days) {
        w.Key("AutomaticallyAfterDays"); w.Int64(*rotation.rules.automatically_after_days);
      }
      if (!rotation.rules.duration.empty()) { w.Key("Duration"); w.String(rotation.rules.duration); }
      if (!rotation.rules.schedule_expression.empty()) {
        w.Key("ScheduleExpression"); w.String(rotation.rules.schedule_expression);
      }
      w.EndObject();
    }
  }
  if (!external_rotation_metadata.empty()) {
    w.Key("ExternalSecretRotationMetadata");
    w.StartArray();
    for (const auto& [k, v] : external_rotation_metadata) {
      w.StartObject();
      w.Key("Key"); w.String(k);
      w.Key("Value"); w.String(v);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!external_rotation_role_arn.empty()) {
    w.Key("ExternalSecretRotationRoleArn"); w.String(external_rotation_role_arn);
  }
  if (rotation.enabled && rotation.last_rotated_ms) { w.Key("LastRotatedDate"); WriteTimestamp(w, rotation.last_rotated_ms); }
  w.Key("LastChangedDate"); WriteTimestamp(w, last_changed_ms);
  if (last_accessed_ms) { w.Key("LastAccessedDate"); WriteTimestamp(w, last_accessed_ms); }
  if (pending_deletion()) { w.Key("DeletedDate"); WriteTimestamp(w, deletion_ms); }
  if (rotation.enabled && rotation.next_rotation_ms) {
    w.Key("NextRotationDate"); WriteTimestamp(w, rotation.next_rotation_ms);
  }
  if (!tags.empty()) {
    w.Key("Tags");
    w.StartArray();
    for (const auto& [k, v] : tags) {
      w.StartObject();
      w.Key("Key"); w.String(k);
      w.Key("Value"); w.String(v);
      w.EndObject();
    }
    w.EndArray();
  }
  w.Key(versions_member);
  w.StartObject();
  for (const auto& v : versions) {
    if (v.stages.empty()) continue;  // deprecated
    w.Key(v.id.data(), static_cast<rapidjson::SizeType>(v.id.size()));
    w.StartArray();
    for (const auto& s : v.stages) w.String(s);
    w.EndArray();
  }
  w.EndObject();
  w.Key("CreatedDate"); WriteTimestamp(w, created_ms);
  // A replicated secret names its primary region; the primary also lists its replicas.
  if (is_replica()) {
    w.Key("PrimaryRegion"); w.String(primary_region);
  } else if (!replicas.empty()) {
    w.Key("PrimaryRegion"); w.String(ArnRegion(arn));
    if (std::string_view(versions_member) == "VersionIdsToStages") {
      w.Key("ReplicationStatus");
      WriteReplicationStatus(w);
    }
  }
}

void SecretRecord::WriteReplicationStatus(JsonWriter& w) const {
  w.StartArray();
  for (const auto& r : replicas) {
    w.StartObject();
    w.Key("Region"); w.String(r.region);
    w.Key("KmsKeyId"); w.String(r.kms_key_id.empty() ? "alias/aws/secretsmanager" : r.kms_key_id);
    w.Key("Status"); w.String(r.status);
    if (!r.status_message.empty()) { w.Key("StatusMessage"); w.String(r.status_message); }
    if (r.last_accessed_ms) { w.Key("LastAccessedDate"); WriteTimestamp(w, r.last_accessed_ms); }
    w.EndObject();
  }
  w.EndArray();
}

std::string SecretRowKey(const std::string& account_id, const std::string& name) { return account_id + "/" + name; }

std::string VersionRowPrefix(const std::string& account_id, const std::string& name) {
  return account_id + "/" + name + "|";
}

std::string VersionRowKey(const std::string& account_id, const std::string& name, const std::string& version_id) {
  return VersionRowPrefix(account_id, name) + version_id;
}

}  // namespace meridian::secrets
