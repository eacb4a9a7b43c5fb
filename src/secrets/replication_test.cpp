// Secret replication across three regions, each a real SecretsService over its own KMS, root
// key and SQLite store, linked by the replication outbox/inbox with the in-process transport
// (which can be partitioned). Checks the semantics AWS documents for multi-Region secrets:
// same name, ARN except the region, values encrypted under each replica region's own KMS key,
// every change of the primary reaching the replicas in order, replicas read-only, promotion,
// removal, ReplicationStatus (InProgress, InSync, Failed with a message), catch-up after a
// partition, and no plaintext in the outbox or any region's files. The process-level version
// (real region processes over mutual TLS, boto3) is tests/e2e/test_secrets_replication.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "kms/kms.h"
#include "replication/in_process_transport.h"
#include "replication/peer_link.h"
#include "replication/replication.h"
#include "secrets/naming.h"
#include "secrets/secret_replication.h"
#include "secrets/secrets.h"
#include "secrets/test_fixture.h"
#include "storage/schema.h"

namespace meridian::secrets {
namespace {

using testing::Obj;
using testing::Quote;
using testing::ReadFile;
using testing::Token;

const char* kAccount = "111122223333";
const std::vector<std::string> kRegions = {"us-east-1", "us-west-2", "eu-west-1"};

struct Region {
  std::string name;
  crypto::RootKey root = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<replication::Outbox> outbox;
  std::unique_ptr<replication::Inbox> inbox;
  std::unique_ptr<kms::KmsService> kms;
  std::unique_ptr<SecretsService> secrets;
  std::map<std::string, std::unique_ptr<replication::PeerLink>> links;  // by peer
  std::map<std::string, replication::InProcessTransport*> transports;   // by peer
};

class SecretReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("secrets-repl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (const auto& name : kRegions) {
      auto r = std::make_unique<Region>();
      r->name = name;
      r->storage = std::move(*storage::OpenSqlite(DbPath(name)));
      r->outbox = std::make_unique<replication::Outbox>(*r->storage, clock_);
      r->inbox = std::make_unique<replication::Inbox>(*r->storage);
      r->kms = std::make_unique<kms::KmsService>(kms::KmsOptions::SingleRegion(name, kAccount), *r->storage, r->root,
                                                 clock_);
      SecretsOptions o;
      o.region = name;
      o.regions = kRegions;
      o.outbox = r->outbox.get();
      Region* self = r.get();
      o.replication_enqueued = [self] {
        for (auto& [peer, link] : self->links) link->Wake();
      };
      r->secrets = std::make_unique<SecretsService>(o, *r->storage, *r->kms, clock_);
      r->secrets->RegisterReplicationHandlers(*r->inbox);
      regions_[name] = std::move(r);
    }
    for (const auto& [name, self] : regions_)
      for (const auto& [peer_name, peer] : regions_) {
        if (peer_name == name) continue;
        auto transport = std::make_unique<replication::InProcessTransport>(*peer->inbox);
        self->transports[peer_name] = transport.get();
        std::map<std::string, replication::Expander, std::less<>> expanders;
        expanders[std::string(kReplicationKindPrefix)] = self->secrets->ReplicationExpander();
        self->links[peer_name] = std::make_unique<replication::PeerLink>(name, peer_name, *self->outbox,
                                                                         std::move(transport), std::move(expanders));
      }
    for (auto& [name, r] : regions_)
      for (auto& [peer, link] : r->links) link->Start();
  }
  void TearDown() override {
    for (auto& [name, r] : regions_)
      for (auto& [peer, link] : r->links) link->Stop();
    for (auto& [name, r] : regions_) {
      r->links.clear();
      r->secrets.reset();
      r->kms.reset();
      r->inbox.reset();
      r->outbox.reset();
      r->storage.reset();
    }
    std::filesystem::remove_all(dir_);
  }

  std::string DbPath(const std::string& region) const { return (dir_ / (region + ".db")).string(); }
  Region& R(const std::string& name) { return *regions_.at(name); }

