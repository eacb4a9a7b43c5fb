// Grants and kms:ViaService decided by the real authorizer (iam::PolicyAuthorizer over a real
// iam::Directory): an IAM user whose identity policies and the key policy do not allow it is
// allowed by a grant whose constraint holds, an explicit deny still wins; Meridian's own
// in-process calls (KmsService::GenerateDataKeyFor / DecryptFor) carry kms:ViaService and are
// authorized exactly like direct calls otherwise.
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "iam/directory.h"
#include "kms/grant_test_fixture.h"

namespace meridian::kms {
namespace {

class GrantAuthorizationTest : public testing::GrantFixture {
 protected:
  KmsOptions Options() override {
    credentials_ = std::make_unique<iam::CredentialStore>(*storage_, root_);
    EXPECT_TRUE(credentials_->EnsureAccount(kAccount).ok());
    directory_ = std::make_unique<iam::Directory>(*storage_, root_, *credentials_, clock_);
    authorizer_ = std::make_unique<iam::PolicyAuthorizer>(directory_.get());
    KmsOptions o = KmsOptions::SingleRegion(kRegion, kAccount);
    o.authorizer = authorizer_.get();
    return o;
  }
  void TearDown() override {
    service_.reset();
    authorizer_.reset();
    directory_.reset();
    credentials_.reset();
    GrantFixture::TearDown();
  }
  // An IAM user with an access key and no policies.
  Caller NewUser(const std::string& name) {
    auto user = directory_->CreateUser(kAccount, name, "/", {}, "");
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    auto key = directory_->CreateAccessKey(kAccount, name);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return Caller{kAccount, user->arn, key->metadata.access_key_id};
  }
  // What the request pipeline does for a direct call (src/server/request_pipeline.cpp): the
  // resource KmsService names, then the authorizer.
  Status Direct(const Caller& caller, std::string_view op, const std::string& json, std::string* decided_by = nullptr) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    iam::AuthorizationRequest a;
    a.principal_arn = caller.principal_arn;
    a.principal_account = caller.account_id;
    a.access_key_id = caller.access_key_id;
    a.action = "kms:" + std::string(op);
    a.region = kRegion;
    a.secure_transport = true;
    a.now_ms = clock_.NowMillis();
    if (auto r = service_->ResourceFor(op, *req, caller)) {
      a.resource_arn = r->arn;
      a.resource_account = r->account_id;
      a.resource_policy = r->policy;
      a.resource_policy_kind = r->policy_kind;
      a.context = r->context;
      a.allowing_grant_id = r->allowing_grant_id;
    }
    iam::AuthorizationResult result;
    Status st = authorizer_->Authorize(a, &result);
    if (decided_by) *decided_by = result.policy;
    if (!st.ok()) return st;
    return CallAs(caller, op, json);
  }
  std::string PolicyWith(const std::string& statement) {
    return "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\","
           "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}" +
           (statement.empty() ? "" : "," + statement) + "]}";
  }
  void PutPolicy(const std::string& key, const std::string& policy) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.String(policy);
    Status st = Call("PutKeyPolicy", "{\"KeyId\":\"" + key + "\",\"PolicyName\":\"default\",\"Policy\":" +
                                         std::string(sb.GetString()) + "}");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  std::string EncryptAsRoot(const std::string& key, const std::string& ctx) {
    rapidjson::Document r;
    Status st = Call("Encrypt", "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"eA==\",\"EncryptionContext\":" + ctx + "}", &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? r["CiphertextBlob"].GetString() : "";
  }

  std::unique_ptr<iam::CredentialStore> credentials_;
  std::unique_ptr<iam::Directory> directory_;
  std::unique_ptr<iam::PolicyAuthorizer> authorizer_;
};

TEST_F(GrantAuthorizationTest, AGrantAllowsWhatThePoliciesDoNotAndAnExplicitDenyStillWins) {
  const Caller alice = NewUser("alice");
  const std::string key = CreateKey();  // default policy: the account root, i.e. IAM policies decide
  const std::string acme = EncryptAsRoot(key, "{\"tenant\":\"acme\"}");
  const std::string zeta = EncryptAsRoot(key, "{\"tenant\":\"zeta\"}");
  auto decrypt = [&](const std::string& blob, const std::string& ctx) {
    return "{\"CiphertextBlob\":\"" + blob + "\",\"EncryptionContext\":" + ctx + "}";
  };
  // alice has no IAM policy: implicitly denied.
  EXPECT_EQ(Direct(alice, "Decrypt", decrypt(acme, "{\"tenant\":\"acme\"}")).type(), "AccessDeniedException");

  auto [id, token] = CreateGrant(key, alice.principal_arn, "[\"Decrypt\"]",
                                 ",\"Constraints\":{\"EncryptionContextSubset\":{\"tenant\":\"acme\"}}");
  std::string decided_by;
  Status st = Direct(alice, "Decrypt", decrypt(acme, "{\"tenant\":\"acme\"}"), &decided_by);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(decided_by, "grant:" + id);
  // The constraint does not hold for another tenant; the grant has no Encrypt.
  EXPECT_EQ(Direct(alice, "Decrypt", decrypt(zeta, "{\"tenant\":\"zeta\"}")).type(), "AccessDeniedException");
  EXPECT_EQ(Direct(alice, "Encrypt", "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"eA==\",\"EncryptionContext\":"
                                    "{\"tenant\":\"acme\"}}").type(),
            "AccessDeniedException");
  // Another user is not the grantee.
  const Caller bob = NewUser("bob");
  EXPECT_EQ(Direct(bob, "Decrypt", decrypt(acme, "{\"tenant\":\"acme\"}")).type(), "AccessDeniedException");

  // An explicit deny in the key policy wins over the grant.
  PutPolicy(key, PolicyWith("{\"Sid\":\"NoAlice\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"" + alice.principal_arn +
                            "\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}"));
  EXPECT_EQ(Direct(alice, "Decrypt", decrypt(acme, "{\"tenant\":\"acme\"}")).type(), "AccessDeniedException");

  // Retired, the grant allows nothing: alice retires it herself? No: it lacks RetireGrant and
  // she is not its retiring principal; the account (root) can.
  EXPECT_EQ(Direct(alice, "RetireGrant", "{\"GrantToken\":\"" + token + "\"}").type(), "AccessDeniedException");
  EXPECT_TRUE(Direct(caller_, "RetireGrant", "{\"GrantToken\":\"" + token + "\"}").ok());
}

TEST_F(GrantAuthorizationTest, GrantsToCreateGrantsOnlyDelegateNarrowerGrants) {
  const Caller alice = NewUser("alice");
  const Caller bob = NewUser("bob");
  const std::string key = CreateKey();
  CreateGrant(key, alice.principal_arn, "[\"CreateGrant\",\"Decrypt\",\"Encrypt\"]",
              ",\"Constraints\":{\"EncryptionContextSubset\":{\"tenant\":\"acme\"}}");
  auto child = [&](const std::string& ops, const std::string& constraints) {
    return Direct(alice, "CreateGrant", "{\"KeyId\":\"" + key + "\",\"GranteePrincipal\":\"" + bob.principal_arn +
                                            "\",\"Operations\":" + ops + constraints + "}");
  };
  EXPECT_TRUE(child("[\"Decrypt\"]", ",\"Constraints\":{\"EncryptionContextSubset\":{\"tenant\":\"acme\",\"x\":\"1\"}}").ok());
  EXPECT_TRUE(child("[\"Decrypt\"]", ",\"Constraints\":{\"EncryptionContextEquals\":{\"tenant\":\"acme\"}}").ok());
  EXPECT_EQ(child("[\"Decrypt\"]", "").type(), "AccessDeniedException");  // drops the constraint
  EXPECT_EQ(child("[\"GenerateDataKey\"]", ",\"Constraints\":{\"EncryptionContextSubset\":{\"tenant\":\"acme\"}}").type(),
            "AccessDeniedException");  // an operation the parent lacks
}

TEST_F(GrantAuthorizationTest, AGrantToARoleAppliesToItsSessions) {
  const std::string key = CreateKey();
  CreateGrant(key, "arn:aws:iam::111122223333:role/batch/Worker", "[\"GenerateDataKey\"]");
  const Caller session{kAccount, "arn:aws:sts::111122223333:assumed-role/Worker/job-1", "ASIANOSUCHKEY"};
  auto r = ResourceFor("GenerateDataKey", "{\"KeyId\":\"" + key + "\",\"KeySpec\":\"AES_256\"}", session);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->allowing_grant_id.empty());
}

// KMS Developer Guide, kms:ViaService: "limits use of an KMS key to requests from specified AWS
// services". A key policy that denies kms:Decrypt unless the request comes through Secrets
// Manager in this region refuses a direct Decrypt and admits Secrets Manager's in-process call.
TEST_F(GrantAuthorizationTest, ViaServiceDistinguishesInternalFromDirectCalls) {
  const std::string key = CreateKey();
  PutPolicy(key, PolicyWith("{\"Sid\":\"OnlyThroughSecretsManager\",\"Effect\":\"Deny\",\"Principal\":\"*\","
                            "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":"
                            "{\"kms:ViaService\":\"secretsmanager.us-east-1.amazonaws.com\"}}}"));
  const KmsService::Context ctx = {{"SecretARN", "arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf"}};
  auto data_key = service_->GenerateDataKeyFor(caller_, key, ctx);
  ASSERT_TRUE(data_key.ok()) << data_key.status().ToString();
  auto plaintext = service_->DecryptFor(caller_, data_key->ciphertext_blob, ctx);
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_TRUE(crypto::ConstantTimeEquals(plaintext->view(), data_key->plaintext.view()));
  Status direct = Direct(caller_, "Decrypt", "{\"CiphertextBlob\":\"" + Base64Encode(data_key->ciphertext_blob) +
                                                 "\",\"EncryptionContext\":{\"SecretARN\":\"" + ctx[0].second + "\"}}");
  EXPECT_EQ(direct.type(), "AccessDeniedException");
  EXPECT_NE(direct.message().find("explicit deny"), std::string::npos) << direct.message();
  // The reverse: a policy that denies use through Secrets Manager stops the internal call.
  PutPolicy(key, PolicyWith("{\"Sid\":\"NotThroughSecretsManager\",\"Effect\":\"Deny\",\"Principal\":\"*\","
                            "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":"
                            "{\"kms:ViaService\":\"secretsmanager.us-east-1.amazonaws.com\"}}}"));
  EXPECT_EQ(service_->DecryptFor(caller_, data_key->ciphertext_blob, ctx).status().type(), "AccessDeniedException");
}

// The AWS managed key for Secrets Manager (KMS Developer Guide, "How AWS Secrets Manager uses
// AWS KMS", key policy "auto-secretsmanager-2"): every principal of the account may use it
// through Secrets Manager (kms:CallerAccount + kms:ViaService), nobody directly.
TEST_F(GrantAuthorizationTest, AwsManagedKeyIsUsableOnlyThroughTheService) {
  const Caller alice = NewUser("alice");  // no IAM policy at all
  auto arn = service_->EnsureAwsManagedKey(alice, "alias/aws/secretsmanager", "Default key");
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  rapidjson::Document policy;
  ASSERT_TRUE(Call("GetKeyPolicy", "{\"KeyId\":\"" + *arn + "\"}", &policy).ok());
  const std::string text = policy["Policy"].GetString();
  EXPECT_NE(text.find("secretsmanager.us-east-1.amazonaws.com"), std::string::npos);
  EXPECT_NE(text.find("auto-secretsmanager-2"), std::string::npos);

  const KmsService::Context ctx = {{"SecretVersionId", "v1"}};
  auto data_key = service_->GenerateDataKeyFor(alice, "alias/aws/secretsmanager", ctx);
  ASSERT_TRUE(data_key.ok()) << data_key.status().ToString();
  auto opened = service_->DecryptFor(alice, data_key->ciphertext_blob, ctx);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  // Directly, neither alice nor the account root may use it for cryptography.
  const std::string decrypt = "{\"CiphertextBlob\":\"" + Base64Encode(data_key->ciphertext_blob) +
                              "\",\"EncryptionContext\":{\"SecretVersionId\":\"v1\"}}";
  EXPECT_EQ(Direct(alice, "Decrypt", decrypt).type(), "AccessDeniedException");
  EXPECT_EQ(Direct(caller_, "Decrypt", decrypt).type(), "AccessDeniedException");
  // The account may still describe it ("Allow direct access to key metadata to the account").
  EXPECT_TRUE(Direct(caller_, "DescribeKey", "{\"KeyId\":\"" + *arn + "\"}").ok());
}

TEST_F(GrantAuthorizationTest, InternalCallsNeedThePermissionsADirectCallNeeds) {
  const Caller alice = NewUser("alice");
  const std::string key = CreateKey();  // default policy: IAM policies decide; alice has none
  const KmsService::Context ctx = {{"SecretARN", "s"}};
  EXPECT_EQ(service_->GenerateDataKeyFor(alice, key, ctx).status().type(), "AccessDeniedException");
  auto blob = service_->GenerateDataKeyFor(caller_, key, ctx);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(service_->DecryptFor(alice, blob->ciphertext_blob, ctx).status().type(), "AccessDeniedException");
  // A grant (with its constraint) is honoured for internal calls as well.
  CreateGrant(key, alice.principal_arn, "[\"GenerateDataKey\",\"Decrypt\"]",
              ",\"Constraints\":{\"EncryptionContextEquals\":{\"SecretARN\":\"s\"}}");
  EXPECT_TRUE(service_->GenerateDataKeyFor(alice, key, ctx).ok());
  EXPECT_TRUE(service_->DecryptFor(alice, blob->ciphertext_blob, ctx).ok());
  EXPECT_EQ(service_->GenerateDataKeyFor(alice, key, {{"SecretARN", "other"}}).status().type(), "AccessDeniedException");
}

}  // namespace
}  // namespace meridian::kms
