#include "drill/dr_secret_rotation.h"

#include <chrono>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "drill/encrypted_records.h"
#include "drill/secrets_client.h"

namespace meridian::drill {
namespace {

constexpr char kSecretName[] = "dr-drill/app-db-password";
constexpr char kAppRole[] = "drill_app";

Status RotationError(std::string message) { return Status("DrillException", std::move(message), 500); }

// A fresh password / version id: hex, so it needs no quoting in SQL or conninfo.
std::string RandomHex(size_t bytes) { return HexEncode(crypto::RandomBytes(bytes)); }

// A JSON object of string members, plus VersionStages when given.
std::string JsonRequest(const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::vector<std::string>& stages = {}) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [key, value] : fields) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  if (!stages.empty()) {
    w.Key("VersionStages");
    w.StartArray();
    for (const auto& s : stages) w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Calls `operation` with a request body that may hold a password (wiped after the call).
Status CallWiping(SecretsClient& client, const std::string& operation, std::string body) {
  auto answer = client.Call(operation, body);
  crypto::Cleanse(body);
  if (!answer.ok()) return answer.status();
  crypto::Cleanse(*answer);
  return Status::Ok();
}

// GetSecretValue of `stage`: {value, version id}.
Result<std::pair<std::string, std::string>> GetVersion(SecretsClient& client, const std::string& stage) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string body,
                            client.Call("GetSecretValue", JsonRequest({{"SecretId", kSecretName}, {"VersionStage", stage}})));
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  crypto::Cleanse(body);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("SecretString") || !doc["SecretString"].IsString() ||
      !doc.HasMember("VersionId") || !doc["VersionId"].IsString())
    return RotationError("GetSecretValue: no SecretString / VersionId in the answer");
  return std::make_pair(std::string(doc["SecretString"].GetString()), std::string(doc["VersionId"].GetString()));
}

// Logs in to `server`'s `database` as the application role and reads the records' count.
Status LogInAsApplication(const storage::LocalPostgres& server, const std::string& database,
                          const std::string& password) {
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(server.port()) + " user=" + kAppRole +
                         " password=" + password + " dbname=" + database;
  auto store = EncryptedRecordStore::Connect({conninfo, kDefaultRecordTable, 2});
  crypto::Cleanse(conninfo);
  if (!store.ok()) return store.status();
  return (*store)->Count().status();
}

}  // namespace

Result<SecretRotationDrill> SecretRotationDrill::Begin(const TwoRegionKms& regions,
                                                       const storage::LocalPostgres& primary,
                                                       std::string_view database, std::string_view table) {
  if (!IsValidTableName(table)) return RotationError("bad table name");
  SecretRotationDrill d;
  d.region_b_ = regions.region_b;
  d.endpoint_b_ = regions.endpoint_b;
  d.credentials_.access_key_id = regions.credentials.access_key_id;
  d.credentials_.secret_access_key = regions.credentials.secret_access_key.Clone();
  d.credentials_.session_token = regions.credentials.session_token;
  d.http_ = regions.http;
  d.database_ = std::string(database);
  d.old_password_ = RandomHex(16);
  d.new_password_ = RandomHex(16);
  d.pending_version_id_ = RandomHex(16);
  MERIDIAN_RETURN_IF_ERROR(primary.Execute("CREATE ROLE " + std::string(kAppRole) + " LOGIN PASSWORD '" +
                                               d.old_password_ + "'; GRANT SELECT ON " + std::string(table) + " TO " +
                                               kAppRole,
                                           database));
  MERIDIAN_ASSIGN_OR_RETURN(auto a, SecretsClient::Create(regions.region_a, regions.endpoint_a, regions.credentials,
                                                          regions.http));
  {
    crypto::SecureBytes value(ByteView(reinterpret_cast<const uint8_t*>(d.old_password_.data()), d.old_password_.size()));
    MERIDIAN_RETURN_IF_ERROR(a->CreateReplicatedSecret(kSecretName, value, {regions.region_b}).status());
  }
  // The rotation starts (createSecret): the new password staged, not yet set on the database.
  MERIDIAN_RETURN_IF_ERROR(CallWiping(*a, "PutSecretValue",
                                      JsonRequest({{"SecretId", kSecretName},
                                                   {"SecretString", d.new_password_},
                                                   {"ClientRequestToken", d.pending_version_id_}},
                                                  {"AWSPENDING"})));
  return d;
}