  Status Call(const std::string& region, std::string_view op, const std::string& json,
              rapidjson::Document* out = nullptr) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = R(region).secrets->Handle(op, *req, caller_, w);
    if (st.ok() && out) out->Parse(sb.GetString(), sb.GetSize());
    return st;
  }
  Status CallKms(const std::string& region, std::string_view op, const std::string& json,
                 rapidjson::Document* out = nullptr) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = R(region).kms->Handle(op, *req, caller_, w);
    if (st.ok() && out) out->Parse(sb.GetString(), sb.GetSize());
    return st;
  }
  rapidjson::Document Ok(const std::string& region, std::string_view op, const std::string& json) {
    rapidjson::Document d;
    Status st = Call(region, op, json, &d);
    EXPECT_TRUE(st.ok()) << region << " " << op << " " << json << ": " << st.ToString();
    return d;
  }
  bool Eventually(const std::function<bool()>& cond) {
    for (int i = 0; i < 1000; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
  }
  // GetSecretValue's SecretString in `region`, or the error's type.
  std::string Value(const std::string& region, const std::string& id, const std::string& extra = "") {
    rapidjson::Document d;
    Status st = Call(region, "GetSecretValue", "{\"SecretId\":" + Quote(id) + (extra.empty() ? "" : "," + extra) + "}", &d);
    if (!st.ok()) return "error:" + st.type();
    return d["SecretString"].GetString();
  }
  // Region -> Status of the primary's ReplicationStatus.
  std::map<std::string, std::string> Statuses(const std::string& region, const std::string& id,
                                              std::map<std::string, std::string>* messages = nullptr) {
    std::map<std::string, std::string> out;
    rapidjson::Document d = Ok(region, "DescribeSecret", "{\"SecretId\":" + Quote(id) + "}");
    if (!d.IsObject() || !d.HasMember("ReplicationStatus")) return out;
    for (const auto& s : d["ReplicationStatus"].GetArray()) {
      out[s["Region"].GetString()] = s["Status"].GetString();
      if (messages && s.HasMember("StatusMessage")) (*messages)[s["Region"].GetString()] = s["StatusMessage"].GetString();
    }
    return out;
  }
  bool AllInSync(const std::string& id, const std::vector<std::string>& replicas) {
    auto statuses = Statuses("us-east-1", id);
    for (const auto& r : replicas)
      if (statuses[r] != "InSync") return false;
    return statuses.size() == replicas.size();
  }
  std::string CreateKey(const std::string& region) {
    rapidjson::Document d;
    Status st = CallKms(region, "CreateKey", "{}", &d);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? d["KeyMetadata"]["Arn"].GetString() : "";
  }
  // Creates "app/db" in us-east-1 replicated to us-west-2 (default key) and eu-west-1 (`eu_key`,
  // or its default key when empty); waits until both replicas are InSync.
  std::string CreateReplicated(const std::string& name, const std::string& value, const std::string& eu_key = "") {
    std::string regions = "[{\"Region\":\"us-west-2\"},{\"Region\":\"eu-west-1\"" +
                          (eu_key.empty() ? "" : ",\"KmsKeyId\":" + Quote(eu_key)) + "}]";
    rapidjson::Document d = Ok("us-east-1", "CreateSecret",
                               "{\"Name\":" + Quote(name) + ",\"SecretString\":" + Quote(value) +
                                   ",\"ClientRequestToken\":" + Quote(Token(1)) + ",\"AddReplicaRegions\":" + regions + "}");
    EXPECT_TRUE(d.HasMember("ReplicationStatus"));
    EXPECT_TRUE(Eventually([&] { return AllInSync(name, {"us-west-2", "eu-west-1"}); }));
    return d["ARN"].GetString();
  }
  void Partition(const std::string& from, const std::string& to, bool on) { R(from).transports.at(to)->partitioned = on; }
  // The bytes of every file of `region`'s database (main file, WAL, shared memory).
  std::string DatabaseBytes(const std::string& region) {
    std::string all;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      if (std::filesystem::exists(DbPath(region) + suffix)) all += ReadFile(DbPath(region) + suffix);
    return all;
  }
  std::string OutboxRows(const std::string& region) {
    auto txn = R(region).storage->BeginRead();
    EXPECT_TRUE(txn.ok());
    auto rows = (*txn)->Scan(storage::tables::kReplicationOutbox, "");
    std::string all;
    if (rows.ok())
      for (const auto& row : *rows) all += row.value;
    return all;
  }

  std::filesystem::path dir_;
  ManualClock clock_{1'700'000'000'000};
  Caller caller_{kAccount, std::string("arn:aws:iam::") + kAccount + ":root", "AKIDEXAMPLE"};
  std::map<std::string, std::unique_ptr<Region>> regions_;
};

