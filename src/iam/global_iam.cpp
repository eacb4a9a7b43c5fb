// Directory: IAM across the regions of a deployment (iam/global_iam.h) — the home-region rule,
// the change recorder that puts every IAM write on the replication outbox in its own
// transaction, the receiving handler, and the expander that ships secrets on the wire only.
#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/aws_json.h"
#include "common/encoding.h"
#include "iam/directory.h"
#include "iam/directory_impl.h"
#include "iam/errors.h"
#include "iam/sealed_fields.h"
#include "storage/schema.h"

namespace meridian::iam {
namespace {

constexpr std::string_view kReplicatedTables[] = {storage::tables::kIamPrincipals, storage::tables::kIamPolicies,
                                                   storage::tables::kIamMfaDevices, storage::tables::kAccessKeys,
                                                   storage::tables::kStsSessions};

bool IsReplicatedTable(std::string_view table) {
  return std::find(std::begin(kReplicatedTables), std::end(kReplicatedTables), table) != std::end(kReplicatedTables);
}

Status Malformed(std::string_view kind, std::string_view why) {
  return Status("ReplicationError", "malformed replicated message " + std::string(kind) + ": " + std::string(why), 400);
}

std::string_view StringOf(const rapidjson::Value& v, const char* member) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(member);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string Serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

// Overwrites, when it goes out of scope, every rows[].secrets string of a parsed message: the
// plaintext secrets a wire payload carries do not outlive their use.
class SecretsWiper {
 public:
  explicit SecretsWiper(rapidjson::Document& doc) : doc_(doc) {}
  ~SecretsWiper() {
    if (!doc_.IsObject() || !doc_.HasMember("rows") || !doc_["rows"].IsArray()) return;
    for (auto& row : doc_["rows"].GetArray()) {
      if (!row.IsObject()) continue;
      auto secrets = row.FindMember("secrets");
      if (secrets == row.MemberEnd() || !secrets->value.IsObject()) continue;
      for (auto& m : secrets->value.GetObject())
        if (m.value.IsString()) crypto::Cleanse(const_cast<char*>(m.value.GetString()), m.value.GetStringLength());
    }
  }
  SecretsWiper(const SecretsWiper&) = delete;
  SecretsWiper& operator=(const SecretsWiper&) = delete;

 private:
  rapidjson::Document& doc_;
};

// {"rows": [...]} (iam/global_iam.h) from after-images (nullopt: deleted), with every sealed member
// removed and named.
using RowImages = std::map<std::pair<std::string, std::string>, std::optional<std::string>>;

Result<std::string> EncodeRows(const RowImages& rows) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("rows");
  w.StartArray();
  for (const auto& [where, value] : rows) {
    const auto& [table, key] = where;
    w.StartObject();
    w.Key("table");
    w.String(table);
    w.Key("key");
    w.String(key);
    if (!value) {
      w.Key("deleted");
      w.Bool(true);
      w.EndObject();
      continue;
    }
    rapidjson::Document row;
    row.Parse(value->data(), value->size());
    const auto fields = sealed::FieldsOf(table, key, row);
    if (fields.empty()) {
      w.Key("value");
      w.String(*value);
      w.EndObject();
      continue;
    }
    // Never ship a row holding a secret we cannot take out of it.
    if (row.HasParseError() || !row.IsObject())
      return errors::ServiceFailure("refusing to replicate unreadable " + table + " row " + key);
    w.Key("sealed");
    w.StartArray();
    for (const auto& f : fields)
      if (row.RemoveMember(f.member.c_str())) w.String(f.member);
    w.EndArray();
    w.Key("value");
    w.String(Serialize(row));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// A write transaction that remembers the last value it wrote (or its deletion) for every row of
// IAM's tables, and enqueues them for every peer, in the same transaction, when it commits.
class RecordingTransaction final : public storage::Transaction {
 public:
  RecordingTransaction(std::unique_ptr<storage::Transaction> inner, std::string kind, const GlobalIamOptions& options)
      : inner_(std::move(inner)), kind_(std::move(kind)), options_(options) {}

  Result<std::optional<std::string>> Get(std::string_view table, std::string_view key) override {
    return inner_->Get(table, key);
  }
  Status Put(std::string_view table, std::string_view key, std::string_view value) override {
    MERIDIAN_RETURN_IF_ERROR(inner_->Put(table, key, value));
    Record(table, key, std::string(value));
    return Status::Ok();
  }
  Status Insert(std::string_view table, std::string_view key, std::string_view value) override {
    MERIDIAN_RETURN_IF_ERROR(inner_->Insert(table, key, value));
    Record(table, key, std::string(value));
    return Status::Ok();
  }
  Status Delete(std::string_view table, std::string_view key, bool* existed) override {
    MERIDIAN_RETURN_IF_ERROR(inner_->Delete(table, key, existed));
    Record(table, key, std::nullopt);
    return Status::Ok();
  }
  Result<std::vector<storage::Row>> Scan(std::string_view table, std::string_view prefix, std::string_view start_after,
                                         size_t limit) override {
    return inner_->Scan(table, prefix, start_after, limit);
  }

  Status Commit() override {
    const bool enqueue = !changes_.empty();
    if (enqueue) {
      MERIDIAN_ASSIGN_OR_RETURN(std::string payload, EncodeChanges());
      for (const auto& peer : options_.peers)
        if (peer != options_.region)
          MERIDIAN_RETURN_IF_ERROR(options_.outbox->Enqueue(*inner_, peer, {kind_, payload}));
    }
    MERIDIAN_RETURN_IF_ERROR(inner_->Commit());
    if (enqueue && options_.replication_enqueued) options_.replication_enqueued();
    return Status::Ok();
  }

 private:
  void Record(std::string_view table, std::string_view key, std::optional<std::string> value) {
    if (IsReplicatedTable(table)) changes_[{std::string(table), std::string(key)}] = std::move(value);
  }

  Result<std::string> EncodeChanges() const { return EncodeRows(changes_); }

  std::unique_ptr<storage::Transaction> inner_;
  const std::string kind_;
  const GlobalIamOptions& options_;
  RowImages changes_;  // nullopt: deleted
};

}  // namespace

Result<int> SendSnapshotToNewPeers(storage::Storage& storage, const GlobalIamOptions& options) {
  constexpr size_t kRowsPerMessage = 256;
  const bool home = options.home_region.empty() || options.home_region == options.region;
  if (!home || !options.outbox) return 0;
  std::vector<std::string> new_peers;
  for (const auto& peer : options.peers) {
    if (peer == options.region) continue;
    MERIDIAN_ASSIGN_OR_RETURN(auto stats, options.outbox->Stats(peer));
    if (stats.last_enqueued == 0) new_peers.push_back(peer);
  }
  if (new_peers.empty()) return 0;
  // One write transaction: the snapshot is read and queued atomically, ahead of any later change.
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage.BeginWrite());
  int messages = 0;
  RowImages batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    MERIDIAN_ASSIGN_OR_RETURN(std::string payload, EncodeRows(batch));
    for (const auto& peer : new_peers)
      MERIDIAN_RETURN_IF_ERROR(options.outbox->Enqueue(*txn, peer, {kSnapshotKind, payload}));
    ++messages;
    batch.clear();
    return Status::Ok();
  };
  for (std::string_view table : kReplicatedTables) {
    std::string after;
    while (true) {
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(table, "", after, kRowsPerMessage));
      for (auto& row : rows) {
        after = row.key;
        batch[{std::string(table), row.key}] = std::move(row.value);
        if (batch.size() >= kRowsPerMessage) MERIDIAN_RETURN_IF_ERROR(flush());
      }
      if (rows.size() < kRowsPerMessage) break;
    }
  }
  MERIDIAN_RETURN_IF_ERROR(flush());
  if (messages == 0) return 0;
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  if (options.replication_enqueued) options.replication_enqueued();
  return messages;
}

