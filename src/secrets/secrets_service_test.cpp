// SecretsService through Handle(), over real SQLite storage and a real KMS: every operation and
// its errors, version stages, idempotency, deletion and restore across restarts, envelope
// encryption (nothing in plaintext on disk; KMS key state decides readability).
#include "secrets/secrets.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "common/encoding.h"
#include "secrets/secret_record.h"
#include "secrets/test_fixture.h"
#include "storage/schema.h"

namespace meridian::secrets {
namespace {

using testing::kAccount;
using testing::kDay;
using testing::kHour;
using testing::Obj;
using testing::Quote;
using testing::Token;

class SecretsServiceTest : public testing::SecretsFixture {};

// ---- CreateSecret / GetSecretValue ----------------------------------------------------------

TEST_F(SecretsServiceTest, CreateAndGetByNameFullArnAndPartialArn) {
  rapidjson::Document created =
      Ok("CreateSecret", Obj({{"Name", Quote("prod/db-password")}, {"SecretString", Quote("s3cr3t!")},
                              {"ClientRequestToken", Quote(Token(1))}, {"Description", Quote("main db")}}));
  const std::string arn = created["ARN"].GetString();
  const std::string prefix = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-password-";
  ASSERT_EQ(arn.size(), prefix.size() + 6) << arn;
  EXPECT_EQ(arn.substr(0, prefix.size()), prefix);
  for (char c : arn.substr(prefix.size())) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << arn;
  EXPECT_STREQ(created["Name"].GetString(), "prod/db-password");
  EXPECT_EQ(created["VersionId"].GetString(), Token(1));

  const std::string partial = arn.substr(0, arn.size() - 7);
  for (const std::string& id : {std::string("prod/db-password"), arn, partial}) {
    rapidjson::Document got = Ok("GetSecretValue", Obj({{"SecretId", Quote(id)}}));
    EXPECT_STREQ(got["SecretString"].GetString(), "s3cr3t!") << id;
    EXPECT_STREQ(got["ARN"].GetString(), arn.c_str());
    EXPECT_EQ(got["VersionId"].GetString(), Token(1));
    ASSERT_EQ(got["VersionStages"].Size(), 1u);
    EXPECT_STREQ(got["VersionStages"][0].GetString(), "AWSCURRENT");
    EXPECT_DOUBLE_EQ(got["CreatedDate"].GetDouble(), clock_.NowMillis() / 1000.0);
    EXPECT_FALSE(got.HasMember("SecretBinary"));
  }
  // A full ARN with another suffix, another account or another region names nothing here.
  for (const std::string& id : {partial + "-AAAAAA",
                                std::string("arn:aws:secretsmanager:us-east-1:999988887777:secret:prod/db-password"),
                                std::string("arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-password"),
                                std::string("nope")}) {
    Status st = Call("GetSecretValue", Obj({{"SecretId", Quote(id)}}));
    EXPECT_EQ(st.type(), "ResourceNotFoundException") << id;
    EXPECT_EQ(st.message(), "Secrets Manager can't find the specified secret.");
  }
}

TEST_F(SecretsServiceTest, BinarySecretRoundTrips) {
  Bytes data = {0x00, 0xff, 0x10, 0x00, 0x7f};
  Ok("CreateSecret", Obj({{"Name", Quote("bin")}, {"SecretBinary", Quote(Base64Encode(data))}}));
  rapidjson::Document got = Ok("GetSecretValue", Obj({{"SecretId", Quote("bin")}}));
  EXPECT_FALSE(got.HasMember("SecretString"));
  EXPECT_EQ(got["SecretBinary"].GetString(), Base64Encode(data));
}

TEST_F(SecretsServiceTest, CreateValidatesItsInput) {
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("x")}, {"SecretString", Quote("a")}, {"SecretBinary", Quote("YQ==")}}))
                .type(),
            "InvalidParameterException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("bad name")}})).type(), "InvalidParameterException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("bad|name")}})).type(), "InvalidParameterException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote(std::string(513, 'a'))}})).type(), "ValidationException");
  EXPECT_TRUE(Call("CreateSecret", Obj({{"Name", Quote(std::string(512, 'a'))}})).ok());
  EXPECT_EQ(Call("CreateSecret", "{}").type(), "ValidationException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("t")}, {"ClientRequestToken", Quote("short")}})).type(),
            "ValidationException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("e")}, {"SecretString", Quote("")}})).type(), "ValidationException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("big")}, {"SecretString", Quote(std::string(65537, 'x'))}})).type(),
            "ValidationException");
  EXPECT_TRUE(Call("CreateSecret", Obj({{"Name", Quote("max")}, {"SecretString", Quote(std::string(65536, 'x'))}})).ok());
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("b")}, {"SecretBinary", Quote(Base64Encode(Bytes(65537, 1)))}})).type(),
            "ValidationException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("tags")}, {"Tags", "[{\"Key\":\"aws:x\",\"Value\":\"v\"}]"}})).type(),
            "InvalidParameterException");
  // A single-region deployment has no region to replicate to (replication_test.cpp covers several).
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("r")}, {"AddReplicaRegions", "[{\"Region\":\"eu-west-1\"}]"}})).type(),
            "InvalidParameterException");
  // Nothing was created by the failed calls.
  rapidjson::Document list = Ok("ListSecrets", "{}");
  EXPECT_EQ(list["SecretList"].Size(), 2u);
}

TEST_F(SecretsServiceTest, CreateIsIdempotentPerTokenAndRefusesDuplicates) {
  const std::string request = Obj({{"Name", Quote("dup")}, {"SecretString", Quote("v1")}, {"ClientRequestToken", Quote(Token(7))}});
  rapidjson::Document first = Ok("CreateSecret", request);
  rapidjson::Document again = Ok("CreateSecret", request);
  EXPECT_STREQ(first["ARN"].GetString(), again["ARN"].GetString());
  EXPECT_EQ(again["VersionId"].GetString(), Token(7));
  Status other_value = Call("CreateSecret", Obj({{"Name", Quote("dup")}, {"SecretString", Quote("v2")},
                                                 {"ClientRequestToken", Quote(Token(7))}}));
  EXPECT_EQ(other_value.type(), "ResourceExistsException");
  Status other_token = Call("CreateSecret", Obj({{"Name", Quote("dup")}, {"SecretString", Quote("v1")},
                                                 {"ClientRequestToken", Quote(Token(8))}}));
  EXPECT_EQ(other_token.type(), "ResourceExistsException");
  EXPECT_EQ(other_token.message(), "The operation failed because the secret dup already exists.");
  EXPECT_EQ(Value("dup"), "v1");
}

