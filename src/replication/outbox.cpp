#include <cstdio>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "replication/replication.h"
#include "storage/schema.h"

namespace meridian::replication {
namespace {

std::string SequenceKey(std::string_view peer, uint64_t sequence) {
  char digits[21];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(sequence));
  return std::string(peer) + "/" + digits;
}

std::string NextKey(std::string_view peer) { return "out/" + std::string(peer); }

Result<uint64_t> ReadCounter(storage::Transaction& txn, const std::string& key) {
  MERIDIAN_ASSIGN_OR_RETURN(auto v, txn.Get(storage::tables::kReplicationState, key));
  if (!v) return uint64_t{0};
  try {
    return static_cast<uint64_t>(std::stoull(*v));
  } catch (...) {
    return errors::Internal("replication state " + key + " is corrupt");
  }
}

}  // namespace

Outbox::Outbox(storage::Storage& storage, const Clock& clock) : storage_(storage), clock_(clock) {}

Status Outbox::Enqueue(storage::Transaction& txn, std::string_view peer, const Message& message) const {
  const std::string counter = NextKey(peer);
  MERIDIAN_ASSIGN_OR_RETURN(uint64_t last, ReadCounter(txn, counter));
  const uint64_t seq = last + 1;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("kind");
  w.String(message.kind);
  w.Key("enqueued_ms");
  w.Int64(clock_.NowMillis());
  w.Key("payload");
  w.String(message.payload);
  w.EndObject();
  MERIDIAN_RETURN_IF_ERROR(txn.Insert(storage::tables::kReplicationOutbox, SequenceKey(peer, seq),
                                      std::string_view(sb.GetString(), sb.GetSize())));
  return txn.Put(storage::tables::kReplicationState, counter, std::to_string(seq));
}

Result<std::vector<OutboxEntry>> Outbox::Peek(std::string_view peer, size_t max) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kReplicationOutbox, std::string(peer) + "/", {}, max));
  std::vector<OutboxEntry> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    rapidjson::Document d;
    d.Parse(row.value.data(), row.value.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("kind") || !d["kind"].IsString() ||
        !d.HasMember("payload") || !d["payload"].IsString() || !d.HasMember("enqueued_ms") || !d["enqueued_ms"].IsInt64())
      return errors::Internal("replication outbox entry " + row.key + " is corrupt");
    OutboxEntry e;
    e.sequence = std::stoull(row.key.substr(row.key.rfind('/') + 1));
    e.enqueued_ms = d["enqueued_ms"].GetInt64();
    e.message.kind = d["kind"].GetString();
    e.message.payload.assign(d["payload"].GetString(), d["payload"].GetStringLength());
    out.push_back(std::move(e));
  }
  return out;
}

Status Outbox::Acknowledge(std::string_view peer, uint64_t sequence) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  const std::string prefix = std::string(peer) + "/";
  std::string after;
  while (true) {
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kReplicationOutbox, prefix, after, 512));
    for (const auto& row : rows) {
      if (std::stoull(row.key.substr(prefix.size())) > sequence) return txn->Commit();
      MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kReplicationOutbox, row.key));
      after = row.key;
    }
    if (rows.size() < 512) break;
  }
  return txn->Commit();
}

Result<OutboxStats> Outbox::Stats(std::string_view peer) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  OutboxStats s;
  MERIDIAN_ASSIGN_OR_RETURN(s.last_enqueued, ReadCounter(*txn, NextKey(peer)));
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kReplicationOutbox, std::string(peer) + "/"));
  s.pending = rows.size();
  if (!rows.empty()) {
    rapidjson::Document d;
    d.Parse(rows.front().value.data(), rows.front().value.size());
    if (d.IsObject() && d.HasMember("enqueued_ms") && d["enqueued_ms"].IsInt64())
      s.oldest_enqueued_ms = d["enqueued_ms"].GetInt64();
  }
  return s;
}

}  // namespace meridian::replication