void Directory::MakeGlobal(GlobalIamOptions options) { global_ = std::move(options); }

bool Directory::IsHomeRegion() const { return global_.home_region.empty() || global_.home_region == global_.region; }

Status Directory::NotHomeRegion(std::string_view operation) const {
  std::string where = global_.home_region;
  if (!global_.home_endpoint.empty()) where += " (endpoint " + global_.home_endpoint + ")";
  return errors::UnsupportedOperation(
      "IAM is global: " + std::string(operation) + " and every other IAM change is made in the deployment's home " +
      "region " + where + ", signed for region " + global_.home_region + ". This region (" + global_.region +
      ") serves IAM reads, authentication and STS from its replicated copy.");
}

Result<std::unique_ptr<storage::Transaction>> Directory::BeginChange(std::string operation, ChangeScope scope) {
  if (scope == ChangeScope::kGlobal && !IsHomeRegion()) return NotHomeRegion(operation);
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  if (!global_.outbox || global_.peers.empty()) return txn;
  return std::unique_ptr<storage::Transaction>(
      std::make_unique<RecordingTransaction>(std::move(txn), std::string(kReplicationPrefix) + operation, global_));
}

void Directory::RegisterReplicationHandlers(replication::Inbox& inbox) {
  inbox.Register(
      std::string(kReplicationPrefix),
      [this](storage::Transaction& txn, std::string_view source, const replication::WireEntry& entry) {
        return ApplyReplicated(txn, source, entry);
      },
      [this](const replication::WireEntry& entry) { AfterReplicatedCommit(entry); });
}

replication::Expander Directory::ReplicationExpander() {
  return [this](const replication::Message& message) { return ExpandForWire(message); };
}