TEST_F(SecretsServiceTest, SecretWithoutValueGetsAwsCurrentOnFirstPut) {
  rapidjson::Document created = Ok("CreateSecret", Obj({{"Name", Quote("empty")}}));
  EXPECT_FALSE(created.HasMember("VersionId"));
  Status st = Call("GetSecretValue", Obj({{"SecretId", Quote("empty")}}));
  EXPECT_EQ(st.type(), "ResourceNotFoundException");
  EXPECT_EQ(st.message(), "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
  EXPECT_EQ(Describe("empty")["VersionIdsToStages"].MemberCount(), 0u);
  // The first version always gets AWSCURRENT, even when other labels are asked for.
  ASSERT_TRUE(Put("empty", "first", Token(1), "\"VersionStages\":[\"Custom\"]").ok());
  std::vector<std::string> stages = Stages("empty", Token(1));
  EXPECT_EQ(std::set<std::string>(stages.begin(), stages.end()), (std::set<std::string>{"Custom", "AWSCURRENT"}));
  EXPECT_EQ(Value("empty"), "first");
}

// ---- encryption -----------------------------------------------------------------------------

TEST_F(SecretsServiceTest, DefaultKeyIsTheAwsManagedSecretsManagerKey) {
  Create("default-key", "v");
  rapidjson::Document aliases;
  ASSERT_TRUE(CallKms("ListAliases", "{}", &aliases).ok());
  bool found = false;
  for (const auto& a : aliases["Aliases"].GetArray())
    found = found || std::string_view(a["AliasName"].GetString()) == "alias/aws/secretsmanager";
  EXPECT_TRUE(found);
  EXPECT_FALSE(Describe("default-key").HasMember("KmsKeyId"));
  rapidjson::Document versions = Ok("ListSecretVersionIds", Obj({{"SecretId", Quote("default-key")}}));
  EXPECT_STREQ(versions["Versions"][0]["KmsKeyIds"][0].GetString(), "DefaultEncryptionKey");

  const std::string key = CreateKmsKey();
  Create("customer-key", "v", "\"KmsKeyId\":" + Quote(key));
  EXPECT_EQ(Describe("customer-key")["KmsKeyId"].GetString(), key);
  versions = Ok("ListSecretVersionIds", Obj({{"SecretId", Quote("customer-key")}}));
  EXPECT_EQ(versions["Versions"][0]["KmsKeyIds"][0].GetString(), key);
  EXPECT_EQ(Value("customer-key"), "v");
}

TEST_F(SecretsServiceTest, NoSecretValueReachesTheDatabaseFiles) {
  const std::string text = "plaintext-canary-9f8e7d6c5b4a";
  const Bytes binary = ToBytes("binary-canary-0a1b2c3d4e5f");
  Create("canary/string", text);
  Ok("CreateSecret", Obj({{"Name", Quote("canary/binary")}, {"SecretBinary", Quote(Base64Encode(binary))}}));
  ASSERT_TRUE(Put("canary/string", text + "-v2", Token(2)).ok());
  Ok("UpdateSecret", Obj({{"SecretId", Quote("canary/string")}, {"SecretString", Quote(text + "-v3")}}));
  EXPECT_EQ(Value("canary/string"), text + "-v3");
  EXPECT_EQ(Value("canary/string", "\"VersionId\":" + Quote(Token(2))), text + "-v2");

  auto scan = [&] {
    std::string all;
    for (const char* suffix : {"", "-wal", "-shm"}) all += testing::ReadFile(db_path() + suffix);
    return all;
  };
  std::string bytes = scan();
  // The files do hold the secrets' (non-secret) metadata: the search looks at real data.
  EXPECT_NE(bytes.find("canary/string"), std::string::npos);
  EXPECT_EQ(bytes.find("plaintext-canary"), std::string::npos);
  EXPECT_EQ(bytes.find("binary-canary"), std::string::npos);
  EXPECT_EQ(bytes.find(Base64Encode(binary)), std::string::npos);
  // And after a restart (checkpointed state), still nothing.
  Reopen();
  EXPECT_EQ(Value("canary/string"), text + "-v3");
  bytes = scan();
  EXPECT_EQ(bytes.find("plaintext-canary"), std::string::npos);
  EXPECT_EQ(bytes.find("binary-canary"), std::string::npos);
}

TEST_F(SecretsServiceTest, DisabledOrDeletedKmsKeyMakesTheValueUnreadable) {
  const std::string key = CreateKmsKey();
  Create("protected", "value-1", "\"KmsKeyId\":" + Quote(key));
  ASSERT_TRUE(CallKms("DisableKey", Obj({{"KeyId", Quote(key)}})).ok());
  Status read = Call("GetSecretValue", Obj({{"SecretId", Quote("protected")}}));
  EXPECT_EQ(read.type(), "DecryptionFailure") << read.ToString();
  EXPECT_EQ(read.http_status(), 400);
  Status write = Put("protected", "value-2", Token(2));
  EXPECT_EQ(write.type(), "EncryptionFailure") << write.ToString();
  EXPECT_EQ(Stages("protected", Token(2)).size(), 0u);  // nothing was written
  // Metadata stays available.
  EXPECT_STREQ(Describe("protected")["Name"].GetString(), "protected");

  ASSERT_TRUE(CallKms("EnableKey", Obj({{"KeyId", Quote(key)}})).ok());
  EXPECT_EQ(Value("protected"), "value-1");
  ASSERT_TRUE(CallKms("ScheduleKeyDeletion", Obj({{"KeyId", Quote(key)}, {"PendingWindowInDays", "7"}})).ok());
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("protected")}})).type(), "DecryptionFailure");
  // Creating a secret under an unusable key fails and creates nothing.
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("never")}, {"SecretString", Quote("x")}, {"KmsKeyId", Quote(key)}})).type(),
            "EncryptionFailure");
  EXPECT_EQ(Call("DescribeSecret", Obj({{"SecretId", Quote("never")}})).type(), "ResourceNotFoundException");
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("nokey")}, {"SecretString", Quote("x")},
                                      {"KmsKeyId", Quote("alias/does-not-exist")}})).type(),
            "EncryptionFailure");
}

