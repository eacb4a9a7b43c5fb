// The receiving and sending ends of multi-Region key replication.
//
//   kms.ReplicaCreated                   primary -> new replica region: the replica's record
//   kms.MaterialAdded                    primary -> replicas: a rotation's new material version
//   kms.SharedPropertiesUpdated          primary -> replicas: rotation settings
//   kms.MultiRegionConfigurationUpdated  any -> the key's other regions: primary and replicas
//   kms.ReplicaDeleted                   replica -> primary: the replica is gone
//   kms.PrimaryUpdateApplied / kms.PrimaryUpdateCompleted: UpdatePrimaryRegion's handshake
//                                        (primary_region_update.h)
//
// Material travels only on the wire (added by ExpandForWire from this region's wrapped store,
// inside the mutual-TLS link) and is wrapped under the receiving region's root key on arrival.
#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/encoding.h"
#include "kms/primary_region_update.h"
#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {
namespace {

Status Malformed(std::string_view kind) {
  return Status("ReplicationError", "malformed replicated message " + std::string(kind), 400);
}

// Reads payload["material"][version_id] (base64) into `out`.
bool ReadMaterial(const rapidjson::Value& payload, const std::string& version_id, crypto::SecureBytes& out) {
  auto m = payload.FindMember("material");
  if (m == payload.MemberEnd() || !m->value.IsObject()) return false;
  auto v = m->value.FindMember(version_id.c_str());
  if (v == m->value.MemberEnd() || !v->value.IsString()) return false;
  auto bytes = Base64Decode(std::string_view(v->value.GetString(), v->value.GetStringLength()));
  if (!bytes || bytes->size() != crypto::kAesGcmKeySize) {
    if (bytes) crypto::Cleanse(*bytes);
    return false;
  }
  out = crypto::SecureBytes(*bytes);
  crypto::Cleanse(*bytes);
  return true;
}

std::string JsonQuoted(const std::string& s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.String(s);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

Status KmsService::Impl::ApplyReplicated(storage::Transaction& txn, std::string_view source,
                                         const replication::WireEntry& entry) {
  rapidjson::Document p;
  p.Parse(entry.payload.data(), entry.payload.size());
  if (p.HasParseError() || !p.IsObject()) return Malformed(entry.kind);

  if (entry.kind == "kms.ReplicaCreated") {
    if (p.HasMember("material_missing")) return Status::Ok();  // the primary was destroyed meanwhile
    if (!p.HasMember("record") || !p["record"].IsObject()) return Malformed(entry.kind);
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    p["record"].Accept(w);
    MERIDIAN_ASSIGN_OR_RETURN(KeyRecord r, KeyRecord::Parse(std::string_view(sb.GetString(), sb.GetSize())));
    if (r.region != opts_.region || !r.multi_region) return Malformed(entry.kind);
    MERIDIAN_ASSIGN_OR_RETURN(auto existing, KeyStore::ReadRecord(txn, r.key_id));
    if (existing) return Status::Ok();  // already here
    for (const auto& v : r.versions) {
      crypto::SecureBytes material;
      if (!ReadMaterial(p, v.id_hex, material)) return Malformed(entry.kind);
      MERIDIAN_RETURN_IF_ERROR(keys_.WriteMaterial(txn, r.key_id, v.id_hex, material));
    }
    return KeyStore::WriteRecord(txn, r);
  }

  if (!p.HasMember("key_id") || !p["key_id"].IsString()) return Malformed(entry.kind);
  const std::string key_id = p["key_id"].GetString();
  MERIDIAN_ASSIGN_OR_RETURN(auto record, KeyStore::ReadRecord(txn, key_id));
  if (!record) return Status::Ok();  // deleted here meanwhile: nothing to update
  KeyRecord& r = *record;

  if (entry.kind == "kms.MaterialAdded") {
    if (!p.HasMember("version_id") || !p["version_id"].IsString() || !p.HasMember("created_ms") ||
        !p["created_ms"].IsInt64() || !p.HasMember("rotation_type") || !p["rotation_type"].IsString())
      return Malformed(entry.kind);
    const std::string version_id = p["version_id"].GetString();
    if (std::any_of(r.versions.begin(), r.versions.end(), [&](const auto& v) { return v.id_hex == version_id; }))
      return Status::Ok();
    if (p.HasMember("material_missing")) return Status::Ok();
    crypto::SecureBytes material;
    if (!ReadMaterial(p, version_id, material)) return Malformed(entry.kind);
    MERIDIAN_RETURN_IF_ERROR(keys_.WriteMaterial(txn, r.key_id, version_id, material));
    r.versions.push_back({version_id, p["created_ms"].GetInt64(), p["rotation_type"].GetString()});
    if (p.HasMember("next_rotation_ms") && p["next_rotation_ms"].IsInt64()) r.next_rotation_ms = p["next_rotation_ms"].GetInt64();
  } else if (entry.kind == "kms.SharedPropertiesUpdated") {
    if (!p.HasMember("rotation_enabled") || !p["rotation_enabled"].IsBool() || !p.HasMember("rotation_period_days") ||
        !p["rotation_period_days"].IsInt() || !p.HasMember("next_rotation_ms") || !p["next_rotation_ms"].IsInt64())
      return Malformed(entry.kind);
    r.rotation_enabled = p["rotation_enabled"].GetBool();
    r.rotation_period_days = p["rotation_period_days"].GetInt();
    r.next_rotation_ms = p["next_rotation_ms"].GetInt64();
  } else if (entry.kind == "kms.MultiRegionConfigurationUpdated") {
    if (!p.HasMember("primary_region") || !p["primary_region"].IsString() || !p.HasMember("replica_regions") ||
        !p["replica_regions"].IsArray())
      return Malformed(entry.kind);
    r.primary_region = p["primary_region"].GetString();
    r.replica_regions.clear();
    for (const auto& region : p["replica_regions"].GetArray())
      if (region.IsString()) r.replica_regions.emplace_back(region.GetString());
    std::sort(r.replica_regions.begin(), r.replica_regions.end());
    // This key is the new primary of an UpdatePrimaryRegion: Updating until the old primary
    // confirms (primary_region_update.h).
    if (auto from = p.FindMember(primary_update::kFromMember);
        from != p.MemberEnd() && from->value.IsString() && r.is_primary()) {
      if (r.state == key_state::kEnabled) r.state = primary_update::kUpdatingState;
      MERIDIAN_RETURN_IF_ERROR(Publish(txn, from->value.GetString(), primary_update::kApplied,
                                       "{\"key_id\":" + JsonQuoted(r.key_id) + "}"));
    }
  } else if (entry.kind == primary_update::kApplied) {
    // The old primary: the new one has taken over.
    if (r.state == primary_update::kUpdatingState) r.state = key_state::kEnabled;
    MERIDIAN_RETURN_IF_ERROR(Publish(txn, std::string(source), primary_update::kCompleted,
                                     "{\"key_id\":" + JsonQuoted(r.key_id) + "}"));
  } else if (entry.kind == primary_update::kCompleted) {
    if (r.state == primary_update::kUpdatingState) r.state = key_state::kEnabled;
  } else if (entry.kind == "kms.ReplicaDeleted") {
    if (!r.is_primary()) return Status::Ok();
    std::erase(r.replica_regions, std::string(source));
    MERIDIAN_RETURN_IF_ERROR(PublishConfiguration(txn, r));
    if (r.state == key_state::kPendingReplicaDeletion && r.replica_regions.empty()) {
      // The last replica is gone: the primary's own waiting period starts now.
      r.state = key_state::kPendingDeletion;
      r.deletion_ms = clock_.NowMillis() + r.pending_window_days * kMsPerDay;
    }
  } else {
    return Status("ReplicationError", "unknown replicated KMS message " + entry.kind, 400);
  }
  return KeyStore::WriteRecord(txn, r);
}

void KmsService::Impl::AfterReplicatedCommit(const replication::WireEntry& entry) {
  rapidjson::Document p;
  p.Parse(entry.payload.data(), entry.payload.size());
  if (!p.IsObject()) return;
  if (p.HasMember("key_id") && p["key_id"].IsString()) keys_.Invalidate(p["key_id"].GetString());
  if (p.HasMember("record") && p["record"].IsObject() && p["record"].HasMember("key_id") &&
      p["record"]["key_id"].IsString())
    keys_.Invalidate(p["record"]["key_id"].GetString());
  NotifyReplication();  // a ReplicaDeleted may have enqueued configuration updates
}

Result<std::string> KmsService::Impl::ExpandForWire(const replication::Message& message) {
  if (message.kind != "kms.ReplicaCreated" && message.kind != "kms.MaterialAdded") return message.payload;
  rapidjson::Document p;
  p.Parse(message.payload.data(), message.payload.size());
  if (p.HasParseError() || !p.IsObject()) return Malformed(message.kind);
  std::string key_id;
  std::vector<std::string> versions;
  if (message.kind == "kms.ReplicaCreated") {
    if (!p.HasMember("record") || !p["record"].IsObject() || !p["record"].HasMember("key_id") ||
        !p["record"].HasMember("versions"))
      return Malformed(message.kind);
    key_id = p["record"]["key_id"].GetString();
    for (const auto& v : p["record"]["versions"].GetArray()) versions.emplace_back(v["id"].GetString());
  } else {
    key_id = p["key_id"].GetString();
    versions.emplace_back(p["version_id"].GetString());
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(key_id));
  auto& alloc = p.GetAllocator();
  if (!key) {
    p.AddMember("material_missing", true, alloc);
  } else {
    rapidjson::Value material(rapidjson::kObjectType);
    for (const auto& id : versions) {
      auto it = key->material.find(id);
      if (it == key->material.end()) return errors::Internal("material of " + key_id + " version " + id + " is missing");
      std::string b64 = Base64Encode(it->second.view());
      material.AddMember(rapidjson::Value(id.c_str(), alloc), rapidjson::Value(b64.c_str(), alloc), alloc);
      crypto::Cleanse(b64);
    }
    p.AddMember("material", material, alloc);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  p.Accept(w);
  std::string out(sb.GetString(), sb.GetSize());
  crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
  // The document's copies of the material are freed with it; overwrite them first.
  if (p.HasMember("material"))
    for (auto& m : p["material"].GetObject())
      crypto::Cleanse(const_cast<char*>(m.value.GetString()), m.value.GetStringLength());
  return out;
}

}  // namespace meridian::kms
