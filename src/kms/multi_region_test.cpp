// Multi-Region keys across two regions, each a real KmsService over its own SQLite store and root
// key, linked by the replication outbox/inbox (in-process transport, which can be partitioned).
// Checks the semantics AWS documents for MRKs: same key id and material in every region,
// ciphertext decrypting anywhere, shared properties (material, rotation) synchronized,
// independent ones (policy, tags, description, state) per region, primary changes, deletion
// order. The process-level version (real region processes over mutual TLS) is in tests/e2e.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "kms/kms.h"
#include "replication/in_process_transport.h"
#include "replication/peer_link.h"
#include "replication/replication.h"

namespace meridian::kms {
namespace {

constexpr int64_t kDay = 86400LL * 1000;
const char* kAccount = "111122223333";

struct Region {
  std::string name;
  crypto::RootKey root = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<replication::Outbox> outbox;
  std::unique_ptr<replication::Inbox> inbox;
  std::unique_ptr<KmsService> kms;
  std::unique_ptr<replication::PeerLink> link;  // to the other region
  replication::InProcessTransport* transport = nullptr;
};

class MultiRegionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mrk-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    a_.name = "us-east-1";
    b_.name = "us-west-2";
    for (Region* r : {&a_, &b_}) {
      r->storage = std::move(*storage::OpenSqlite((dir_ / (r->name + ".db")).string()));
      r->outbox = std::make_unique<replication::Outbox>(*r->storage, clock_);
      r->inbox = std::make_unique<replication::Inbox>(*r->storage);
    }
    Wire(a_, b_);
    Wire(b_, a_);
  }
  void Wire(Region& self, Region& peer) {
    KmsOptions o;
    o.region = self.name;
    o.account_id = kAccount;
    o.regions = {a_.name, b_.name};
    o.outbox = self.outbox.get();
    o.replication_enqueued = [&self] {
      if (self.link) self.link->Wake();
    };
    self.kms = std::make_unique<KmsService>(o, *self.storage, self.root, clock_);
    self.kms->RegisterReplicationHandlers(*self.inbox);
    auto transport = std::make_unique<replication::InProcessTransport>(*peer.inbox);
    self.transport = transport.get();
    std::map<std::string, replication::Expander, std::less<>> expanders{{"kms.", nullptr}};
    expanders["kms."] = self.kms->ReplicationExpander();
    self.link = std::make_unique<replication::PeerLink>(self.name, peer.name, *self.outbox, std::move(transport),
                                                        std::move(expanders), clock_);
    self.link->Start();
  }
  void TearDown() override {
    for (Region* r : {&a_, &b_}) r->link.reset();
    for (Region* r : {&a_, &b_}) {
      r->kms.reset();
      r->inbox.reset();
      r->outbox.reset();
      r->storage.reset();
    }
    std::filesystem::remove_all(dir_);
  }