TEST_F(SecretsServiceTest, KeyOfAnotherAccountCannotProtectASecret) {
  const std::string key = CreateKmsKey();  // in account 111122223333
  caller_.account_id = "999988887777";
  EXPECT_EQ(Call("CreateSecret", Obj({{"Name", Quote("other")}, {"SecretString", Quote("x")}, {"KmsKeyId", Quote(key)}})).type(),
            "EncryptionFailure");
  // And the secrets of one account are invisible to another.
  caller_.account_id = kAccount;
  const std::string arn = Create("mine", "x");
  caller_.account_id = "999988887777";
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("mine")}})).type(), "ResourceNotFoundException");
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote(arn)}})).type(), "ResourceNotFoundException");
  EXPECT_EQ(Ok("ListSecrets", "{}")["SecretList"].Size(), 0u);
}

TEST_F(SecretsServiceTest, SealedValuesAreBoundToTheirSecretAndVersion) {
  Create("a", "value-of-a", "\"ClientRequestToken\":" + Quote(Token(1)));
  Create("b", "value-of-b", "\"ClientRequestToken\":" + Quote(Token(1)));
  // Copy a's sealed row over b's: same version id, same account, other secret.
  {
    auto txn = storage_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto a_row = (*txn)->Get(storage::tables::kSecretVersions, VersionRowKey(kAccount, "a", Token(1)));
    ASSERT_TRUE(a_row.ok() && a_row->has_value());
    ASSERT_TRUE((*txn)->Put(storage::tables::kSecretVersions, VersionRowKey(kAccount, "b", Token(1)), **a_row).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("b")}})).type(), "DecryptionFailure");
  // A flipped byte anywhere in a sealed row never yields a value.
  auto read = storage_->BeginRead();
  std::string row = **(*read)->Get(storage::tables::kSecretVersions, VersionRowKey(kAccount, "a", Token(1)));
  read->reset();
  for (size_t i = 0; i < row.size(); i += 7) {
    std::string bad = row;
    bad[i] ^= 0x20;
    auto txn = storage_->BeginWrite();
    ASSERT_TRUE((*txn)->Put(storage::tables::kSecretVersions, VersionRowKey(kAccount, "a", Token(1)), bad).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
    txn->reset();
    Status st = Call("GetSecretValue", Obj({{"SecretId", Quote("a")}}));
    EXPECT_TRUE(st.type() == "DecryptionFailure" || st.type() == "InternalServiceError") << i << " " << st.ToString();
  }
}

// ---- versions and stages --------------------------------------------------------------------

TEST_F(SecretsServiceTest, PutMovesAwsCurrentAndAwsPreviousFollows) {
  Create("s", "v1", "\"ClientRequestToken\":" + Quote(Token(1)));
  rapidjson::Document put;
  ASSERT_TRUE(Call("PutSecretValue", Obj({{"SecretId", Quote("s")}, {"SecretString", Quote("v2")},
                                          {"ClientRequestToken", Quote(Token(2))}}), &put).ok());
  EXPECT_EQ(put["VersionId"].GetString(), Token(2));
  EXPECT_STREQ(put["VersionStages"][0].GetString(), "AWSCURRENT");
  EXPECT_EQ(Stages("s", Token(1)), std::vector<std::string>{"AWSPREVIOUS"});
  ASSERT_TRUE(Put("s", "v3", Token(3)).ok());
  EXPECT_EQ(Stages("s", Token(3)), std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(Stages("s", Token(2)), std::vector<std::string>{"AWSPREVIOUS"});
  EXPECT_TRUE(Stages("s", Token(1)).empty());  // deprecated
  EXPECT_EQ(Value("s"), "v3");
  EXPECT_EQ(Value("s", "\"VersionStage\":\"AWSPREVIOUS\""), "v2");
  EXPECT_EQ(Value("s", "\"VersionId\":" + Quote(Token(1))), "v1");  // deprecated versions stay readable by id

  rapidjson::Document listed = Ok("ListSecretVersionIds", Obj({{"SecretId", Quote("s")}}));
  EXPECT_EQ(listed["Versions"].Size(), 2u);
  listed = Ok("ListSecretVersionIds", Obj({{"SecretId", Quote("s")}, {"IncludeDeprecated", "true"}}));
  ASSERT_EQ(listed["Versions"].Size(), 3u);
  EXPECT_EQ(listed["Versions"][0]["VersionId"].GetString(), Token(3));  // newest first
  EXPECT_FALSE(listed["Versions"][2].HasMember("VersionStages"));
  EXPECT_STREQ(listed["Name"].GetString(), "s");
}

TEST_F(SecretsServiceTest, PutIsIdempotentPerToken) {
  Create("s", "v1");
  ASSERT_TRUE(Put("s", "v2", Token(2)).ok());
  ASSERT_TRUE(Put("s", "v3", Token(3)).ok());
  // Retrying the v2 put: a no-op, labels untouched.
  rapidjson::Document again;
  ASSERT_TRUE(Call("PutSecretValue", Obj({{"SecretId", Quote("s")}, {"SecretString", Quote("v2")},
                                          {"ClientRequestToken", Quote(Token(2))}}), &again).ok());
  EXPECT_EQ(again["VersionId"].GetString(), Token(2));
  EXPECT_STREQ(again["VersionStages"][0].GetString(), "AWSPREVIOUS");
  EXPECT_EQ(Value("s"), "v3");
  Status other = Put("s", "changed", Token(2));
  EXPECT_EQ(other.type(), "ResourceExistsException");
  EXPECT_NE(other.message().find(Token(2)), std::string::npos);
  // The same bytes as binary are other data.
  EXPECT_EQ(Call("PutSecretValue", Obj({{"SecretId", Quote("s")}, {"SecretBinary", Quote(Base64Encode(ToBytes("v2")))},
                                        {"ClientRequestToken", Quote(Token(2))}})).type(),
            "ResourceExistsException");
  EXPECT_EQ(Ok("ListSecretVersionIds", Obj({{"SecretId", Quote("s")}, {"IncludeDeprecated", "true"}}))["Versions"].Size(), 3u);
  EXPECT_EQ(Call("PutSecretValue", Obj({{"SecretId", Quote("s")}})).type(), "InvalidRequestException");
  EXPECT_EQ(Call("PutSecretValue", Obj({{"SecretId", Quote("s")}, {"SecretString", Quote("a")}, {"SecretBinary", Quote("YQ==")}})).type(),
            "InvalidParameterException");
  EXPECT_EQ(Put("missing", "x", Token(9)).type(), "ResourceNotFoundException");
}

TEST_F(SecretsServiceTest, PutWithCustomStagesLeavesAwsCurrentAlone) {
  Create("s", "v1", "\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(Put("s", "pending", Token(2), "\"VersionStages\":[\"AWSPENDING\"]").ok());
  EXPECT_EQ(Value("s"), "v1");
  EXPECT_EQ(Value("s", "\"VersionStage\":\"AWSPENDING\""), "pending");
  ASSERT_TRUE(Put("s", "labelled", Token(3), "\"VersionStages\":[\"Blue\",\"AWSPENDING\"]").ok());
  EXPECT_TRUE(Stages("s", Token(2)).empty());  // AWSPENDING moved away: deprecated
  EXPECT_EQ(Value("s", "\"VersionStage\":\"Blue\""), "labelled");
  EXPECT_EQ(Stages("s", Token(1)), std::vector<std::string>{"AWSCURRENT"});
}