TEST_F(SecretReplicationTest, CreateWithReplicaRegionsReplicatesUnderEachRegionsKey) {
  const std::string eu_key = CreateKey("eu-west-1");
  rapidjson::Document created = Ok(
      "us-east-1", "CreateSecret",
      "{\"Name\":\"app/db\",\"SecretString\":\"s3cr3t-v1\",\"AddReplicaRegions\":[{\"Region\":\"us-west-2\"},"
      "{\"Region\":\"eu-west-1\",\"KmsKeyId\":" + Quote(eu_key) + "}]}");
  ASSERT_TRUE(created.HasMember("ReplicationStatus"));
  ASSERT_EQ(created["ReplicationStatus"].Size(), 2u);
  EXPECT_STREQ(created["ReplicationStatus"][0]["Status"].GetString(), "InProgress");
  EXPECT_STREQ(created["ReplicationStatus"][0]["KmsKeyId"].GetString(), "alias/aws/secretsmanager");
  const std::string arn = created["ARN"].GetString();
  ASSERT_TRUE(Eventually([&] { return AllInSync("app/db", {"us-west-2", "eu-west-1"}); }));

  std::map<std::string, std::string> messages;
  Statuses("us-east-1", "app/db", &messages);
  EXPECT_EQ(messages["us-west-2"], "Replication succeeded");
  for (const std::string region : {"us-west-2", "eu-west-1"}) {
    EXPECT_EQ(Value(region, "app/db"), "s3cr3t-v1") << region;
    rapidjson::Document d = Ok(region, "DescribeSecret", "{\"SecretId\":\"app/db\"}");
    const std::string replica_arn = ArnInRegion(arn, region);
    EXPECT_EQ(d["ARN"].GetString(), replica_arn);
    EXPECT_STREQ(d["PrimaryRegion"].GetString(), "us-east-1");
    EXPECT_FALSE(d.HasMember("ReplicationStatus"));
    EXPECT_EQ(Value(region, replica_arn), "s3cr3t-v1");  // the replica's own ARN resolves there
  }
  rapidjson::Document primary = Ok("us-east-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
  EXPECT_STREQ(primary["PrimaryRegion"].GetString(), "us-east-1");
  EXPECT_STREQ(Ok("eu-west-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}")["KmsKeyId"].GetString(), eu_key.c_str());

  // Each region's copy is sealed under that region's KMS: disabling eu-west-1's key makes its
  // copy unreadable there and nowhere else.
  ASSERT_TRUE(CallKms("eu-west-1", "DisableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());
  EXPECT_EQ(Value("eu-west-1", "app/db"), "error:DecryptionFailure");
  EXPECT_EQ(Value("us-west-2", "app/db"), "s3cr3t-v1");
  EXPECT_EQ(Value("us-east-1", "app/db"), "s3cr3t-v1");
  // us-west-2 created its own aws/secretsmanager key on first use.
  rapidjson::Document aliases;
  ASSERT_TRUE(CallKms("us-west-2", "ListAliases", "{}", &aliases).ok());
  bool found = false;
  for (const auto& a : aliases["Aliases"].GetArray())
    found |= std::string(a["AliasName"].GetString()) == "alias/aws/secretsmanager" && a.HasMember("TargetKeyId");
  EXPECT_TRUE(found);

  // ListSecrets: PrimaryRegion on both sides, the primary-region filter.
  rapidjson::Document list = Ok("us-west-2", "ListSecrets", "{\"Filters\":[{\"Key\":\"primary-region\",\"Values\":[\"us-east-1\"]}]}");
  ASSERT_EQ(list["SecretList"].Size(), 1u);
  EXPECT_STREQ(list["SecretList"][0]["PrimaryRegion"].GetString(), "us-east-1");
  EXPECT_FALSE(list["SecretList"][0].HasMember("ReplicationStatus"));
}

TEST_F(SecretReplicationTest, EveryChangeOfThePrimaryReachesTheReplicasInOrder) {
  CreateReplicated("app/db", "v1");
  for (int i = 2; i <= 12; ++i)
    ASSERT_TRUE(Call("us-east-1", "PutSecretValue",
                     Obj({{"SecretId", Quote("app/db")}, {"SecretString", Quote("v" + std::to_string(i))},
                          {"ClientRequestToken", Quote(Token(i))}})).ok());
  ASSERT_TRUE(Call("us-east-1", "UpdateSecret",
                   "{\"SecretId\":\"app/db\",\"Description\":\"primary database\",\"SecretString\":\"v13\","
                   "\"ClientRequestToken\":" + Quote(Token(13)) + "}").ok());
  ASSERT_TRUE(Call("us-east-1", "TagResource",
                   "{\"SecretId\":\"app/db\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"payments\"}]}").ok());
  // A stage move: a custom label onto an older version, and AWSCURRENT back to version 12.
  ASSERT_TRUE(Call("us-east-1", "UpdateSecretVersionStage",
                   "{\"SecretId\":\"app/db\",\"VersionStage\":\"LEGACY\",\"MoveToVersionId\":" + Quote(Token(3)) + "}").ok());
  ASSERT_TRUE(Call("us-east-1", "UpdateSecretVersionStage",
                   "{\"SecretId\":\"app/db\",\"VersionStage\":\"AWSCURRENT\",\"MoveToVersionId\":" + Quote(Token(12)) +
                       ",\"RemoveFromVersionId\":" + Quote(Token(13)) + "}").ok());
  ASSERT_TRUE(Call("us-east-1", "PutResourcePolicy",
                   "{\"SecretId\":\"app/db\",\"ResourcePolicy\":" +
                       Quote("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                             "\"arn:aws:iam::111122223333:root\"},\"Action\":\"secretsmanager:GetSecretValue\","
                             "\"Resource\":\"*\"}]}") + "}").ok());

  rapidjson::Document primary = Ok("us-east-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
  rapidjson::StringBuffer expected_stages;
  {
    JsonWriter w(expected_stages);
    primary["VersionIdsToStages"].Accept(w);
  }
  for (const std::string region : {"us-west-2", "eu-west-1"}) {
    ASSERT_TRUE(Eventually([&] {
      rapidjson::Document d;
      if (!Call(region, "DescribeSecret", "{\"SecretId\":\"app/db\"}", &d).ok() || !d.HasMember("Tags")) return false;
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      d["VersionIdsToStages"].Accept(w);
      return std::string(sb.GetString()) == expected_stages.GetString();
    })) << region;
    rapidjson::Document d = Ok(region, "DescribeSecret", "{\"SecretId\":\"app/db\"}");
    EXPECT_STREQ(d["Description"].GetString(), "primary database");
    EXPECT_STREQ(d["Tags"][0]["Value"].GetString(), "payments");
    EXPECT_EQ(Value(region, "app/db"), "v12");
    EXPECT_EQ(Value(region, "app/db", "\"VersionStage\":\"AWSPREVIOUS\""), "v13");
    EXPECT_EQ(Value(region, "app/db", "\"VersionStage\":\"LEGACY\""), "v3");
    // Every version written on the primary is readable by id in the replica.
    for (int i = 1; i <= 13; ++i)
      EXPECT_EQ(Value(region, "app/db", "\"VersionId\":" + Quote(Token(i))), "v" + std::to_string(i)) << region << " " << i;
    rapidjson::Document policy = Ok(region, "GetResourcePolicy", "{\"SecretId\":\"app/db\"}");
    EXPECT_TRUE(policy.HasMember("ResourcePolicy"));
  }
}

TEST_F(SecretReplicationTest, ReplicasAreReadOnlyAndPrimariesWithReplicasCannotBeDeleted) {
  CreateReplicated("app/db", "v1");
  const std::string refused = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";
  const std::vector<std::pair<std::string, std::string>> writes = {
      {"PutSecretValue", "{\"SecretId\":\"app/db\",\"SecretString\":\"x\"}"},
      {"PutSecretValue", "{\"SecretId\":\"app/db\",\"SecretString\":\"v1\",\"ClientRequestToken\":" + Quote(Token(1)) + "}"},
      {"UpdateSecret", "{\"SecretId\":\"app/db\",\"Description\":\"d\"}"},
      {"TagResource", "{\"SecretId\":\"app/db\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}"},
      {"UntagResource", "{\"SecretId\":\"app/db\",\"TagKeys\":[\"k\"]}"},
      {"DeleteSecret", "{\"SecretId\":\"app/db\",\"ForceDeleteWithoutRecovery\":true}"},
      {"DeleteSecret", "{\"SecretId\":\"app/db\"}"},
      {"RestoreSecret", "{\"SecretId\":\"app/db\"}"},
      {"PutResourcePolicy", "{\"SecretId\":\"app/db\",\"ResourcePolicy\":\"{}\"}"},
      {"DeleteResourcePolicy", "{\"SecretId\":\"app/db\"}"},
      {"RotateSecret", "{\"SecretId\":\"app/db\",\"RotationRules\":{\"AutomaticallyAfterDays\":7}}"},
      {"CancelRotateSecret", "{\"SecretId\":\"app/db\"}"},
      {"UpdateSecretVersionStage", "{\"SecretId\":\"app/db\",\"VersionStage\":\"X\",\"MoveToVersionId\":" + Quote(Token(1)) + "}"},
      {"ReplicateSecretToRegions", "{\"SecretId\":\"app/db\",\"AddReplicaRegions\":[{\"Region\":\"eu-west-1\"}]}"},
      {"RemoveRegionsFromReplication", "{\"SecretId\":\"app/db\",\"RemoveReplicaRegions\":[\"us-east-1\"]}"},
  };
  for (const auto& [op, json] : writes) {
    Status st = Call("us-west-2", op, json);
    EXPECT_EQ(st.type(), "InvalidParameterException") << op << " " << json;
    EXPECT_EQ(st.message(), refused) << op;
  }
  EXPECT_EQ(Value("us-west-2", "app/db"), "v1");
  Status created = Call("us-west-2", "CreateSecret", "{\"Name\":\"app/db\",\"SecretString\":\"x\"}");
  EXPECT_EQ(created.type(), "ResourceExistsException");

  Status deleted = Call("us-east-1", "DeleteSecret", "{\"SecretId\":\"app/db\",\"ForceDeleteWithoutRecovery\":true}");
  EXPECT_EQ(deleted.type(), "InvalidParameterException");
  EXPECT_NE(deleted.message().find("that still has replica regions [us-west-2, eu-west-1]"), std::string::npos)
      << deleted.message();
  EXPECT_EQ(Call("us-east-1", "DeleteSecret", "{\"SecretId\":\"app/db\"}").type(), "InvalidParameterException");

  // Request validation: this region, a region outside the deployment, a duplicate, a repeat.
  Ok("us-east-1", "CreateSecret", "{\"Name\":\"other\",\"SecretString\":\"o\"}");
  auto replicate = [&](const std::string& regions) {
    return Call("us-east-1", "ReplicateSecretToRegions", "{\"SecretId\":\"other\",\"AddReplicaRegions\":" + regions + "}");
  };
  EXPECT_EQ(replicate("[{\"Region\":\"us-east-1\"}]").message(), "Invalid replica region.");
  EXPECT_EQ(replicate("[{\"Region\":\"ap-south-1\"}]").type(), "InvalidParameterException");
  EXPECT_EQ(replicate("[{\"Region\":\"eu-west-1\"},{\"Region\":\"eu-west-1\"}]").type(), "InvalidParameterException");
  EXPECT_EQ(replicate("[]").type(), "ValidationException");
  EXPECT_EQ(Call("us-east-1", "ReplicateSecretToRegions",
                 "{\"SecretId\":\"app/db\",\"AddReplicaRegions\":[{\"Region\":\"us-west-2\"}]}").type(),
            "InvalidParameterException");
  EXPECT_EQ(Call("us-east-1", "StopReplicationToReplica", "{\"SecretId\":\"app/db\"}").type(), "InvalidRequestException");
}

TEST_F(SecretReplicationTest, NameClashFailsUnlessForceOverwrite) {
  Ok("us-west-2", "CreateSecret", "{\"Name\":\"shared\",\"SecretString\":\"west-own\"}");
  Ok("us-east-1", "CreateSecret",
     "{\"Name\":\"shared\",\"SecretString\":\"east\",\"AddReplicaRegions\":[{\"Region\":\"us-west-2\"}]}");
  std::map<std::string, std::string> messages;
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "shared", &messages)["us-west-2"] == "Failed"; }));
  EXPECT_EQ(messages["us-west-2"], "Replication failed: Secret name shared already exists in region us-west-2.");
  // The primary keeps working and later changes leave the clashing secret alone.
  ASSERT_TRUE(Call("us-east-1", "PutSecretValue", "{\"SecretId\":\"shared\",\"SecretString\":\"east-2\"}").ok());
  EXPECT_EQ(Value("us-east-1", "shared"), "east-2");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Value("us-west-2", "shared"), "west-own");
  EXPECT_FALSE(Ok("us-west-2", "DescribeSecret", "{\"SecretId\":\"shared\"}").HasMember("PrimaryRegion"));

  // Replicating again with ForceOverwriteReplicaSecret replaces it.
  ASSERT_TRUE(Call("us-east-1", "ReplicateSecretToRegions",
                   "{\"SecretId\":\"shared\",\"ForceOverwriteReplicaSecret\":true,"
                   "\"AddReplicaRegions\":[{\"Region\":\"us-west-2\"}]}").ok());
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "shared")["us-west-2"] == "InSync"; }));
  EXPECT_EQ(Value("us-west-2", "shared"), "east-2");
  EXPECT_STREQ(Ok("us-west-2", "DescribeSecret", "{\"SecretId\":\"shared\"}")["PrimaryRegion"].GetString(), "us-east-1");
}