SecretRotationCheck SecretRotationDrill::FinishInB(const storage::LocalPostgres& b_database) const {
  SecretRotationCheck check;
  check.attempted = true;
  auto client = SecretsClient::Create(region_b_, endpoint_b_, credentials_, http_);
  if (!client.ok()) {
    check.note = client.status().ToString();
    return check;
  }
  SecretsClient& b = **client;
  auto current = GetVersion(b, "AWSCURRENT");
  if (!current.ok()) {
    check.note = "AWSCURRENT in B: " + current.status().ToString();
    return check;
  }
  check.current_readable_in_b = true;
  check.current_unchanged = current->first == old_password_;
  if (Status st = LogInAsApplication(b_database, database_, current->first); !st.ok()) {
    check.note = "log-in to B's database with B's AWSCURRENT: " + st.ToString();
    check.current_unchanged = false;
    return check;
  }
  // Finish the rotation in B: a standalone secret first (A is gone), then the remaining steps.
  auto promoted = b.Call("StopReplicationToReplica", JsonRequest({{"SecretId", kSecretName}}));
  if (!promoted.ok()) {
    check.note = "StopReplicationToReplica in B: " + promoted.status().ToString();
    return check;
  }
  auto pending = GetVersion(b, "AWSPENDING");
  std::string pending_id = pending_version_id_;
  if (pending.ok() && pending->first == new_password_) {
    check.note = "AWSPENDING had reached B before the failure; ";
  } else {
    // The staged version had not reached B: the rotation's first step runs again there.
    check.note = "AWSPENDING had not reached B; staged again there; ";
    Status staged = CallWiping(b, "PutSecretValue",
                               JsonRequest({{"SecretId", kSecretName},
                                            {"SecretString", new_password_},
                                            {"ClientRequestToken", pending_id}},
                                           {"AWSPENDING"}));
    if (!staged.ok()) {
      check.note += "PutSecretValue in B: " + staged.ToString();
      return check;
    }
  }
  std::string set_password = "ALTER ROLE " + std::string(kAppRole) + " PASSWORD '" + new_password_ + "'";
  Status set = b_database.Execute(set_password, database_);
  crypto::Cleanse(set_password);
  if (!set.ok()) {
    check.note += "setSecret on B's database: " + set.ToString();
    return check;
  }
  if (Status tested = LogInAsApplication(b_database, database_, new_password_); !tested.ok()) {
    check.note += "testSecret: " + tested.ToString();
    return check;
  }
  auto finished = b.Call("UpdateSecretVersionStage", JsonRequest({{"SecretId", kSecretName},
                                                                  {"VersionStage", "AWSCURRENT"},
                                                                  {"MoveToVersionId", pending_id},
                                                                  {"RemoveFromVersionId", current->second}}));
  if (!finished.ok()) {
    check.note += "finishSecret (UpdateSecretVersionStage) in B: " + finished.status().ToString();
    return check;
  }
  auto now_current = GetVersion(b, "AWSCURRENT");
  if (!now_current.ok() || now_current->first != new_password_) {
    check.note += "AWSCURRENT in B after the rotation is not the new password";
    return check;
  }
  if (Status st = LogInAsApplication(b_database, database_, now_current->first); !st.ok()) {
    check.note += "log-in with the rotated password: " + st.ToString();
    return check;
  }
  check.rotation_completed_in_b = true;
  check.note += "rotation finished in B";
  return check;
}

SecretRotationDrill::~SecretRotationDrill() {
  crypto::Cleanse(old_password_);
  crypto::Cleanse(new_password_);
}

}  // namespace meridian::drill