TEST_F(SecretsServiceTest, GetSecretValueVersionSelection) {
  Create("s", "v1", "\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(Put("s", "v2", Token(2)).ok());
  EXPECT_EQ(Value("s", "\"VersionId\":" + Quote(Token(1)) + ",\"VersionStage\":\"AWSPREVIOUS\""), "v1");
  Status mismatch = Call("GetSecretValue", Obj({{"SecretId", Quote("s")}, {"VersionId", Quote(Token(1))},
                                                {"VersionStage", Quote("AWSCURRENT")}}));
  EXPECT_EQ(mismatch.type(), "InvalidRequestException");
  Status no_version = Call("GetSecretValue", Obj({{"SecretId", Quote("s")}, {"VersionId", Quote(Token(5))}}));
  EXPECT_EQ(no_version.type(), "ResourceNotFoundException");
  EXPECT_EQ(no_version.message(), "Secrets Manager can't find the specified secret value for VersionId: " + Token(5));
  Status no_stage = Call("GetSecretValue", Obj({{"SecretId", Quote("s")}, {"VersionStage", Quote("Nope")}}));
  EXPECT_EQ(no_stage.message(), "Secrets Manager can't find the specified secret value for staging label: Nope");
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("s")}, {"VersionId", Quote("short")}})).type(),
            "ValidationException");
}

TEST_F(SecretsServiceTest, UpdateSecretVersionStageFollowsAwsRules) {
  Create("s", "v1", "\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(Put("s", "v2", Token(2)).ok());
  ASSERT_TRUE(Put("s", "v3", Token(3), "\"VersionStages\":[\"Staged\"]").ok());
  auto move = [&](const std::string& label, const std::string& to, const std::string& from) {
    std::string json = "{\"SecretId\":\"s\",\"VersionStage\":" + Quote(label);
    if (!to.empty()) json += ",\"MoveToVersionId\":" + Quote(to);
    if (!from.empty()) json += ",\"RemoveFromVersionId\":" + Quote(from);
    return Call("UpdateSecretVersionStage", json + "}");
  };
  // AWSCURRENT is attached elsewhere: RemoveFromVersionId must name that version.
  Status st = move("AWSCURRENT", Token(1), "");
  EXPECT_EQ(st.type(), "InvalidParameterException");
  EXPECT_NE(st.message().find(Token(2)), std::string::npos);
  EXPECT_EQ(move("AWSCURRENT", Token(1), Token(3)).type(), "InvalidParameterException");
  // Roll back to v1: AWSPREVIOUS follows to v2.
  ASSERT_TRUE(move("AWSCURRENT", Token(1), Token(2)).ok());
  EXPECT_EQ(Stages("s", Token(1)), std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(Stages("s", Token(2)), std::vector<std::string>{"AWSPREVIOUS"});
  EXPECT_EQ(Value("s"), "v1");
  // AWSCURRENT can only be moved, never removed.
  EXPECT_EQ(move("AWSCURRENT", "", Token(1)).type(), "InvalidParameterException");
  // Custom labels: remove (the version becomes deprecated), attach where free.
  ASSERT_TRUE(move("Staged", "", Token(3)).ok());
  EXPECT_TRUE(Stages("s", Token(3)).empty());
  ASSERT_TRUE(move("Staged", Token(3), "").ok());
  EXPECT_EQ(move("Staged", Token(1), Token(2)).type(), "InvalidParameterException");  // it's on v3, not v2
  EXPECT_EQ(move("Staged", Token(9), "").type(), "InvalidParameterException");
  EXPECT_EQ(move("Staged", "", "").type(), "InvalidParameterException");
  EXPECT_EQ(move("Other", "", Token(1)).type(), "InvalidParameterException");
  // A label is on one version only.
  ASSERT_TRUE(move("Staged", Token(1), Token(3)).ok());
  EXPECT_TRUE(Stages("s", Token(3)).empty());
  // At most 20 distinct labels across the secret.
  for (int i = 0; i < 17; ++i) ASSERT_TRUE(move("L" + std::to_string(i), Token(2), "").ok()) << i;
  EXPECT_EQ(move("OneTooMany", Token(2), "").type(), "LimitExceededException");
  EXPECT_EQ(Call("UpdateSecretVersionStage", "{\"SecretId\":\"nope\",\"VersionStage\":\"X\",\"MoveToVersionId\":" +
                                                 Quote(Token(1)) + "}").type(),
            "ResourceNotFoundException");
}

TEST_F(SecretsServiceTest, DeprecatedVersionsArePrunedAt100ButNeverWithin24Hours) {
  Create("busy", "v0", "\"ClientRequestToken\":" + Quote(Token(0)));
  for (int i = 1; i < 100; ++i) ASSERT_TRUE(Put("busy", "v" + std::to_string(i), Token(i)).ok()) << i;
  // 100 versions, all younger than 24 hours: no room for another.
  Status full = Put("busy", "v100", Token(100));
  EXPECT_EQ(full.type(), "LimitExceededException") << full.ToString();
  clock_.Advance(25 * kHour);
  ASSERT_TRUE(Put("busy", "v100", Token(100)).ok());
  rapidjson::Document all = Ok("ListSecretVersionIds", Obj({{"SecretId", Quote("busy")}, {"IncludeDeprecated", "true"}}));
  std::set<std::string> ids;
  for (const auto& v : all["Versions"].GetArray()) ids.insert(v["VersionId"].GetString());
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_FALSE(ids.count(Token(0)));  // the oldest deprecated version went
  EXPECT_TRUE(ids.count(Token(1)));
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("busy")}, {"VersionId", Quote(Token(0))}})).type(),
            "ResourceNotFoundException");
  auto read = storage_->BeginRead();
  auto row = (*read)->Get(storage::tables::kSecretVersions, VersionRowKey(kAccount, "busy", Token(0)));
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->has_value());  // its sealed value is gone too
  // Labeled versions are never pruned.
  EXPECT_TRUE(ids.count(Token(99)));
  EXPECT_EQ(Value("busy"), "v100");
  // ListSecretVersionIds pages through all of them.
  std::set<std::string> paged;
  std::string next;
  for (int page = 0; page < 10; ++page) {
    std::string json = "{\"SecretId\":\"busy\",\"IncludeDeprecated\":true,\"MaxResults\":30" +
                       (next.empty() ? std::string() : ",\"NextToken\":" + Quote(next)) + "}";
    rapidjson::Document d = Ok("ListSecretVersionIds", json);
    for (const auto& v : d["Versions"].GetArray()) paged.insert(v["VersionId"].GetString());
    if (!d.HasMember("NextToken")) break;
    next = d["NextToken"].GetString();
  }
  EXPECT_EQ(paged, ids);
}

