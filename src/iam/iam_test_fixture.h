// Shared by the IAM tests: a real SQLite store in a temporary directory, a random root key, a
// manual clock, the CredentialStore, Directory, services and authorizer over them, and helpers
// that call the services with Query-shaped JSON (scalars as strings) and parse the answers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/caller.h"
#include "common/clock.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "iam/directory.h"
#include "iam/iam_service.h"
#include "storage/storage.h"

namespace meridian::iam::testing {

inline constexpr const char* kAccount = "111122223333";
inline constexpr const char* kOtherAccount = "444455556666";
inline constexpr int64_t kT0 = 1'800'000'000;  // 2027-01-15T08:00:00Z

class IamFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("iam-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage_ = std::move(*storage::OpenSqlite((dir_ / "iam.db").string()));
    credentials_ = std::make_unique<CredentialStore>(*storage_, root_key_);
    directory_ = std::make_unique<Directory>(*storage_, root_key_, *credentials_, clock_);
    iam_ = std::make_unique<IamService>(*directory_);
    sts_ = std::make_unique<StsService>(*directory_);
    authorizer_ = std::make_unique<PolicyAuthorizer>(directory_.get());
    ASSERT_TRUE(credentials_->EnsureAccount(kAccount).ok());
    ASSERT_TRUE(credentials_->EnsureAccount(kOtherAccount).ok());
    auto root_key = credentials_->CreateAccessKey(kAccount, std::string("arn:aws:iam::") + kAccount + ":root");
    ASSERT_TRUE(root_key.ok());
    root_ = Caller{kAccount, std::string("arn:aws:iam::") + kAccount + ":root", (*root_key)->access_key_id};
  }
  void TearDown() override {
    authorizer_.reset();
    sts_.reset();
    iam_.reset();
    directory_.reset();
    credentials_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs an IAM (or STS) operation; `request` is JSON. Returns the status and fills `response`.
  Status Iam(std::string_view op, const std::string& request, rapidjson::Document* response = nullptr,
             const Caller* caller = nullptr) {
    return Run(true, op, request, response, caller);
  }
  Status Sts(std::string_view op, const std::string& request, rapidjson::Document* response = nullptr,
             const Caller* caller = nullptr) {
    return Run(false, op, request, response, caller);
  }

  // A user with one access key; returns the Caller for that key and its secret.
  Caller MakeUser(const std::string& name, const std::string& path = "/") {
    EXPECT_TRUE(directory_->CreateUser(kAccount, name, path, {}, "").ok());
    auto key = directory_->CreateAccessKey(kAccount, name);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return Caller{kAccount, "arn:aws:iam::" + std::string(kAccount) + ":user" + path + name,
                  key.ok() ? key->metadata.access_key_id : ""};
  }

  // The authorizer's decision for `caller` doing `action` on `resource` (no resource policy
  // unless given).
  Status Authorize(const Caller& caller, const std::string& action, const std::string& resource = "",
                   AuthorizationResult* result = nullptr, policy::PolicyPtr resource_policy = nullptr,
                   const std::string& resource_account = "",
                   policy::ResourcePolicyKind kind = policy::ResourcePolicyKind::kResourceBased) {
    AuthorizationRequest r;
    r.principal_arn = caller.principal_arn;
    r.principal_account = caller.account_id;
    r.access_key_id = caller.access_key_id;
    r.action = action;
    r.region = "us-east-1";
    r.source_ip = "10.0.0.1";
    r.secure_transport = true;
    r.now_ms = clock_.NowMillis();
    r.resource_arn = resource;
    r.resource_account = resource_account;
    r.resource_policy = std::move(resource_policy);
    r.resource_policy_kind = kind;
    return authorizer_->Authorize(r, result);
  }

  bool Allowed(const Caller& c, const std::string& action,
               const std::string& resource = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab") {
    return Authorize(c, action, resource).ok();
  }

  // The AssumeRole request as the pipeline runs it: authorize against the trust policy (via
  // ResourceFor), then Handle.
  Status AssumeRoleAsPipeline(const Caller& caller, const std::string& request, rapidjson::Document* response) {
    rapidjson::Document doc;
    doc.Parse(request.c_str());
    auto resource = sts_->ResourceFor("AssumeRole", doc, caller);
    AuthorizationRequest r;
    r.principal_arn = caller.principal_arn;
    r.principal_account = caller.account_id;
    r.access_key_id = caller.access_key_id;
    r.action = "sts:AssumeRole";
    r.region = "us-east-1";
    r.now_ms = clock_.NowMillis();
    if (!resource) {
      MERIDIAN_RETURN_IF_ERROR(authorizer_->Authorize(r));
      return Sts("AssumeRole", request, response, &caller);
    }
    // As the request pipeline does: the resource, then each also_required one with its action.
    std::vector<AuthorizationResource> all{*resource};
    for (const auto& more : resource->also_required) all.push_back(more);
    for (const auto& res : all) {
      r.action = res.action.empty() ? "sts:AssumeRole" : res.action;
      r.resource_arn = res.arn;
      r.resource_account = res.account_id;
      r.resource_policy = res.policy;
      r.resource_policy_kind = res.policy_kind;
      r.context = res.context;
      MERIDIAN_RETURN_IF_ERROR(authorizer_->Authorize(r));
    }
    return Sts("AssumeRole", request, response, &caller);
  }

  static Caller SessionCaller(const rapidjson::Document& assume_role_response) {
    const auto& creds = assume_role_response["Credentials"];
    std::string arn = assume_role_response.HasMember("AssumedRoleUser")
                          ? assume_role_response["AssumedRoleUser"]["Arn"].GetString()
                          : "";
    return Caller{kAccount, arn, creds["AccessKeyId"].GetString()};
  }

  ManualClock clock_{kT0 * 1000};
  crypto::RootKey root_key_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<IamService> iam_;
  std::unique_ptr<StsService> sts_;
  std::unique_ptr<PolicyAuthorizer> authorizer_;
  Caller root_;

 private:
  Status Run(bool iam, std::string_view op, const std::string& request, rapidjson::Document* response,
             const Caller* caller) {
    rapidjson::Document doc;
    doc.Parse(request.c_str());
    EXPECT_FALSE(doc.HasParseError()) << request;
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    const Caller& who = caller ? *caller : root_;
    Status st = iam ? iam_->Handle(op, doc, who, w) : sts_->Handle(op, doc, who, w);
    if (st.ok() && response) {
      response->Parse(sb.GetString(), sb.GetSize());
      EXPECT_FALSE(response->HasParseError()) << sb.GetString();
    }
    return st;
  }
};

}  // namespace meridian::iam::testing