  Status Call(Region& r, std::string_view op, const std::string& json, rapidjson::Document* out = nullptr) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = r.kms->Handle(op, *req, caller_, w);
    if (st.ok() && out) out->Parse(sb.GetString());
    return st;
  }
  bool Eventually(const std::function<bool()>& cond) {
    for (int i = 0; i < 500; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
  }
  std::string CreateMrk() {
    rapidjson::Document d;
    EXPECT_TRUE(Call(a_, "CreateKey", "{\"MultiRegion\":true,\"Description\":\"global\"}", &d).ok());
    return d["KeyMetadata"]["KeyId"].GetString();
  }
  void Replicate(const std::string& key) {
    rapidjson::Document d;
    Status st = Call(a_, "ReplicateKey", "{\"KeyId\":\"" + key + "\",\"ReplicaRegion\":\"us-west-2\",\"Description\":\"west\","
                                         "\"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"west\"}]}", &d);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_STREQ(d["ReplicaKeyMetadata"]["KeyState"].GetString(), "Creating");
    ASSERT_TRUE(Eventually([&] { return Call(b_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}").ok(); }));
  }
  std::string Encrypt(Region& r, const std::string& key, const std::string& b64) {
    rapidjson::Document d;
    Status st = Call(r, "Encrypt", "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"" + b64 + "\"}", &d);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? d["CiphertextBlob"].GetString() : "";
  }
  Result<std::string> Decrypt(Region& r, const std::string& blob) {
    rapidjson::Document d;
    Status st = Call(r, "Decrypt", "{\"CiphertextBlob\":\"" + blob + "\"}", &d);
    if (!st.ok()) return st;
    return std::string(d["Plaintext"].GetString());
  }
  size_t Rotations(Region& r, const std::string& key) {
    rapidjson::Document d;
    if (!Call(r, "ListKeyRotations", "{\"KeyId\":\"" + key + "\"}", &d).ok()) return 0;
    return d["Rotations"].Size();
  }

  std::filesystem::path dir_;
  ManualClock clock_{1'700'000'000'000};
  Caller caller_{kAccount, std::string("arn:aws:iam::") + kAccount + ":root", "AKIDEXAMPLE"};
  Region a_, b_;
};

TEST_F(MultiRegionTest, ReplicaHasSameIdAndDecryptsPrimaryCiphertextWithoutThePrimary) {
  std::string key = CreateMrk();
  EXPECT_EQ(key.rfind("mrk-", 0), 0u);
  EXPECT_EQ(key.size(), 36u);
  Replicate(key);
  std::string blob = Encrypt(a_, key, "Z2xvYmFs");
  // Region A is unreachable from here on: B decrypts on its own.
  a_.link->Stop();
  b_.link->Stop();
  auto plain = Decrypt(b_, blob);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "Z2xvYmFs");
  // And the other way round.
  EXPECT_EQ(*Decrypt(a_, Encrypt(b_, key, "d2VzdA==")), "d2VzdA==");

  rapidjson::Document da, db;
  ASSERT_TRUE(Call(a_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &da).ok());
  ASSERT_TRUE(Call(b_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &db).ok());
  const auto& ma = da["KeyMetadata"];
  const auto& mb = db["KeyMetadata"];
  EXPECT_EQ(std::string(mb["Arn"].GetString()), "arn:aws:kms:us-west-2:" + std::string(kAccount) + ":key/" + key);
  EXPECT_STREQ(ma["MultiRegionConfiguration"]["MultiRegionKeyType"].GetString(), "PRIMARY");
  EXPECT_STREQ(mb["MultiRegionConfiguration"]["MultiRegionKeyType"].GetString(), "REPLICA");
  EXPECT_STREQ(mb["MultiRegionConfiguration"]["PrimaryKey"]["Region"].GetString(), "us-east-1");
  EXPECT_STREQ(ma["MultiRegionConfiguration"]["ReplicaKeys"][0]["Region"].GetString(), "us-west-2");
  // Independent properties are the replica's own.
  EXPECT_STREQ(mb["Description"].GetString(), "west");
  EXPECT_STREQ(ma["Description"].GetString(), "global");
}

TEST_F(MultiRegionTest, RotationOnThePrimaryReachesTheReplicaEvenAfterAPartition) {
  std::string key = CreateMrk();
  Replicate(key);
  std::string old_blob = Encrypt(a_, key, "b2xk");
  a_.transport->partitioned = true;
  ASSERT_TRUE(Call(a_, "RotateKeyOnDemand", "{\"KeyId\":\"" + key + "\"}").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Rotations(b_, key), 0u);
  // Ciphertext under the new material cannot be read in B yet...
  std::string new_blob = Encrypt(a_, key, "bmV3");
  EXPECT_FALSE(Decrypt(b_, new_blob).ok());
  // ...and is once the partition heals.
  a_.transport->partitioned = false;
  ASSERT_TRUE(Eventually([&] { return Rotations(b_, key) == 1; }));
  EXPECT_EQ(*Decrypt(b_, new_blob), "bmV3");
  EXPECT_EQ(*Decrypt(b_, old_blob), "b2xk");
  // Automatic rotation is a shared property: set on the primary, seen on the replica.
  ASSERT_TRUE(Call(a_, "EnableKeyRotation", "{\"KeyId\":\"" + key + "\",\"RotationPeriodInDays\":90}").ok());
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document d;
    return Call(b_, "GetKeyRotationStatus", "{\"KeyId\":\"" + key + "\"}", &d).ok() && d["KeyRotationEnabled"].GetBool();
  }));
  clock_.Advance(91 * kDay);
  EXPECT_EQ(*b_.kms->RunDueMaintenance(), 0);  // replicas never rotate on their own
  EXPECT_EQ(*a_.kms->RunDueMaintenance(), 1);
  ASSERT_TRUE(Eventually([&] { return Rotations(b_, key) == 2; }));
  // Rotation is managed on the primary only.
  EXPECT_EQ(Call(b_, "RotateKeyOnDemand", "{\"KeyId\":\"" + key + "\"}").type(), "UnsupportedOperationException");
}