// ---- UpdateSecret ---------------------------------------------------------------------------

TEST_F(SecretsServiceTest, UpdateSecretChangesMetadataAndValue) {
  Create("u", "v1", "\"Description\":\"old\",\"ClientRequestToken\":" + Quote(Token(1)));
  rapidjson::Document meta = Ok("UpdateSecret", Obj({{"SecretId", Quote("u")}, {"Description", Quote("new")}}));
  EXPECT_FALSE(meta.HasMember("VersionId"));
  EXPECT_STREQ(Describe("u")["Description"].GetString(), "new");
  rapidjson::Document value = Ok("UpdateSecret", Obj({{"SecretId", Quote("u")}, {"SecretString", Quote("v2")},
                                                      {"ClientRequestToken", Quote(Token(2))}}));
  EXPECT_EQ(value["VersionId"].GetString(), Token(2));
  EXPECT_EQ(Value("u"), "v2");
  EXPECT_EQ(Stages("u", Token(1)), std::vector<std::string>{"AWSPREVIOUS"});
  EXPECT_EQ(Call("UpdateSecret", Obj({{"SecretId", Quote("u")}, {"SecretString", Quote("other")},
                                      {"ClientRequestToken", Quote(Token(2))}})).type(),
            "ResourceExistsException");
  EXPECT_EQ(Call("UpdateSecret", Obj({{"SecretId", Quote("nope")}, {"Description", Quote("x")}})).type(),
            "ResourceNotFoundException");
}

TEST_F(SecretsServiceTest, ChangingTheKmsKeyReencryptsLabeledVersions) {
  const std::string old_key = CreateKmsKey(), new_key = CreateKmsKey();
  Create("k", "v1", "\"KmsKeyId\":" + Quote(old_key) + ",\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(Put("k", "v2", Token(2)).ok());
  ASSERT_TRUE(Put("k", "v3", Token(3)).ok());  // v1 is now deprecated
  Ok("UpdateSecret", Obj({{"SecretId", Quote("k")}, {"KmsKeyId", Quote(new_key)}}));
  EXPECT_EQ(Describe("k")["KmsKeyId"].GetString(), new_key);
  ASSERT_TRUE(CallKms("DisableKey", Obj({{"KeyId", Quote(old_key)}})).ok());
  EXPECT_EQ(Value("k"), "v3");
  EXPECT_EQ(Value("k", "\"VersionStage\":\"AWSPREVIOUS\""), "v2");
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("k")}, {"VersionId", Quote(Token(1))}})).type(),
            "DecryptionFailure");  // deprecated versions keep their old key
  // Switching to a disabled key is refused and changes nothing.
  EXPECT_EQ(Call("UpdateSecret", Obj({{"SecretId", Quote("k")}, {"KmsKeyId", Quote(old_key)}})).type(), "EncryptionFailure");
  EXPECT_EQ(Describe("k")["KmsKeyId"].GetString(), new_key);
  // An empty KmsKeyId returns to the aws/secretsmanager key.
  Ok("UpdateSecret", Obj({{"SecretId", Quote("k")}, {"KmsKeyId", Quote("")}}));
  EXPECT_FALSE(Describe("k").HasMember("KmsKeyId"));
  ASSERT_TRUE(CallKms("DisableKey", Obj({{"KeyId", Quote(new_key)}})).ok());
  EXPECT_EQ(Value("k"), "v3");
}

// ---- DescribeSecret / ListSecrets -----------------------------------------------------------

TEST_F(SecretsServiceTest, DescribeReportsMetadataOnly) {
  const int64_t created = clock_.NowMillis();
  Create("d", "v", "\"Description\":\"desc\",\"Tags\":[{\"Key\":\"env\",\"Value\":\"prod\"}],\"ClientRequestToken\":" +
                       Quote(Token(1)));
  rapidjson::Document d = Describe("d");
  EXPECT_STREQ(d["Name"].GetString(), "d");
  EXPECT_STREQ(d["Description"].GetString(), "desc");
  EXPECT_STREQ(d["Tags"][0]["Key"].GetString(), "env");
  EXPECT_STREQ(d["Tags"][0]["Value"].GetString(), "prod");
  EXPECT_DOUBLE_EQ(d["CreatedDate"].GetDouble(), created / 1000.0);
  EXPECT_DOUBLE_EQ(d["LastChangedDate"].GetDouble(), created / 1000.0);
  EXPECT_STREQ(d["VersionIdsToStages"][Token(1).c_str()][0].GetString(), "AWSCURRENT");
  for (const char* absent : {"LastAccessedDate", "DeletedDate", "RotationEnabled", "SecretString", "KmsKeyId"})
    EXPECT_FALSE(d.HasMember(absent)) << absent;
  clock_.Advance(3 * kHour);
  Value("d");
  d = Describe("d");
  ASSERT_TRUE(d.HasMember("LastAccessedDate"));
  const int64_t day = clock_.NowMillis() - clock_.NowMillis() % kDay;
  EXPECT_DOUBLE_EQ(d["LastAccessedDate"].GetDouble(), day / 1000.0);
}