TEST_F(SecretReplicationTest, UnusableReplicaKeyFailsThatReplicaOnly) {
  // A key that does not exist in the replica region: the replica is not created.
  Ok("us-east-1", "CreateSecret",
     "{\"Name\":\"nokey\",\"SecretString\":\"v\",\"AddReplicaRegions\":[{\"Region\":\"eu-west-1\",\"KmsKeyId\":"
     "\"alias/does-not-exist\"},{\"Region\":\"us-west-2\"}]}");
  std::map<std::string, std::string> messages;
  ASSERT_TRUE(Eventually([&] {
    auto s = Statuses("us-east-1", "nokey", &messages);
    return s["eu-west-1"] == "Failed" && s["us-west-2"] == "InSync";
  }));
  EXPECT_EQ(messages["eu-west-1"].rfind("Replication failed: ", 0), 0u) << messages["eu-west-1"];
  EXPECT_EQ(Call("eu-west-1", "DescribeSecret", "{\"SecretId\":\"nokey\"}").type(), "ResourceNotFoundException");

  // A key disabled after the replica was created: new versions cannot be sealed there.
  const std::string eu_key = CreateKey("eu-west-1");
  CreateReplicated("app/db", "v1", eu_key);
  ASSERT_TRUE(CallKms("eu-west-1", "DisableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());
  ASSERT_TRUE(Call("us-east-1", "PutSecretValue", "{\"SecretId\":\"app/db\",\"SecretString\":\"v2\"}").ok());
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "app/db", &messages)["eu-west-1"] == "Failed"; }));
  EXPECT_NE(messages["eu-west-1"].find("could not be encrypted in eu-west-1"), std::string::npos) << messages["eu-west-1"];
  EXPECT_EQ(Value("us-east-1", "app/db"), "v2");  // the primary keeps working
  ASSERT_TRUE(Eventually([&] { return Value("us-west-2", "app/db") == "v2"; }));
  EXPECT_EQ(Statuses("us-east-1", "app/db")["us-west-2"], "InSync");

  // Fixed key, replicated again: every version is re-sent and the replica is InSync.
  ASSERT_TRUE(CallKms("eu-west-1", "EnableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());
  ASSERT_TRUE(Call("us-east-1", "ReplicateSecretToRegions",
                   "{\"SecretId\":\"app/db\",\"AddReplicaRegions\":[{\"Region\":\"eu-west-1\",\"KmsKeyId\":" +
                       Quote(eu_key) + "}]}").ok());
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "app/db")["eu-west-1"] == "InSync"; }));
  EXPECT_EQ(Value("eu-west-1", "app/db"), "v2");
}