Status Directory::ApplyReplicated(storage::Transaction& txn, std::string_view /*source*/,
                                  const replication::WireEntry& entry) {
  rapidjson::Document p;
  p.Parse(entry.payload.data(), entry.payload.size());
  SecretsWiper wipe(p);
  if (p.HasParseError() || !p.IsObject() || !p.HasMember("rows") || !p["rows"].IsArray())
    return Malformed(entry.kind, "no rows");
  for (const auto& row : p["rows"].GetArray()) {
    const std::string_view table = StringOf(row, "table"), key = StringOf(row, "key");
    if (!IsReplicatedTable(table) || key.empty()) return Malformed(entry.kind, "a row outside IAM's tables");
    if (row.HasMember("deleted")) {
      MERIDIAN_RETURN_IF_ERROR(txn.Delete(table, key));
      continue;
    }
    if (!row.HasMember("value") || !row["value"].IsString()) return Malformed(entry.kind, "a row without a value");
    const std::string_view value = StringOf(row, "value");
    rapidjson::Document stored;
    stored.Parse(value.data(), value.size());
    const auto fields = sealed::FieldsOf(table, key, stored);
    if (fields.empty()) {
      MERIDIAN_RETURN_IF_ERROR(txn.Put(table, key, value));
      continue;
    }
    // A row that held secrets where it was written holds them here too, under this region's
    // root key; one whose secrets did not travel (gone at the sender) is not written.
    if (row.HasMember("secrets_missing")) continue;
    auto sealed_names = row.FindMember("sealed");
    auto secrets = row.FindMember("secrets");
    if (stored.HasParseError() || !stored.IsObject() || sealed_names == row.MemberEnd() ||
        !sealed_names->value.IsArray() || secrets == row.MemberEnd() || !secrets->value.IsObject())
      return Malformed(entry.kind, "a sealed row without its secrets");
    for (const auto& name : sealed_names->value.GetArray()) {
      const std::string member = name.IsString() ? name.GetString() : "";
      auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.member == member; });
      auto secret = secrets->value.FindMember(member.c_str());
      if (field == fields.end() || secret == secrets->value.MemberEnd() || !secret->value.IsString())
        return Malformed(entry.kind, "secret " + member + " missing");
      auto plain = Base64Decode(std::string_view(secret->value.GetString(), secret->value.GetStringLength()));
      if (!plain) return Malformed(entry.kind, "secret " + member + " is not base64");
      const std::string wrapped = Base64Encode(root_key_.Wrap(*plain, field->context));
      crypto::Cleanse(*plain);
      stored.RemoveMember(member.c_str());
      stored.AddMember(rapidjson::Value(member.c_str(), stored.GetAllocator()),
                       rapidjson::Value(wrapped.c_str(), stored.GetAllocator()), stored.GetAllocator());
    }
    MERIDIAN_RETURN_IF_ERROR(txn.Put(table, key, Serialize(stored)));
  }
  return Status::Ok();
}

void Directory::AfterReplicatedCommit(const replication::WireEntry& entry) {
  rapidjson::Document p;
  p.Parse(entry.payload.data(), entry.payload.size());
  SecretsWiper wipe(p);
  if (p.IsObject() && p.HasMember("rows") && p["rows"].IsArray())
    for (const auto& row : p["rows"].GetArray()) {
      const std::string_view table = StringOf(row, "table");
      if (table == storage::tables::kAccessKeys || table == storage::tables::kStsSessions)
        credentials_.Invalidate(std::string(StringOf(row, "key")));
    }
  impl_->Changed();
}

Result<std::string> Directory::ExpandForWire(const replication::Message& message) {
  if (message.payload.find("\"sealed\"") == std::string::npos) return message.payload;
  rapidjson::Document p;
  p.Parse(message.payload.data(), message.payload.size());
  SecretsWiper wipe(p);
  if (p.HasParseError() || !p.IsObject() || !p.HasMember("rows") || !p["rows"].IsArray())
    return Malformed(message.kind, "no rows");
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  auto& alloc = p.GetAllocator();
  for (auto& row : p["rows"].GetArray()) {
    auto sealed_names = row.FindMember("sealed");
    if (sealed_names == row.MemberEnd() || !sealed_names->value.IsArray()) continue;
    const std::string table(StringOf(row, "table")), key(StringOf(row, "key"));
    MERIDIAN_ASSIGN_OR_RETURN(auto current, txn->Get(table, key));
    if (!current) {
      row.AddMember("secrets_missing", true, alloc);
      continue;
    }
    rapidjson::Document stored;
    stored.Parse(current->data(), current->size());
    const auto fields = sealed::FieldsOf(table, key, stored);
    rapidjson::Value secrets(rapidjson::kObjectType);
    row.AddMember("secrets", secrets, alloc);  // added first: the wiper sees whatever lands in it
    rapidjson::Value& out = row["secrets"];
    for (const auto& name : sealed_names->value.GetArray()) {
      const std::string member = name.IsString() ? name.GetString() : "";
      auto field = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.member == member; });
      auto wrapped = Base64Decode(StringOf(stored, member.c_str()));
      if (field == fields.end() || !wrapped)
        return errors::ServiceFailure("stored " + table + " row " + key + " has no readable " + member);
      MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes plain, root_key_.Unwrap(*wrapped, field->context));
      std::string b64 = Base64Encode(plain.view());
      out.AddMember(rapidjson::Value(member.c_str(), alloc), rapidjson::Value(b64.c_str(), alloc), alloc);
      crypto::Cleanse(b64);
    }
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  p.Accept(w);
  std::string wire(sb.GetString(), sb.GetSize());
  crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
  return wire;
}

}  // namespace meridian::iam