TEST_F(SecretsServiceTest, ListSecretsFiltersSortsAndPages) {
  Create("app/db-password", "1", "\"Description\":\"Database password for the billing app\","
                                 "\"Tags\":[{\"Key\":\"env\",\"Value\":\"prod\"}]");
  clock_.Advance(1000);
  Create("app/api-key", "2", "\"Tags\":[{\"Key\":\"env\",\"Value\":\"dev\"},{\"Key\":\"team\",\"Value\":\"payments\"}]");
  clock_.Advance(1000);
  Create("other/token", "3", "\"Description\":\"CI token\"");
  auto names = [&](const std::string& json) {
    std::vector<std::string> out;
    rapidjson::Document d = Ok("ListSecrets", json);
    for (const auto& s : d["SecretList"].GetArray()) out.emplace_back(s["Name"].GetString());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("{}"), (V{"other/token", "app/api-key", "app/db-password"}));  // newest first
  EXPECT_EQ(names("{\"SortOrder\":\"asc\"}"), (V{"app/db-password", "app/api-key", "other/token"}));
  EXPECT_EQ(names("{\"SortBy\":\"name\",\"SortOrder\":\"asc\"}"), (V{"app/api-key", "app/db-password", "other/token"}));
  EXPECT_EQ(names(R"({"Filters":[{"Key":"name","Values":["app/"]}],"SortBy":"name","SortOrder":"asc"})"),
            (V{"app/api-key", "app/db-password"}));
  EXPECT_EQ(names(R"({"Filters":[{"Key":"name","Values":["App/"]}]})"), V{});  // name match is case-sensitive
  EXPECT_EQ(names(R"({"Filters":[{"Key":"tag-key","Values":["team"]}]})"), V{"app/api-key"});
  EXPECT_EQ(names(R"({"Filters":[{"Key":"tag-value","Values":["pro"]}]})"), V{"app/db-password"});
  EXPECT_EQ(names(R"({"Filters":[{"Key":"description","Values":["billing"]}]})"), V{"app/db-password"});
  EXPECT_EQ(names(R"({"Filters":[{"Key":"all","Values":["PAYMENTS"]}]})"), V{"app/api-key"});
  EXPECT_EQ(names(R"({"Filters":[{"Key":"name","Values":["!app"]}]})"), V{"other/token"});
  EXPECT_EQ(names(R"({"Filters":[{"Key":"name","Values":["app"]},{"Key":"tag-value","Values":["dev"]}]})"),
            V{"app/api-key"});
  EXPECT_EQ(names(R"({"Filters":[{"Key":"primary-region","Values":["us"]}]})"), V{});
  EXPECT_EQ(Call("ListSecrets", R"({"Filters":[{"Key":"color","Values":["x"]}]})").type(), "ValidationException");
  EXPECT_EQ(Call("ListSecrets", R"({"Filters":[{"Key":"name","Values":[]}]})").type(), "InvalidParameterException");
  EXPECT_EQ(Call("ListSecrets", R"({"Filters":[{"Key":"name","Values":["bad|char"]}]})").type(), "InvalidParameterException");

  rapidjson::Document page1 = Ok("ListSecrets", "{\"MaxResults\":2}");
  ASSERT_EQ(page1["SecretList"].Size(), 2u);
  ASSERT_TRUE(page1.HasMember("NextToken"));
  rapidjson::Document page2 = Ok("ListSecrets", Obj({{"MaxResults", "2"}, {"NextToken", Quote(page1["NextToken"].GetString())}}));
  ASSERT_EQ(page2["SecretList"].Size(), 1u);
  EXPECT_FALSE(page2.HasMember("NextToken"));
  EXPECT_STREQ(page2["SecretList"][0]["Name"].GetString(), "app/db-password");
  EXPECT_TRUE(page2["SecretList"][0].HasMember("SecretVersionsToStages"));
  EXPECT_EQ(Call("ListSecrets", "{\"NextToken\":\"garbage\"}").type(), "InvalidNextTokenException");
  EXPECT_EQ(Call("ListSecrets", "{\"MaxResults\":101}").type(), "ValidationException");
}

// ---- deletion and restore -------------------------------------------------------------------

TEST_F(SecretsServiceTest, DeletedSecretIsUnreadableUntilRestoredAcrossRestarts) {
  Create("del", "keep-me");
  rapidjson::Document deleted = Ok("DeleteSecret", Obj({{"SecretId", Quote("del")}}));
  EXPECT_DOUBLE_EQ(deleted["DeletionDate"].GetDouble(), (clock_.NowMillis() + 30 * kDay) / 1000.0);
  Status read = Call("GetSecretValue", Obj({{"SecretId", Quote("del")}}));
  EXPECT_EQ(read.type(), "InvalidRequestException");
  EXPECT_EQ(read.message(), "You can't perform this operation on the secret because it was marked for deletion.");
  EXPECT_TRUE(Describe("del").HasMember("DeletedDate"));
  EXPECT_EQ(Ok("ListSecrets", "{}")["SecretList"].Size(), 0u);
  EXPECT_EQ(Ok("ListSecrets", "{\"IncludePlannedDeletion\":true}")["SecretList"].Size(), 1u);
  EXPECT_EQ(Put("del", "x", Token(5)).type(), "InvalidRequestException");
  EXPECT_EQ(Call("UpdateSecret", Obj({{"SecretId", Quote("del")}, {"Description", Quote("x")}})).type(), "InvalidRequestException");
  EXPECT_EQ(Call("TagResource", R"({"SecretId":"del","Tags":[{"Key":"a","Value":"b"}]})").type(), "InvalidRequestException");
  EXPECT_EQ(Call("DeleteSecret", Obj({{"SecretId", Quote("del")}})).type(), "InvalidRequestException");
  Status recreate = Call("CreateSecret", Obj({{"Name", Quote("del")}, {"SecretString", Quote("new")}}));
  EXPECT_EQ(recreate.type(), "InvalidRequestException");
  EXPECT_EQ(recreate.message(), "You can't create this secret because a secret with this name is already scheduled for deletion.");

  Reopen();
  clock_.Advance(10 * kDay);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("del")}})).type(), "InvalidRequestException");
  Ok("RestoreSecret", Obj({{"SecretId", Quote("del")}}));
  Reopen();
  EXPECT_EQ(Value("del"), "keep-me");
  EXPECT_FALSE(Describe("del").HasMember("DeletedDate"));
  Ok("RestoreSecret", Obj({{"SecretId", Quote("del")}}));  // restoring a live secret is fine
}

