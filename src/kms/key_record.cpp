#include "kms/key_record.h"

#include <rapidjson/document.h>

namespace meridian::kms {

std::string KeyRecord::Serialize() const {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("key_id"); w.String(key_id);
  w.Key("account_id"); w.String(account_id);
  w.Key("region"); w.String(region);
  w.Key("arn"); w.String(arn);
  w.Key("description"); w.String(description);
  w.Key("key_usage"); w.String(key_usage);
  w.Key("key_spec"); w.String(key_spec);
  w.Key("origin"); w.String(origin);
  w.Key("key_manager"); w.String(key_manager);
  w.Key("state"); w.String(state);
  w.Key("creation_ms"); w.Int64(creation_ms);
  w.Key("deletion_ms"); w.Int64(deletion_ms);
  w.Key("pending_window_days"); w.Int(pending_window_days);
  w.Key("policy"); w.String(policy);
  w.Key("tags");
  w.StartArray();
  for (const auto& [k, v] : tags) {
    w.StartArray();
    w.String(k);
    w.String(v);
    w.EndArray();
  }
  w.EndArray();
  w.Key("rotation_enabled"); w.Bool(rotation_enabled);
  w.Key("rotation_period_days"); w.Int(rotation_period_days);
  w.Key("next_rotation_ms"); w.Int64(next_rotation_ms);
  w.Key("on_demand_rotation_start_ms"); w.Int64(on_demand_rotation_start_ms);
  w.Key("versions");
  w.StartArray();
  for (const auto& v : versions) {
    w.StartObject();
    w.Key("id"); w.String(v.id_hex);
    w.Key("created_ms"); w.Int64(v.created_ms);
    w.Key("rotation_type"); w.String(v.rotation_type);
    w.EndObject();
  }
  w.EndArray();
  w.Key("multi_region"); w.Bool(multi_region);
  w.Key("primary_region"); w.String(primary_region);
  w.Key("replica_regions");
  w.StartArray();
  for (const auto& r : replica_regions) w.String(r);
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Result<KeyRecord> KeyRecord::Parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  auto corrupt = [] { return errors::Internal("a stored key record is corrupt"); };
  if (d.HasParseError() || !d.IsObject()) return corrupt();
  auto str = [&](const char* k, std::string& out) {
    if (!d.HasMember(k) || !d[k].IsString()) return false;
    out.assign(d[k].GetString(), d[k].GetStringLength());
    return true;
  };
  auto i64 = [&](const char* k, int64_t& out) {
    if (!d.HasMember(k) || !d[k].IsInt64()) return false;
    out = d[k].GetInt64();
    return true;
  };
  KeyRecord r;
  int64_t window = 0, period = 0;
  if (!str("key_id", r.key_id) || !str("account_id", r.account_id) || !str("region", r.region) ||
      !str("arn", r.arn) || !str("description", r.description) || !str("key_usage", r.key_usage) ||
      !str("key_spec", r.key_spec) || !str("origin", r.origin) || !str("key_manager", r.key_manager) ||
      !str("state", r.state) || !i64("creation_ms", r.creation_ms) || !i64("deletion_ms", r.deletion_ms) ||
      !i64("pending_window_days", window) || !str("policy", r.policy) ||
      !i64("rotation_period_days", period) || !i64("next_rotation_ms", r.next_rotation_ms) ||
      !i64("on_demand_rotation_start_ms", r.on_demand_rotation_start_ms) || !d.HasMember("rotation_enabled") ||
      !d["rotation_enabled"].IsBool() || !d.HasMember("tags") || !d["tags"].IsArray() ||
      !d.HasMember("versions") || !d["versions"].IsArray())
    return corrupt();
  r.pending_window_days = static_cast<int>(window);
  r.rotation_period_days = static_cast<int>(period);
  r.rotation_enabled = d["rotation_enabled"].GetBool();
  for (const auto& t : d["tags"].GetArray()) {
    if (!t.IsArray() || t.Size() != 2 || !t[0].IsString() || !t[1].IsString()) return corrupt();
    r.tags.emplace_back(t[0].GetString(), t[1].GetString());
  }
  for (const auto& v : d["versions"].GetArray()) {
    if (!v.IsObject() || !v.HasMember("id") || !v["id"].IsString() || !v.HasMember("created_ms") ||
        !v["created_ms"].IsInt64() || !v.HasMember("rotation_type") || !v["rotation_type"].IsString())
      return corrupt();
    r.versions.push_back({v["id"].GetString(), v["created_ms"].GetInt64(), v["rotation_type"].GetString()});
  }
  if (r.versions.empty()) return corrupt();
  if (d.HasMember("multi_region")) {
    if (!d["multi_region"].IsBool() || !str("primary_region", r.primary_region) || !d.HasMember("replica_regions") ||
        !d["replica_regions"].IsArray())
      return corrupt();
    r.multi_region = d["multi_region"].GetBool();
    for (const auto& region : d["replica_regions"].GetArray()) {
      if (!region.IsString()) return corrupt();
      r.replica_regions.emplace_back(region.GetString());
    }
  }
  return r;
}

std::string KeyRecord::ArnInRegion(std::string_view partition, std::string_view other_region) const {
  return "arn:" + std::string(partition) + ":kms:" + std::string(other_region) + ":" + account_id + ":key/" + key_id;
}

void KeyRecord::WriteMetadata(JsonWriter& w, std::string_view partition) const {
  w.StartObject();
  w.Key("AWSAccountId"); w.String(account_id);
  w.Key("KeyId"); w.String(key_id);
  w.Key("Arn"); w.String(arn);
  w.Key("CreationDate"); WriteTimestamp(w, creation_ms);
  w.Key("Enabled"); w.Bool(state == key_state::kEnabled);
  w.Key("Description"); w.String(description);
  w.Key("KeyUsage"); w.String(key_usage);
  w.Key("KeyState"); w.String(state);
  if (state == key_state::kPendingDeletion) {
    w.Key("DeletionDate"); WriteTimestamp(w, deletion_ms);
  }
  if (state == key_state::kPendingReplicaDeletion) {
    w.Key("PendingDeletionWindowInDays"); w.Int(pending_window_days);
  }
  w.Key("Origin"); w.String(origin);
  w.Key("KeyManager"); w.String(key_manager);
  w.Key("CustomerMasterKeySpec"); w.String(key_spec);
  w.Key("KeySpec"); w.String(key_spec);
  w.Key("EncryptionAlgorithms");
  w.StartArray();
  w.String("SYMMETRIC_DEFAULT");
  w.EndArray();
  w.Key("MultiRegion"); w.Bool(multi_region);
  if (multi_region) {
    w.Key("MultiRegionConfiguration");
    w.StartObject();
    w.Key("MultiRegionKeyType"); w.String(is_primary() ? "PRIMARY" : "REPLICA");
    w.Key("PrimaryKey");
    w.StartObject();
    w.Key("Arn"); w.String(ArnInRegion(partition, primary_region));
    w.Key("Region"); w.String(primary_region);
    w.EndObject();
    w.Key("ReplicaKeys");
    w.StartArray();
    for (const auto& r : replica_regions) {
      w.StartObject();
      w.Key("Arn"); w.String(ArnInRegion(partition, r));
      w.Key("Region"); w.String(r);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace meridian::kms
