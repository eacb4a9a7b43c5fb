#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include "common/aws_json.h"
#include "replication/replication.h"

namespace meridian::replication {

std::string EncodeBatch(std::string_view source_region, const std::vector<WireEntry>& entries) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("source");
  w.String(source_region.data(), static_cast<rapidjson::SizeType>(source_region.size()));
  w.Key("entries");
  w.StartArray();
  for (const auto& e : entries) {
    w.StartObject();
    w.Key("seq");
    w.Uint64(e.sequence);
    w.Key("kind");
    w.String(e.kind);
    w.Key("payload");
    w.RawValue(e.payload.data(), e.payload.size(), rapidjson::kObjectType);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Status DecodeBatch(std::string_view body, std::string& source_region, std::vector<WireEntry>& entries) {
  auto bad = [](const char* what) { return Status("ReplicationError", std::string("malformed replication batch: ") + what, 400); };
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  if (!d.HasMember("source") || !d["source"].IsString()) return bad("no source");
  if (!d.HasMember("entries") || !d["entries"].IsArray()) return bad("no entries");
  source_region = d["source"].GetString();
  entries.clear();
  for (const auto& e : d["entries"].GetArray()) {
    if (!e.IsObject() || !e.HasMember("seq") || !e["seq"].IsUint64() || !e.HasMember("kind") || !e["kind"].IsString() ||
        !e.HasMember("payload") || !e["payload"].IsObject())
      return bad("an entry lacks seq, kind or payload");
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    e["payload"].Accept(w);
    entries.push_back({e["seq"].GetUint64(), e["kind"].GetString(), std::string(sb.GetString(), sb.GetSize())});
  }
  return Status::Ok();
}

std::string EncodeAck(uint64_t applied_through) {
  return "{\"applied_through\":" + std::to_string(applied_through) + "}";
}

Result<uint64_t> DecodeAck(std::string_view body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("applied_through") || !d["applied_through"].IsUint64())
    return Status("ReplicationError", "malformed replication acknowledgement", 502);
  return d["applied_through"].GetUint64();
}

}  // namespace meridian::replication