TEST_F(SecretReplicationTest, FailedReplicaIsRetriedByMaintenanceUntilInSync) {
  const std::string eu_key = CreateKey("eu-west-1");
  ASSERT_TRUE(CallKms("eu-west-1", "DisableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());
  Ok("us-east-1", "CreateSecret",
     "{\"Name\":\"retry\",\"SecretString\":\"v1\",\"AddReplicaRegions\":[{\"Region\":\"eu-west-1\",\"KmsKeyId\":" +
         Quote(eu_key) + "}]}");
  std::map<std::string, std::string> messages;
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "retry", &messages)["eu-west-1"] == "Failed"; }));
  EXPECT_EQ(messages["eu-west-1"].rfind("Replication failed: ", 0), 0u) << messages["eu-west-1"];

  // Still broken: maintenance retries after the backoff, and the replica stays Failed.
  ASSERT_TRUE(R("us-east-1").secrets->RunDueMaintenance().ok());  // first seen: schedules the retry
  clock_.Advance(61 * 1000);
  auto retried = R("us-east-1").secrets->RunDueMaintenance();
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, 1);
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "retry", &messages)["eu-west-1"] == "Failed"; }));
  // Not retried again before the (doubled) backoff has passed.
  clock_.Advance(61 * 1000);
  EXPECT_EQ(*R("us-east-1").secrets->RunDueMaintenance(), 0);

  // The key works again: the next retry makes the replica InSync with the primary's value, with no
  // call to ReplicateSecretToRegions.
  ASSERT_TRUE(CallKms("eu-west-1", "EnableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());
  clock_.Advance(61 * 1000);
  EXPECT_EQ(*R("us-east-1").secrets->RunDueMaintenance(), 1);
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "retry", &messages)["eu-west-1"] == "InSync"; }));
  EXPECT_EQ(messages["eu-west-1"], "Replication succeeded");
  EXPECT_EQ(Value("eu-west-1", "retry"), "v1");
  clock_.Advance(3600 * 1000);
  EXPECT_EQ(*R("us-east-1").secrets->RunDueMaintenance(), 0);  // nothing left to retry
}

