// MeridianAdmin.AnalyzeBlastRadius with the real services in process: SQLite storage, the IAM
// directory, the identity-aware PolicyAuthorizer, KMS keys with real key policies and secrets with
// real resource policies. Every verdict comes from the evaluator that guards requests.
#include "server/blast_radius.h"

#include <map>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>

#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "iam/credential_store.h"
#include "server/admin_service.h"
#include "storage/storage.h"

namespace meridian::server {
namespace {

constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";

std::string RootArn() { return std::string("arn:aws:iam::") + kAccount + ":root"; }

class BlastRadiusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("blast-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage_ = std::move(*storage::OpenSqlite((dir_ / "m.db").string()));
    credentials_ = std::make_unique<iam::CredentialStore>(*storage_, root_key_);
    ASSERT_TRUE(credentials_->EnsureAccount(kAccount).ok());
    directory_ = std::make_unique<iam::Directory>(*storage_, root_key_, *credentials_);
    authorizer_ = std::make_unique<iam::PolicyAuthorizer>(directory_.get());
    kms_ = std::make_unique<kms::KmsService>(kms::KmsOptions::SingleRegion(kRegion, kAccount), *storage_, root_key_);
    secrets::SecretsOptions so;
    so.region = kRegion;
    secrets_ = std::make_unique<secrets::SecretsService>(so, *storage_, *kms_);
    AdminServiceOptions ao;
    ao.region = kRegion;
    ao.account_id = kAccount;
    ao.blast_radius = BlastRadiusSources{kRegion, "aws", authorizer_.get(), directory_.get(), kms_.get(), secrets_.get()};
    admin_ = std::make_unique<AdminService>(std::move(ao));
  }
  void TearDown() override {
    admin_.reset();
    secrets_.reset();
    kms_.reset();
    authorizer_.reset();
    directory_.reset();
    credentials_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs `operation` of `service` as the account root; returns the parsed answer.
  template <typename Service>
  rapidjson::Document CallAsRoot(Service& service, const char* operation, const std::string& body) {
    rapidjson::Document request;
    request.Parse(body.c_str());
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = service.Handle(operation, request, Caller{kAccount, RootArn(), ""}, w);
    EXPECT_TRUE(st.ok()) << operation << ": " << st.ToString();
    rapidjson::Document d;
    d.Parse(sb.GetString(), sb.GetSize());
    return d;
  }

  std::string CreateKey(const std::string& policy) {
    rapidjson::Document body(rapidjson::kObjectType);
    body.AddMember("Policy", rapidjson::Value(policy.c_str(), body.GetAllocator()), body.GetAllocator());
    body.AddMember("BypassPolicyLockoutSafetyCheck", true, body.GetAllocator());
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> tw(text);
    body.Accept(tw);
    auto d = CallAsRoot(*kms_, "CreateKey", text.GetString());
    return d["KeyMetadata"]["Arn"].GetString();
  }

  // A user with an access key and the given inline identity policy; returns the key id.
  std::string UserWithPolicy(const std::string& name, const std::string& policy) {
    EXPECT_TRUE(directory_->CreateUser(kAccount, name, "/", {}, "").ok());
    EXPECT_TRUE(directory_->PutInlinePolicy(iam::EntityKind::kUser, kAccount, name, "p", policy).ok());
    auto key = directory_->CreateAccessKey(kAccount, name);
    EXPECT_TRUE(key.ok());
    return key.ok() ? key->metadata.access_key_id : "";
  }

  Result<rapidjson::Document> Analyze(const std::string& body, const Caller& caller = Caller{kAccount, RootArn(), ""}) {
    rapidjson::Document request;
    request.Parse(body.c_str());
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    MERIDIAN_RETURN_IF_ERROR(admin_->Handle("AnalyzeBlastRadius", request, caller, w));
    rapidjson::Document d;
    d.Parse(sb.GetString(), sb.GetSize());
    return d;
  }

  // The allowed actions the answer lists for `arn` (empty when the resource is not listed).
  static std::vector<std::string> Allowed(const rapidjson::Document& d, const std::string& arn,
                                          const char* list = "Allowed") {
    std::vector<std::string> out;
    for (const auto& r : d["Resources"].GetArray())
      if (arn == r["ResourceArn"].GetString())
        for (const auto& a : r[list].GetArray()) out.emplace_back(a.GetString());
    return out;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  std::string DefaultKeyPolicy() {
    return std::string(R"({"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM","Effect":"Allow",)") +
           R"("Principal":{"AWS":")" + RootArn() + R"("},"Action":"kms:*","Resource":"*"}]})";
  }

  std::filesystem::path dir_;
  crypto::RootKey root_key_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<iam::CredentialStore> credentials_;
  std::unique_ptr<iam::Directory> directory_;
  std::unique_ptr<iam::PolicyAuthorizer> authorizer_;
  std::unique_ptr<kms::KmsService> kms_;
  std::unique_ptr<secrets::SecretsService> secrets_;
  std::unique_ptr<AdminService> admin_;
};

TEST_F(BlastRadiusTest, OverBroadUserReachesEveryKeyButExplicitDenyRemovesOne) {
  const std::string open_key = CreateKey(DefaultKeyPolicy());
  const std::string fenced_key = CreateKey(std::string(R"({"Version":"2012-10-17","Statement":[)") +
                                           R"({"Sid":"Enable IAM","Effect":"Allow","Principal":{"AWS":")" + RootArn() +
                                           R"("},"Action":"kms:*","Resource":"*"},)" +
                                           R"({"Sid":"NoBroad","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::)" +
                                           kAccount + R"(:user/broad"},"Action":"kms:*","Resource":"*"}]})");
  const std::string key_id = UserWithPolicy(
      "broad", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]})");

  auto d = Analyze(R"({"AccessKeyId":")" + key_id + R"("})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(std::string((*d)["Region"].GetString()), kRegion);
  EXPECT_EQ(std::string((*d)["PrincipalArn"].GetString()), std::string("arn:aws:iam::") + kAccount + ":user/broad");
  const auto open = Allowed(*d, open_key);
  EXPECT_TRUE(Has(open, "kms:Decrypt"));
  EXPECT_TRUE(Has(open, "kms:ScheduleKeyDeletion"));
  EXPECT_TRUE(Has(open, "kms:PutKeyPolicy"));
  EXPECT_TRUE(Allowed(*d, fenced_key).empty());
  EXPECT_TRUE(Has(Allowed(*d, fenced_key, "ExplicitlyDenied"), "kms:Decrypt"));
  const auto account = Allowed(*d, "*");
  EXPECT_TRUE(Has(account, "kms:CreateKey"));
  EXPECT_FALSE(Has(account, "iam:CreateUser"));  // kms:* only
}

