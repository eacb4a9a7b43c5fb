// KmsService behaviour that needs a controllable clock or a restart: key deletion when due,
// automatic rotation, old ciphertext after rotation, tampering. The wire-level behaviour of every
// operation is covered end to end in tests/e2e.
#include "kms/kms.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/encoding.h"
#include "crypto/crypto.h"

namespace meridian::kms {
namespace {

constexpr int64_t kDay = 86400LL * 1000;

class KmsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kms-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    service_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Simulates a restart: a new storage handle and service over the same files.
  void Reopen() {
    service_.reset();
    storage_.reset();
    auto s = storage::OpenSqlite((dir_ / "kms.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(*s);
    service_ = std::make_unique<KmsService>(KmsOptions::SingleRegion("us-east-1", "111122223333"), *storage_, root_, clock_);
  }

  // Calls an operation with a JSON request; returns the status and fills `response`.
  Status Call(std::string_view op, const std::string& json, rapidjson::Document* response = nullptr) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = service_->Handle(op, *req, caller_, w);
    if (st.ok() && response) response->Parse(sb.GetString());
    return st;
  }
  std::string CreateKey() {
    rapidjson::Document r;
    EXPECT_TRUE(Call("CreateKey", "{}", &r).ok());
    return r["KeyMetadata"]["KeyId"].GetString();
  }
  std::string Encrypt(const std::string& key, const std::string& plaintext_b64, const std::string& ctx = "{}") {
    rapidjson::Document r;
    Status st = Call("Encrypt", "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"" + plaintext_b64 +
                                    "\",\"EncryptionContext\":" + ctx + "}", &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? r["CiphertextBlob"].GetString() : "";
  }
  Status Decrypt(const std::string& blob, const std::string& ctx = "{}", std::string* plaintext = nullptr) {
    rapidjson::Document r;
    Status st = Call("Decrypt", "{\"CiphertextBlob\":\"" + blob + "\",\"EncryptionContext\":" + ctx + "}", &r);
    if (st.ok() && plaintext) *plaintext = r["Plaintext"].GetString();
    return st;
  }

  std::filesystem::path dir_;
  crypto::RootKey root_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  ManualClock clock_{1'700'000'000'000};
  Caller caller_{"111122223333", "arn:aws:iam::111122223333:root", "AKIDEXAMPLE"};
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<KmsService> service_;
};

TEST_F(KmsServiceTest, EncryptDecryptRoundTripWithContextAsAad) {
  std::string key = CreateKey();
  std::string blob = Encrypt(key, "aGVsbG8=", "{\"tenant\":\"a\"}");
  std::string plaintext;
  ASSERT_TRUE(Decrypt(blob, "{\"tenant\":\"a\"}", &plaintext).ok());
  EXPECT_EQ(plaintext, "aGVsbG8=");
  EXPECT_EQ(Decrypt(blob, "{\"tenant\":\"b\"}").type(), "InvalidCiphertextException");
  EXPECT_EQ(Decrypt(blob, "{}").type(), "InvalidCiphertextException");
}

TEST_F(KmsServiceTest, AnyAlteredCiphertextByteIsRejected) {
  std::string key = CreateKey();
  Bytes blob = *Base64Decode(Encrypt(key, "c2VjcmV0"));
  for (size_t i = 0; i < blob.size(); ++i) {
    Bytes bad = blob;
    bad[i] ^= 0x01;
    Status st = Decrypt(Base64Encode(bad));
    EXPECT_FALSE(st.ok()) << "byte " << i;
    EXPECT_TRUE(st.type() == "InvalidCiphertextException" || st.type() == "NotFoundException") << st.ToString();
  }
}

TEST_F(KmsServiceTest, OldCiphertextDecryptsAfterOnDemandAndAutomaticRotation) {
  std::string key = CreateKey();
  std::string before = Encrypt(key, "b2xk");
  ASSERT_TRUE(Call("RotateKeyOnDemand", "{\"KeyId\":\"" + key + "\"}").ok());
  ASSERT_TRUE(Call("EnableKeyRotation", "{\"KeyId\":\"" + key + "\",\"RotationPeriodInDays\":90}").ok());
  clock_.Advance(91 * kDay);
  auto changed = service_->RunDueMaintenance();
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 1);
  rapidjson::Document rotations;
  ASSERT_TRUE(Call("ListKeyRotations", "{\"KeyId\":\"" + key + "\"}", &rotations).ok());
  ASSERT_EQ(rotations["Rotations"].Size(), 2u);
  EXPECT_STREQ(rotations["Rotations"][0]["RotationType"].GetString(), "ON_DEMAND");
  EXPECT_STREQ(rotations["Rotations"][1]["RotationType"].GetString(), "AUTOMATIC");
  std::string plaintext;
  ASSERT_TRUE(Decrypt(before, "{}", &plaintext).ok());
  EXPECT_EQ(plaintext, "b2xk");
  // New ciphertext uses the newest material; it differs in its backing key id.
  std::string after = Encrypt(key, "b2xk");
  EXPECT_NE(Base64Decode(before)->at(40), Base64Decode(after)->at(40));
  // Nothing else is due now.
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
}

TEST_F(KmsServiceTest, ScheduledDeletionDestroysKeyWhenDueAcrossRestart) {
  std::string key = CreateKey();
  std::string blob = Encrypt(key, "ZGF0YQ==");
  ASSERT_TRUE(Call("CreateAlias", "{\"AliasName\":\"alias/doomed\",\"TargetKeyId\":\"" + key + "\"}").ok());
  ASSERT_TRUE(Call("ScheduleKeyDeletion", "{\"KeyId\":\"" + key + "\",\"PendingWindowInDays\":7}").ok());
  EXPECT_EQ(Decrypt(blob).type(), "KMSInvalidStateException");
  Reopen();
  clock_.Advance(6 * kDay);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  clock_.Advance(1 * kDay + 1);
  EXPECT_EQ(*service_->RunDueMaintenance(), 1);
  Reopen();
  EXPECT_EQ(Call("DescribeKey", "{\"KeyId\":\"" + key + "\"}").type(), "NotFoundException");
  EXPECT_EQ(Call("DescribeKey", "{\"KeyId\":\"alias/doomed\"}").type(), "NotFoundException");
  EXPECT_FALSE(Decrypt(blob).ok());
}

TEST_F(KmsServiceTest, CancelledDeletionLeavesKeyDisabledAndKept) {
  std::string key = CreateKey();
  ASSERT_TRUE(Call("ScheduleKeyDeletion", "{\"KeyId\":\"" + key + "\"}").ok());
  ASSERT_TRUE(Call("CancelKeyDeletion", "{\"KeyId\":\"" + key + "\"}").ok());
  clock_.Advance(31 * kDay);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  rapidjson::Document r;
  ASSERT_TRUE(Call("DescribeKey", "{\"KeyId\":\"" + key + "\"}", &r).ok());
  EXPECT_STREQ(r["KeyMetadata"]["KeyState"].GetString(), "Disabled");
  EXPECT_EQ(Call("Encrypt", "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"eA==\"}").type(), "DisabledException");
}

TEST_F(KmsServiceTest, DecryptWithWrongKeyIdIsIncorrectKey) {
  std::string a = CreateKey(), b = CreateKey();
  std::string blob = Encrypt(a, "eA==");
  EXPECT_EQ(Call("Decrypt", "{\"CiphertextBlob\":\"" + blob + "\",\"KeyId\":\"" + b + "\"}").type(),
            "IncorrectKeyException");
  EXPECT_TRUE(Call("Decrypt", "{\"CiphertextBlob\":\"" + blob + "\",\"KeyId\":\"" + a + "\"}").ok());
}

TEST_F(KmsServiceTest, KeysOfAnotherAccountAreInvisible) {
  std::string key = CreateKey();
  std::string blob = Encrypt(key, "eA==");
  caller_.account_id = "999988887777";
  EXPECT_EQ(Call("DescribeKey", "{\"KeyId\":\"" + key + "\"}").type(), "NotFoundException");
  EXPECT_FALSE(Decrypt(blob).ok());
  rapidjson::Document r;
  ASSERT_TRUE(Call("ListKeys", "{}", &r).ok());
  EXPECT_EQ(r["Keys"].Size(), 0u);
}

}  // namespace
}  // namespace meridian::kms