TEST_F(MultiRegionTest, SingleRegionKeysAreNeverReplicated) {
  rapidjson::Document d;
  ASSERT_TRUE(Call(a_, "CreateKey", "{}", &d).ok());
  std::string key = d["KeyMetadata"]["KeyId"].GetString();
  EXPECT_EQ(Call(a_, "ReplicateKey", "{\"KeyId\":\"" + key + "\",\"ReplicaRegion\":\"us-west-2\"}").type(),
            "UnsupportedOperationException");
  std::string blob = Encrypt(a_, key, "bG9jYWw=");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Call(b_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}").type(), "NotFoundException");
  EXPECT_FALSE(Decrypt(b_, blob).ok());
  EXPECT_EQ(a_.outbox->Stats("us-west-2")->last_enqueued, 0u);  // nothing about it left region A
}

TEST_F(MultiRegionTest, ReplicateKeyErrors) {
  std::string key = CreateMrk();
  EXPECT_EQ(Call(a_, "ReplicateKey", "{\"KeyId\":\"" + key + "\",\"ReplicaRegion\":\"eu-west-1\"}").type(),
            "UnsupportedOperationException");
  EXPECT_EQ(Call(a_, "ReplicateKey", "{\"KeyId\":\"" + key + "\",\"ReplicaRegion\":\"us-east-1\"}").type(),
            "AlreadyExistsException");
  Replicate(key);
  EXPECT_EQ(Call(a_, "ReplicateKey", "{\"KeyId\":\"" + key + "\",\"ReplicaRegion\":\"us-west-2\"}").type(),
            "AlreadyExistsException");
  EXPECT_EQ(Call(b_, "ReplicateKey", "{\"KeyId\":\"" + key + "\",\"ReplicaRegion\":\"us-east-1\"}").type(),
            "UnsupportedOperationException");
}

TEST_F(MultiRegionTest, UpdatePrimaryRegionSwapsRoles) {
  std::string key = CreateMrk();
  Replicate(key);
  ASSERT_TRUE(Call(a_, "UpdatePrimaryRegion", "{\"KeyId\":\"" + key + "\",\"PrimaryRegion\":\"us-west-2\"}").ok());
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document d;
    return Call(b_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &d).ok() &&
           std::string(d["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"].GetString()) == "PRIMARY";
  }));
  rapidjson::Document d;
  ASSERT_TRUE(Call(a_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &d).ok());
  EXPECT_STREQ(d["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"].GetString(), "REPLICA");
  // The new primary rotates, the old one receives.
  ASSERT_TRUE(Call(b_, "RotateKeyOnDemand", "{\"KeyId\":\"" + key + "\"}").ok());
  ASSERT_TRUE(Eventually([&] { return Rotations(a_, key) == 1; }));
  EXPECT_EQ(Call(a_, "RotateKeyOnDemand", "{\"KeyId\":\"" + key + "\"}").type(), "UnsupportedOperationException");
}