TEST_F(SecretReplicationTest, ReplicaKeyIsItsOwnAndThePrimaryKeyStaysAtThePrimary) {
  CreateReplicated("app/db", "v1");
  auto replica_keys = [&] {
    std::map<std::string, std::string> out;
    rapidjson::Document d = Ok("us-east-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
    for (const auto& s : d["ReplicationStatus"].GetArray())
      out[s["Region"].GetString()] = s.HasMember("KmsKeyId") ? s["KmsKeyId"].GetString() : "";
    return out;
  };
  const auto keys_before = replica_keys();

  // In the replica's region, UpdateSecret may change the replica's key, and nothing else.
  const std::string eu_key = CreateKey("eu-west-1");
  EXPECT_EQ(Call("eu-west-1", "UpdateSecret", "{\"SecretId\":\"app/db\",\"Description\":\"x\"}").message(),
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.");
  EXPECT_EQ(Call("eu-west-1", "UpdateSecret",
                 "{\"SecretId\":\"app/db\",\"KmsKeyId\":" + Quote(eu_key) + ",\"SecretString\":\"mine\"}").type(),
            "InvalidParameterException");
  EXPECT_FALSE(Call("eu-west-1", "UpdateSecret", "{\"SecretId\":\"app/db\",\"KmsKeyId\":\"alias/nope\"}").ok());
  ASSERT_TRUE(Call("eu-west-1", "UpdateSecret", "{\"SecretId\":\"app/db\",\"KmsKeyId\":" + Quote(eu_key) + "}").ok());
  rapidjson::Document eu = Ok("eu-west-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
  EXPECT_EQ(std::string(eu["KmsKeyId"].GetString()), eu_key);
  EXPECT_EQ(Value("eu-west-1", "app/db"), "v1");
  ASSERT_TRUE(Eventually([&] { return replica_keys()["eu-west-1"] == eu_key; }));
  EXPECT_EQ(replica_keys()["us-west-2"], keys_before.at("us-west-2"));
  // The replica's current version is now sealed under eu_key: disabling it makes it unreadable.
  ASSERT_TRUE(CallKms("eu-west-1", "DisableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());
  EXPECT_EQ(Call("eu-west-1", "GetSecretValue", "{\"SecretId\":\"app/db\"}").type(), "DecryptionFailure");
  ASSERT_TRUE(CallKms("eu-west-1", "EnableKey", "{\"KeyId\":" + Quote(eu_key) + "}").ok());

  // The primary's own key changes only the primary: the replicas keep theirs, and keep following.
  const std::string us_key = CreateKey("us-east-1");
  ASSERT_TRUE(Call("us-east-1", "UpdateSecret", "{\"SecretId\":\"app/db\",\"KmsKeyId\":" + Quote(us_key) +
                                                    ",\"SecretString\":\"v2\"}").ok());
  ASSERT_TRUE(Eventually([&] { return Value("eu-west-1", "app/db") == "v2" && Value("us-west-2", "app/db") == "v2"; }));
  EXPECT_EQ(replica_keys()["eu-west-1"], eu_key);
  eu = Ok("eu-west-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
  EXPECT_EQ(std::string(eu["KmsKeyId"].GetString()), eu_key);
  rapidjson::Document west = Ok("us-west-2", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
  EXPECT_FALSE(west.HasMember("KmsKeyId") && std::string(west["KmsKeyId"].GetString()) == us_key);
  EXPECT_TRUE(Eventually([&] { return AllInSync("app/db", {"us-west-2", "eu-west-1"}); }));
}

TEST_F(SecretReplicationTest, StopReplicationPromotesAndRemoveRegionsDeletes) {
  const std::string arn = CreateReplicated("app/db", "v1");
  rapidjson::Document promoted = Ok("us-west-2", "StopReplicationToReplica", "{\"SecretId\":\"app/db\"}");
  EXPECT_EQ(promoted["ARN"].GetString(), ArnInRegion(arn, "us-west-2"));
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "app/db").count("us-west-2") == 0; }));
  // Standalone: writable in its region, no longer following the primary.
  ASSERT_TRUE(Call("us-west-2", "PutSecretValue", "{\"SecretId\":\"app/db\",\"SecretString\":\"west-only\"}").ok());
  ASSERT_TRUE(Call("us-east-1", "PutSecretValue", "{\"SecretId\":\"app/db\",\"SecretString\":\"east-v2\"}").ok());
  ASSERT_TRUE(Eventually([&] { return Value("eu-west-1", "app/db") == "east-v2"; }));
  EXPECT_EQ(Value("us-west-2", "app/db"), "west-only");
  EXPECT_FALSE(Ok("us-west-2", "DescribeSecret", "{\"SecretId\":\"app/db\"}").HasMember("PrimaryRegion"));

  rapidjson::Document removed = Ok("us-east-1", "RemoveRegionsFromReplication",
                                   "{\"SecretId\":\"app/db\",\"RemoveReplicaRegions\":[\"eu-west-1\"]}");
  EXPECT_EQ(removed["ReplicationStatus"].Size(), 0u);
  ASSERT_TRUE(Eventually([&] {
    return Call("eu-west-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}").type() == "ResourceNotFoundException";
  }));
  EXPECT_EQ(Value("eu-west-1", "app/db"), "error:ResourceNotFoundException");
  EXPECT_EQ(Call("us-east-1", "RemoveRegionsFromReplication",
                 "{\"SecretId\":\"app/db\",\"RemoveReplicaRegions\":[\"eu-west-1\"]}").type(),
            "InvalidParameterException");
  // Without replicas the primary can be deleted again.
  EXPECT_TRUE(Call("us-east-1", "DeleteSecret", "{\"SecretId\":\"app/db\",\"ForceDeleteWithoutRecovery\":true}").ok());
}

TEST_F(SecretReplicationTest, PartitionedReplicaCatchesUpWithNothingLost) {
  CreateReplicated("app/db", "v1");
  Partition("us-east-1", "eu-west-1", true);
  for (int i = 2; i <= 20; ++i)
    ASSERT_TRUE(Call("us-east-1", "PutSecretValue",
                     Obj({{"SecretId", Quote("app/db")}, {"SecretString", Quote("v" + std::to_string(i))},
                          {"ClientRequestToken", Quote(Token(i))}})).ok());
  ASSERT_TRUE(Eventually([&] { return Value("us-west-2", "app/db") == "v20"; }));
  EXPECT_EQ(Value("eu-west-1", "app/db"), "v1");
  // While cut off, the outbox holds the pending changes but no value.
  const std::string pending = OutboxRows("us-east-1");
  EXPECT_NE(pending.find(message::kSecretChanged), std::string::npos);
  for (int i = 2; i <= 20; ++i) {
    const std::string v = "v" + std::to_string(i);
    EXPECT_EQ(pending.find("\\\"" + v + "\\\""), std::string::npos) << v;
  }
  Partition("us-east-1", "eu-west-1", false);
  ASSERT_TRUE(Eventually([&] { return Value("eu-west-1", "app/db") == "v20"; }));
  for (int i = 1; i <= 20; ++i)
    EXPECT_EQ(Value("eu-west-1", "app/db", "\"VersionId\":" + Quote(Token(i))), "v" + std::to_string(i));
  EXPECT_EQ(Statuses("us-east-1", "app/db")["eu-west-1"], "InSync");
}

TEST_F(SecretReplicationTest, NoPlaintextInAnyRegionsFilesOrOutbox) {
  const std::string secret = "PLAINTEXT-canary-7f3a9c1e5b";
  const std::string second = "PLAINTEXT-second-0d4e8a2f6c";
  CreateReplicated("app/canary", secret);
  Partition("us-east-1", "us-west-2", true);
  ASSERT_TRUE(Call("us-east-1", "PutSecretValue", "{\"SecretId\":\"app/canary\",\"SecretString\":" + Quote(second) + "}").ok());
  ASSERT_TRUE(Eventually([&] { return Value("eu-west-1", "app/canary") == second; }));
  const std::string outbox = OutboxRows("us-east-1");
  EXPECT_NE(outbox.find("app/canary"), std::string::npos);  // the pending change is there...
  Partition("us-east-1", "us-west-2", false);
  ASSERT_TRUE(Eventually([&] { return Value("us-west-2", "app/canary") == second; }));
  for (const std::string& value : {secret, second}) {
    EXPECT_EQ(outbox.find(value), std::string::npos);  // ...but not the value
    EXPECT_EQ(outbox.find(Base64Encode(AsBytes(value))), std::string::npos);
    for (const auto& region : kRegions) {
      const std::string bytes = DatabaseBytes(region);
      ASSERT_FALSE(bytes.empty());
      EXPECT_EQ(bytes.find(value), std::string::npos) << region;
      EXPECT_EQ(bytes.find(Base64Encode(AsBytes(value))), std::string::npos) << region;
      EXPECT_EQ(bytes.find(HexEncode(AsBytes(value))), std::string::npos) << region;
    }
  }
}

TEST_F(SecretReplicationTest, ReplicaAccessIsReportedToThePrimary) {
  CreateReplicated("app/db", "v1");
  EXPECT_EQ(Value("eu-west-1", "app/db"), "v1");
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document d = Ok("us-east-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
    for (const auto& s : d["ReplicationStatus"].GetArray())
      if (std::string(s["Region"].GetString()) == "eu-west-1") return s.HasMember("LastAccessedDate");
    return false;
  }));
  rapidjson::Document d = Ok("us-east-1", "DescribeSecret", "{\"SecretId\":\"app/db\"}");
  EXPECT_FALSE(d.HasMember("LastAccessedDate"));  // never read in the primary's region
  for (const auto& s : d["ReplicationStatus"].GetArray())
    if (std::string(s["Region"].GetString()) == "us-west-2") {
      EXPECT_FALSE(s.HasMember("LastAccessedDate"));
    }
}

TEST_F(SecretReplicationTest, HandlersAreIdempotent) {
  // Re-applying a batch the receiver already applied (a lost acknowledgement) changes nothing.
  R("us-east-1").transports.at("us-west-2")->lose_ack = true;
  Ok("us-east-1", "CreateSecret",
     "{\"Name\":\"app/db\",\"SecretString\":\"v1\",\"AddReplicaRegions\":[{\"Region\":\"us-west-2\"}]}");
  ASSERT_TRUE(Eventually([&] { return Value("us-west-2", "app/db") == "v1"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // several redeliveries
  R("us-east-1").transports.at("us-west-2")->lose_ack = false;
  ASSERT_TRUE(Call("us-east-1", "PutSecretValue", "{\"SecretId\":\"app/db\",\"SecretString\":\"v2\"}").ok());
  ASSERT_TRUE(Eventually([&] { return Value("us-west-2", "app/db") == "v2"; }));
  rapidjson::Document versions = Ok("us-west-2", "ListSecretVersionIds", "{\"SecretId\":\"app/db\"}");
  EXPECT_EQ(versions["Versions"].Size(), 2u);
  ASSERT_TRUE(Eventually([&] { return Statuses("us-east-1", "app/db")["us-west-2"] == "InSync"; }));
}

}  // namespace
}  // namespace meridian::secrets