TEST_F(BlastRadiusTest, LeastPrivilegeUserIsLimitedToOneKeyInItsRegion) {
  const std::string key_a = CreateKey(DefaultKeyPolicy());
  const std::string key_b = CreateKey(DefaultKeyPolicy());
  const std::string policy = std::string(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)") +
                             R"("Action":["kms:Decrypt","kms:Encrypt"],"Resource":")" + key_a +
                             R"(","Condition":{"StringEquals":{"aws:RequestedRegion":")" + kRegion + R"("}}}]})";
  const std::string key_id = UserWithPolicy("narrow", policy);

  auto d = Analyze(R"({"PrincipalArn":"arn:aws:iam::)" + std::string(kAccount) + R"(:user/narrow"})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(std::string((*d)["AccessKeyId"].GetString()), key_id);
  EXPECT_EQ(Allowed(*d, key_a), (std::vector<std::string>{"kms:Encrypt", "kms:Decrypt"}));
  EXPECT_TRUE(Allowed(*d, key_b).empty());
  EXPECT_TRUE(Allowed(*d, "*").empty());

  // The same identity evaluated in another region is refused by its aws:RequestedRegion condition.
  BlastRadiusSources elsewhere{"ap-south-1", "aws", authorizer_.get(), directory_.get(), kms_.get(), secrets_.get()};
  rapidjson::Document request;
  request.Parse((R"({"AccessKeyId":")" + key_id + R"("})").c_str());
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  ASSERT_TRUE(AnalyzeBlastRadius(elsewhere, request, Caller{kAccount, RootArn(), ""}, w).ok());
  rapidjson::Document other;
  other.Parse(sb.GetString(), sb.GetSize());
  EXPECT_TRUE(Allowed(other, key_a).empty());
}

