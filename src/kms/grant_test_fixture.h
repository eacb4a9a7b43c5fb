// Test fixture for the grant tests: a real KmsService over a real SQLite store whose reads and
// writes are counted (CountingStorage forwards every call, so nothing is faked), with helpers
// to call operations as JSON.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "common/aws_json.h"
#include "crypto/crypto.h"
#include "kms/kms.h"
#include "storage/storage.h"

namespace meridian::kms::testing {

// Forwards to a real Storage and counts the transactions begun.
class CountingStorage final : public storage::Storage {
 public:
  explicit CountingStorage(std::unique_ptr<storage::Storage> inner) : inner_(std::move(inner)) {}
  Result<std::unique_ptr<storage::Transaction>> BeginRead() override {
    ++reads;
    return inner_->BeginRead();
  }
  Result<std::unique_ptr<storage::Transaction>> BeginWrite() override {
    ++writes;
    return inner_->BeginWrite();
  }
  int SchemaVersion() const override { return inner_->SchemaVersion(); }
  std::atomic<int> reads{0}, writes{0};

 private:
  std::unique_ptr<storage::Storage> inner_;
};

class GrantFixture : public ::testing::Test {
 protected:
  static constexpr char kAccount[] = "111122223333";
  static constexpr char kRegion[] = "us-east-1";

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("grants-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = storage::OpenSqlite((dir_ / "kms.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::make_unique<CountingStorage>(std::move(*s));
    service_ = std::make_unique<KmsService>(Options(), *storage_, root_, clock_);
  }
  void TearDown() override {
    service_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  virtual KmsOptions Options() { return KmsOptions::SingleRegion(kRegion, kAccount); }

  Status Call(std::string_view op, const std::string& json, rapidjson::Document* response = nullptr) {
    return CallAs(caller_, op, json, response);
  }
  Status CallAs(const Caller& caller, std::string_view op, const std::string& json,
                rapidjson::Document* response = nullptr) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = service_->Handle(op, *req, caller, w);
    if (st.ok() && response) response->Parse(sb.GetString());
    return st;
  }
  std::optional<iam::AuthorizationResource> ResourceFor(std::string_view op, const std::string& json,
                                                        const Caller& caller) {
    auto req = ParseJsonObject(json);
    EXPECT_TRUE(req.ok());
    return service_->ResourceFor(op, *req, caller);
  }
  std::string CreateKey(const std::string& json = "{}") {
    rapidjson::Document r;
    Status st = Call("CreateKey", json, &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? r["KeyMetadata"]["KeyId"].GetString() : "";
  }
  // CreateGrant; returns {GrantId, GrantToken} or fails the test.
  std::pair<std::string, std::string> CreateGrant(const std::string& key, const std::string& grantee,
                                                  const std::string& operations_json,
                                                  const std::string& extra = "") {
    rapidjson::Document r;
    Status st = Call("CreateGrant", "{\"KeyId\":\"" + key + "\",\"GranteePrincipal\":\"" + grantee +
                                        "\",\"Operations\":" + operations_json + extra + "}",
                     &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return {};
    return {r["GrantId"].GetString(), r["GrantToken"].GetString()};
  }

  std::filesystem::path dir_;
  crypto::RootKey root_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  ManualClock clock_{1'700'000'000'000};
  Caller caller_{kAccount, std::string("arn:aws:iam::") + kAccount + ":root", "AKIDROOT"};
  const std::string alice_ = std::string("arn:aws:iam::") + kAccount + ":user/alice";
  const std::string bob_ = std::string("arn:aws:iam::") + kAccount + ":user/bob";
  std::unique_ptr<CountingStorage> storage_;
  std::unique_ptr<KmsService> service_;
};

}  // namespace meridian::kms::testing