TEST_F(SecretsServiceTest, RecoveryWindowEndsWithTheSecretDestroyedAcrossRestart) {
  const std::string arn = Create("gone", "v");
  ASSERT_TRUE(Put("gone", "v2", Token(2)).ok());
  Ok("DeleteSecret", Obj({{"SecretId", Quote("gone")}, {"RecoveryWindowInDays", "7"}}));
  Reopen();
  clock_.Advance(7 * kDay - 1);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  clock_.Advance(1);
  EXPECT_EQ(*service_->RunDueMaintenance(), 1);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  Reopen();
  EXPECT_EQ(Call("DescribeSecret", Obj({{"SecretId", Quote("gone")}})).type(), "ResourceNotFoundException");
  auto read = storage_->BeginRead();
  auto rows = (*read)->Scan(storage::tables::kSecretVersions, "");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  read->reset();
  // The name is free again; the new secret has a new ARN, and the old ARN does not reach it.
  const std::string new_arn = Create("gone", "fresh");
  EXPECT_NE(new_arn, arn);
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote(arn)}})).type(), "ResourceNotFoundException");
  EXPECT_EQ(Value(new_arn), "fresh");
}

TEST_F(SecretsServiceTest, DeleteSecretParametersAndForcedDeletion) {
  Create("f", "v");
  EXPECT_EQ(Call("DeleteSecret", Obj({{"SecretId", Quote("f")}, {"RecoveryWindowInDays", "6"}})).type(), "InvalidParameterException");
  EXPECT_EQ(Call("DeleteSecret", Obj({{"SecretId", Quote("f")}, {"RecoveryWindowInDays", "31"}})).type(), "InvalidParameterException");
  EXPECT_EQ(Call("DeleteSecret", Obj({{"SecretId", Quote("f")}, {"RecoveryWindowInDays", "7"},
                                      {"ForceDeleteWithoutRecovery", "true"}})).type(),
            "InvalidParameterException");
  rapidjson::Document forced = Ok("DeleteSecret", Obj({{"SecretId", Quote("f")}, {"ForceDeleteWithoutRecovery", "true"}}));
  EXPECT_DOUBLE_EQ(forced["DeletionDate"].GetDouble(), clock_.NowMillis() / 1000.0);
  EXPECT_EQ(Call("DescribeSecret", Obj({{"SecretId", Quote("f")}})).type(), "ResourceNotFoundException");
  // Forcing the deletion of a secret that does not exist is not an error.
  rapidjson::Document nothing = Ok("DeleteSecret", Obj({{"SecretId", Quote("never")}, {"ForceDeleteWithoutRecovery", "true"}}));
  EXPECT_STREQ(nothing["Name"].GetString(), "never");
  EXPECT_EQ(Call("DeleteSecret", Obj({{"SecretId", Quote("never")}})).type(), "ResourceNotFoundException");
  // A secret pending deletion can still be forced out.
  Create("g", "v");
  Ok("DeleteSecret", Obj({{"SecretId", Quote("g")}}));
  Ok("DeleteSecret", Obj({{"SecretId", Quote("g")}, {"ForceDeleteWithoutRecovery", "true"}}));
  EXPECT_TRUE(Call("CreateSecret", Obj({{"Name", Quote("g")}})).ok());
}

// ---- tags and policies ----------------------------------------------------------------------

TEST_F(SecretsServiceTest, TagAndUntag) {
  Create("t", "v", "\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"}]");
  Ok("TagResource", R"({"SecretId":"t","Tags":[{"Key":"b","Value":"2"},{"Key":"a","Value":"3"}]})");
  rapidjson::Document d = Describe("t");
  ASSERT_EQ(d["Tags"].Size(), 2u);
  EXPECT_STREQ(d["Tags"][0]["Value"].GetString(), "3");
  EXPECT_STREQ(d["Tags"][1]["Key"].GetString(), "b");
  Ok("UntagResource", R"({"SecretId":"t","TagKeys":["a","not-there"]})");
  d = Describe("t");
  ASSERT_EQ(d["Tags"].Size(), 1u);
  EXPECT_STREQ(d["Tags"][0]["Key"].GetString(), "b");
  EXPECT_EQ(Call("TagResource", R"({"SecretId":"t"})").type(), "ValidationException");
  EXPECT_EQ(Call("TagResource", R"({"SecretId":"t","Tags":[{"Key":"aws:reserved","Value":"x"}]})").type(),
            "InvalidParameterException");
  EXPECT_EQ(Call("TagResource", R"({"SecretId":"t","Tags":[{"Key":"","Value":"x"}]})").type(), "ValidationException");
  std::string many = "[";
  for (int i = 0; i < 50; ++i) many += (i ? "," : "") + std::string("{\"Key\":\"k") + std::to_string(i) + "\",\"Value\":\"v\"}";
  EXPECT_EQ(Call("TagResource", "{\"SecretId\":\"t\",\"Tags\":" + many + "]}").type(), "InvalidParameterException");
  EXPECT_EQ(Call("UntagResource", R"({"SecretId":"t"})").type(), "ValidationException");
  EXPECT_EQ(Call("TagResource", R"({"SecretId":"nope","Tags":[]})").type(), "ResourceNotFoundException");
}