// A statement whose Allow depends on request keys the analysis cannot know (aws:SourceIp,
// kms:EncryptionContext:*) is reported as Conditional with those keys, not as allowed or denied;
// a Deny conditioned on such keys does not hide an unconditional Allow's action, and a Deny that
// applies regardless stays ExplicitlyDenied.
TEST_F(BlastRadiusTest, AllowsThatDependOnRequestKeysAreConditional) {
  const std::string key = CreateKey(DefaultKeyPolicy());
  const std::string policy = std::string(R"({"Version":"2012-10-17","Statement":[)") +
      R"({"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},)" +
      R"({"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:app":"web","aws:RequestedRegion":")" +
      kRegion + R"("}}},)" +
      R"({"Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"},)" +
      R"({"Effect":"Allow","Action":"kms:Sign","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-north-1"}}},)" +
      R"({"Effect":"Deny","Action":"kms:GenerateDataKey","Resource":"*"},)" +
      R"({"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]})";
  const std::string key_id = UserWithPolicy("cond", policy);
  auto d = Analyze(R"({"AccessKeyId":")" + key_id + R"("})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  std::map<std::string, std::vector<std::string>> conditional;
  for (const auto& r : (*d)["Resources"].GetArray())
    if (key == r["ResourceArn"].GetString())
      for (const auto& c : r["Conditional"].GetArray()) {
        auto& keys = conditional[c["Action"].GetString()];
        for (const auto& k : c["ConditionKeys"].GetArray()) keys.emplace_back(k.GetString());
      }
  EXPECT_EQ(conditional["kms:Decrypt"], std::vector<std::string>{"aws:sourceip"});
  EXPECT_EQ(conditional["kms:Encrypt"], std::vector<std::string>{"kms:encryptioncontext:app"});
  EXPECT_EQ(conditional.count("kms:DescribeKey"), 0u);
  EXPECT_EQ(conditional.count("kms:GenerateDataKey"), 0u);  // the unconditional Deny wins anyway
  EXPECT_EQ(conditional.count("kms:ReEncryptFrom"), 0u);
  EXPECT_EQ(Allowed(*d, key), std::vector<std::string>{"kms:DescribeKey"});
  EXPECT_TRUE(Has(Allowed(*d, key, "ExplicitlyDenied"), "kms:GenerateDataKey"));
  EXPECT_FALSE(Has(Allowed(*d, key, "ExplicitlyDenied"), "kms:Decrypt"));
}

TEST_F(BlastRadiusTest, SecretResourcePolicyAndAccountRoot) {
  auto created = CallAsRoot(*secrets_, "CreateSecret", R"({"Name":"db","SecretString":"s3cr3t"})");
  const std::string secret_arn = created["ARN"].GetString();
  CallAsRoot(*secrets_, "PutResourcePolicy",
             R"({"SecretId":"db","ResourcePolicy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",)"
             R"(\"Principal\":\"*\",\"Action\":\"secretsmanager:DeleteSecret\",\"Resource\":\"*\"}]}"})");
  const std::string key_id = UserWithPolicy(
      "reader", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]})");

  auto d = Analyze(R"({"AccessKeyId":")" + key_id + R"("})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto allowed = Allowed(*d, secret_arn);
  EXPECT_TRUE(Has(allowed, "secretsmanager:GetSecretValue"));
  EXPECT_FALSE(Has(allowed, "secretsmanager:DeleteSecret"));
  EXPECT_TRUE(Has(Allowed(*d, secret_arn, "ExplicitlyDenied"), "secretsmanager:DeleteSecret"));

  auto root = Analyze(R"({"PrincipalArn":")" + RootArn() + R"("})");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_TRUE(Has(Allowed(*root, "*"), "iam:CreateUser"));
  EXPECT_TRUE(Has(Allowed(*root, secret_arn), "secretsmanager:GetSecretValue"));
}

TEST_F(BlastRadiusTest, RejectsBadTargets) {
  EXPECT_EQ(Analyze("{}").status().type(), "InvalidParameterException");
  EXPECT_EQ(Analyze(R"({"AccessKeyId":"AKIAUNKNOWNUNKNOWN00"})").status().type(), "InvalidParameterException");
  EXPECT_EQ(Analyze(R"({"PrincipalArn":"arn:aws:iam::111122223333:role/r"})").status().type(),
            "InvalidParameterException");
  // Principals of another account are not the caller's to analyze.
  EXPECT_EQ(Analyze(R"({"PrincipalArn":"arn:aws:iam::444455556666:root"})").status().type(), "AccessDeniedException");
}

}  // namespace
}  // namespace meridian::server