TEST_F(MultiRegionTest, UpdatePrimaryRegionLeavesBothKeysUpdatingUntilTheHandshakeCompletes) {
  std::string key = CreateMrk();
  Replicate(key);
  auto state = [&](Region& r) {
    rapidjson::Document d;
    if (!Call(r, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &d).ok()) return std::string("?");
    return std::string(d["KeyMetadata"]["KeyState"].GetString()) +
           (d["KeyMetadata"]["Enabled"].GetBool() ? "/enabled" : "/not-enabled");
  };
  // The new primary's confirmation cannot reach the old primary for now.
  b_.transport->partitioned = true;
  ASSERT_TRUE(Call(a_, "UpdatePrimaryRegion", "{\"KeyId\":\"" + key + "\",\"PrimaryRegion\":\"us-west-2\"}").ok());
  EXPECT_EQ(state(a_), "Updating/not-enabled");  // at once, in the old primary's region
  ASSERT_TRUE(Eventually([&] { return state(b_) == "Updating/not-enabled"; })) << state(b_);
  // Both keep working in cryptographic operations, and interoperate.
  std::string blob = Encrypt(a_, key, "dXBkYXRpbmc=");
  rapidjson::Document d;
  ASSERT_TRUE(Call(b_, "Decrypt", "{\"CiphertextBlob\":\"" + blob + "\"}", &d).ok());
  EXPECT_STREQ(d["Plaintext"].GetString(), "dXBkYXRpbmc=");
  Encrypt(b_, key, "dXBkYXRpbmc=");
  // But the new primary cannot be replicated, and the primary cannot move again, meanwhile.
  EXPECT_EQ(Call(b_, "UpdatePrimaryRegion", "{\"KeyId\":\"" + key + "\",\"PrimaryRegion\":\"us-east-1\"}").type(),
            "KMSInvalidStateException");
  // Still Updating while the link is down.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(state(a_), "Updating/not-enabled");
  EXPECT_EQ(state(b_), "Updating/not-enabled");

  b_.transport->partitioned = false;
  b_.link->Wake();
  ASSERT_TRUE(Eventually([&] { return state(a_) == "Enabled/enabled" && state(b_) == "Enabled/enabled"; }))
      << state(a_) << " " << state(b_);
  ASSERT_TRUE(Call(b_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &d).ok());
  EXPECT_STREQ(d["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"].GetString(), "PRIMARY");
  // Enabled again: the primary can move back.
  ASSERT_TRUE(Call(b_, "UpdatePrimaryRegion", "{\"KeyId\":\"" + key + "\",\"PrimaryRegion\":\"us-east-1\"}").ok());
  ASSERT_TRUE(Eventually([&] { return state(a_) == "Enabled/enabled" && state(b_) == "Enabled/enabled"; }));
}

TEST_F(MultiRegionTest, UpdatePrimaryRegionNeedsAnEnabledPrimary) {
  std::string key = CreateMrk();
  Replicate(key);
  ASSERT_TRUE(Call(a_, "DisableKey", "{\"KeyId\":\"" + key + "\"}").ok());
  EXPECT_EQ(Call(a_, "UpdatePrimaryRegion", "{\"KeyId\":\"" + key + "\",\"PrimaryRegion\":\"us-west-2\"}").type(),
            "KMSInvalidStateException");
}

TEST_F(MultiRegionTest, PrimaryWaitsForItsReplicasBeforeItsOwnDeletion) {
  std::string key = CreateMrk();
  Replicate(key);
  rapidjson::Document d;
  ASSERT_TRUE(Call(a_, "ScheduleKeyDeletion", "{\"KeyId\":\"" + key + "\",\"PendingWindowInDays\":7}", &d).ok());
  EXPECT_STREQ(d["KeyState"].GetString(), "PendingReplicaDeletion");
  // The replica stays usable: its state is its own.
  std::string blob = Encrypt(b_, key, "c3RpbGw=");
  ASSERT_TRUE(Call(b_, "ScheduleKeyDeletion", "{\"KeyId\":\"" + key + "\",\"PendingWindowInDays\":7}").ok());
  clock_.Advance(7 * kDay + 1);
  EXPECT_EQ(*a_.kms->RunDueMaintenance(), 0);  // the primary is still waiting
  EXPECT_EQ(*b_.kms->RunDueMaintenance(), 1);  // the replica is destroyed and tells the primary
  ASSERT_TRUE(Eventually([&] {
    rapidjson::Document m;
    return Call(a_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}", &m).ok() &&
           std::string(m["KeyMetadata"]["KeyState"].GetString()) == "PendingDeletion";
  }));
  clock_.Advance(7 * kDay + 1);
  EXPECT_EQ(*a_.kms->RunDueMaintenance(), 1);
  EXPECT_EQ(Call(a_, "DescribeKey", "{\"KeyId\":\"" + key + "\"}").type(), "NotFoundException");
  EXPECT_FALSE(Decrypt(a_, blob).ok());
}

}  // namespace
}  // namespace meridian::kms