TEST_F(SecretsServiceTest, ResourcePolicies) {
  const std::string arn = Create("p", "v");
  const std::string scoped =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]})";
  const std::string open =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]})";
  const std::string open_with_condition =
      R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}})";

  rapidjson::Document got = Ok("GetResourcePolicy", Obj({{"SecretId", Quote("p")}}));
  EXPECT_FALSE(got.HasMember("ResourcePolicy"));
  rapidjson::Document put = Ok("PutResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(scoped)},
                                                         {"BlockPublicPolicy", "true"}}));
  EXPECT_EQ(put["ARN"].GetString(), arn);
  EXPECT_EQ(Ok("GetResourcePolicy", Obj({{"SecretId", Quote("p")}}))["ResourcePolicy"].GetString(), scoped);

  Status blocked = Call("PutResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(open)},
                                                  {"BlockPublicPolicy", "true"}}));
  EXPECT_EQ(blocked.type(), "PublicPolicyException");
  EXPECT_EQ(Ok("GetResourcePolicy", Obj({{"SecretId", Quote("p")}}))["ResourcePolicy"].GetString(), scoped);
  EXPECT_TRUE(Call("PutResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(open_with_condition)},
                                             {"BlockPublicPolicy", "true"}})).ok());
  EXPECT_TRUE(Call("PutResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(open)}})).ok());

  for (const std::string& bad : {std::string("not json"), std::string("[]"), std::string(R"({"Statement":[]})"),
                                std::string(R"({"Statement":[{"Effect":"Allow","Action":"s:x","Resource":"*"}]})"),
                                std::string(R"({"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s:x","Resource":"*"}]})"),
                                std::string(R"({"Statement":[{"Effect":"Allow","Principal":"someone","Action":"s:x","Resource":"*"}]})"),
                                std::string(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"nocolon","Resource":"*"}]})"),
                                std::string(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x"}]})"),
                                std::string(R"({"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*"}]})"),
                                std::string(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*","Extra":1}]})")}) {
    Status st = Call("PutResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(bad)}}));
    EXPECT_EQ(st.type(), "MalformedPolicyDocumentException") << bad;
  }

  rapidjson::Document valid = Ok("ValidateResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(scoped)}}));
  EXPECT_TRUE(valid["PolicyValidationPassed"].GetBool());
  EXPECT_EQ(valid["ValidationErrors"].Size(), 0u);
  rapidjson::Document broad = Ok("ValidateResourcePolicy", Obj({{"ResourcePolicy", Quote(open)}}));
  EXPECT_FALSE(broad["PolicyValidationPassed"].GetBool());
  ASSERT_EQ(broad["ValidationErrors"].Size(), 1u);
  EXPECT_TRUE(broad["ValidationErrors"][0].HasMember("ErrorMessage"));
  EXPECT_EQ(Call("ValidateResourcePolicy", Obj({{"ResourcePolicy", Quote("{")}})).type(), "MalformedPolicyDocumentException");
  EXPECT_EQ(Call("ValidateResourcePolicy", Obj({{"SecretId", Quote("nope")}, {"ResourcePolicy", Quote(scoped)}})).type(),
            "ResourceNotFoundException");

  Ok("DeleteResourcePolicy", Obj({{"SecretId", Quote("p")}}));
  EXPECT_FALSE(Ok("GetResourcePolicy", Obj({{"SecretId", Quote("p")}})).HasMember("ResourcePolicy"));
  EXPECT_EQ(Call("PutResourcePolicy", Obj({{"SecretId", Quote("p")}, {"ResourcePolicy", Quote(std::string(20481, ' '))}})).type(),
            "ValidationException");
}

// ---- GetRandomPassword, BatchGetSecretValue, dispatch ---------------------------------------

TEST_F(SecretsServiceTest, GetRandomPasswordHonoursItsOptions) {
  rapidjson::Document d = Ok("GetRandomPassword", "{}");
  EXPECT_EQ(std::string(d["RandomPassword"].GetString()).size(), 32u);
  d = Ok("GetRandomPassword", R"({"PasswordLength":64,"ExcludePunctuation":true,"ExcludeUppercase":true,"ExcludeCharacters":"abc"})");
  std::string p = d["RandomPassword"].GetString();
  EXPECT_EQ(p.size(), 64u);
  for (char c : p) EXPECT_TRUE((c >= 'd' && c <= 'z') || (c >= '0' && c <= '9')) << c;
  EXPECT_EQ(Call("GetRandomPassword", R"({"PasswordLength":0})").type(), "ValidationException");
  EXPECT_EQ(Call("GetRandomPassword", R"({"PasswordLength":4097})").type(), "ValidationException");
  EXPECT_EQ(Call("GetRandomPassword", R"({"PasswordLength":3})").type(), "InvalidParameterException");
  EXPECT_EQ(Call("GetRandomPassword",
                 R"({"ExcludeNumbers":true,"ExcludePunctuation":true,"ExcludeUppercase":true,"ExcludeLowercase":true})")
                .type(),
            "InvalidParameterException");
}

TEST_F(SecretsServiceTest, BatchGetSecretValueByIdsAndByFilters) {
  Create("batch/a", "A");
  Create("batch/b", "B");
  Create("batch/gone", "G");
  Ok("DeleteSecret", Obj({{"SecretId", Quote("batch/gone")}}));
  rapidjson::Document d = Ok("BatchGetSecretValue", R"({"SecretIdList":["batch/a","batch/b","batch/missing","batch/gone"]})");
  ASSERT_EQ(d["SecretValues"].Size(), 2u);
  EXPECT_STREQ(d["SecretValues"][0]["SecretString"].GetString(), "A");
  EXPECT_STREQ(d["SecretValues"][1]["SecretString"].GetString(), "B");
  ASSERT_EQ(d["Errors"].Size(), 2u);
  EXPECT_STREQ(d["Errors"][0]["SecretId"].GetString(), "batch/missing");
  EXPECT_STREQ(d["Errors"][0]["ErrorCode"].GetString(), "ResourceNotFoundException");
  EXPECT_STREQ(d["Errors"][1]["ErrorCode"].GetString(), "InvalidRequestException");

  std::set<std::string> values;
  std::string next;
  for (int i = 0; i < 5; ++i) {
    std::string json = R"({"Filters":[{"Key":"name","Values":["batch/"]}],"MaxResults":1)" +
                       (next.empty() ? std::string() : ",\"NextToken\":" + Quote(next)) + "}";
    rapidjson::Document page = Ok("BatchGetSecretValue", json);
    for (const auto& v : page["SecretValues"].GetArray()) values.insert(v["SecretString"].GetString());
    if (!page.HasMember("NextToken")) break;
    next = page["NextToken"].GetString();
  }
  EXPECT_EQ(values, (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(Call("BatchGetSecretValue", "{}").type(), "InvalidParameterException");
  EXPECT_EQ(Call("BatchGetSecretValue", R"({"SecretIdList":["a"],"Filters":[{"Key":"name","Values":["a"]}]})").type(),
            "InvalidParameterException");
  EXPECT_EQ(Call("BatchGetSecretValue", R"({"SecretIdList":["a"],"MaxResults":2})").type(), "InvalidParameterException");
  std::string ids = "[";
  for (int i = 0; i < 21; ++i) ids += (i ? ",\"x" : "\"x") + std::to_string(i) + "\"";
  EXPECT_EQ(Call("BatchGetSecretValue", "{\"SecretIdList\":" + ids + "]}").type(), "ValidationException");
}

TEST_F(SecretsServiceTest, DispatchAndWireTypeErrors) {
  EXPECT_TRUE(SecretsService::Knows("GetSecretValue"));
  EXPECT_TRUE(SecretsService::Knows("RotateSecret"));
  EXPECT_FALSE(SecretsService::Knows("Encrypt"));
  EXPECT_TRUE(SecretsService::Knows("ReplicateSecretToRegions"));
  EXPECT_EQ(Call("Encrypt", "{}").type(), "UnknownOperationException");
  EXPECT_EQ(Call("GetSecretValue", R"({"SecretId":5})").type(), "SerializationException");
  EXPECT_EQ(Call("GetSecretValue", "{}").type(), "ValidationException");
  EXPECT_EQ(Call("CreateSecret", R"({"Name":"x","SecretBinary":"not base64!"})").type(), "SerializationException");
}

}  // namespace
}  // namespace meridian::secrets
