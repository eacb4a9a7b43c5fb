// Test fixture for the Secrets Manager service: a real SQLite storage in a temporary directory,
// a real root key and KMS service, a ManualClock, and helpers to call operations with JSON.
// Tests only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "kms/kms.h"
#include "secrets/secrets.h"
#include "storage/storage.h"

namespace meridian::secrets::testing {

constexpr int64_t kDay = 86400LL * 1000;
constexpr int64_t kHour = 3600LL * 1000;
constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "us-east-1";

// A JSON string literal for `s` (quoted and escaped).
inline std::string Quote(std::string_view s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return sb.GetString();
}

// {"k1": v1, ...} from members whose values are already JSON.
inline std::string Obj(std::initializer_list<std::pair<std::string_view, std::string>> members) {
  std::string out = "{";
  for (const auto& [k, v] : members) {
    if (out.size() > 1) out += ",";
    out += Quote(k) + ":" + v;
  }
  return out + "}";
}

// A 32+ character ClientRequestToken derived from `n`.
inline std::string Token(int n) {
  std::string digits = std::to_string(n);
  return "token-" + std::string(32 - digits.size(), '0') + digits;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class SecretsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("secrets-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    service_.reset();
    kms_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Simulates a restart: new storage, KMS and Secrets Manager objects over the same files.
  void Reopen() {
    service_.reset();
    kms_.reset();
    storage_.reset();
    auto s = storage::OpenSqlite(db_path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(*s);
    kms_ = std::make_unique<kms::KmsService>(kms::KmsOptions::SingleRegion(kRegion, kAccount), *storage_, root_, clock_);
    SecretsOptions options;
    options.region = kRegion;
    options.rotators = rotators_;
    options.rotation_events = rotation_events_;
    service_ = std::make_unique<SecretsService>(options, *storage_, *kms_, clock_);
  }

  std::string db_path() const { return (dir_ / "region.db").string(); }

  // Calls a Secrets Manager operation; fills `response` on success.
  Status Call(std::string_view op, const std::string& json, rapidjson::Document* response = nullptr) {
    return Invoke(op, json, response, /*kms=*/false);
  }
  Status CallKms(std::string_view op, const std::string& json, rapidjson::Document* response = nullptr) {
    return Invoke(op, json, response, /*kms=*/true);
  }
  // Like Call, but the operation must succeed; returns the response.
  rapidjson::Document Ok(std::string_view op, const std::string& json) {
    rapidjson::Document d;
    Status st = Call(op, json, &d);
    EXPECT_TRUE(st.ok()) << op << " " << json << ": " << st.ToString();
    return d;
  }

  // Creates a string secret; returns its ARN.
  std::string Create(const std::string& name, const std::string& value, const std::string& extra_members = "") {
    std::string json = "{\"Name\":" + Quote(name) + ",\"SecretString\":" + Quote(value) +
                       (extra_members.empty() ? "" : "," + extra_members) + "}";
    rapidjson::Document d = Ok("CreateSecret", json);
    return d.IsObject() && d.HasMember("ARN") ? d["ARN"].GetString() : "";
  }
  // GetSecretValue's SecretString ("" and a failed expectation when the call fails).
  std::string Value(const std::string& secret_id, const std::string& extra_members = "") {
    rapidjson::Document d = Ok("GetSecretValue", "{\"SecretId\":" + Quote(secret_id) +
                                                     (extra_members.empty() ? "" : "," + extra_members) + "}");
    return d.IsObject() && d.HasMember("SecretString") ? d["SecretString"].GetString() : "";
  }
  Status Put(const std::string& secret_id, const std::string& value, const std::string& token,
             const std::string& extra_members = "") {
    return Call("PutSecretValue", "{\"SecretId\":" + Quote(secret_id) + ",\"SecretString\":" + Quote(value) +
                                      ",\"ClientRequestToken\":" + Quote(token) +
                                      (extra_members.empty() ? "" : "," + extra_members) + "}");
  }
  rapidjson::Document Describe(const std::string& secret_id) {
    return Ok("DescribeSecret", "{\"SecretId\":" + Quote(secret_id) + "}");
  }
  // The staging labels of `version_id` per DescribeSecret (empty when deprecated or absent).
  std::vector<std::string> Stages(const std::string& secret_id, const std::string& version_id) {
    rapidjson::Document d = Describe(secret_id);
    std::vector<std::string> out;
    if (!d.IsObject() || !d.HasMember("VersionIdsToStages")) return out;
    const auto& map = d["VersionIdsToStages"];
    auto it = map.FindMember(version_id.c_str());
    if (it == map.MemberEnd()) return out;
    for (const auto& s : it->value.GetArray()) out.emplace_back(s.GetString());
    return out;
  }
  std::string CreateKmsKey() {
    rapidjson::Document d;
    Status st = CallKms("CreateKey", "{}", &d);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() ? d["KeyMetadata"]["Arn"].GetString() : "";
  }

  std::filesystem::path dir_;
  crypto::RootKey root_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  ManualClock clock_{1'700'000'000'000};
  Caller caller_{kAccount, std::string("arn:aws:iam::") + kAccount + ":root", "AKIDEXAMPLE"};
  RotatorResolver rotators_;
  std::function<void(const RotationEvent&)> rotation_events_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<kms::KmsService> kms_;
  std::unique_ptr<SecretsService> service_;

 private:
  Status Invoke(std::string_view op, const std::string& json, rapidjson::Document* response, bool kms) {
    auto req = ParseJsonObject(json);
    if (!req.ok()) return req.status();
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    Status st = kms ? kms_->Handle(op, *req, caller_, w) : service_->Handle(op, *req, caller_, w);
    if (st.ok() && response) response->Parse(sb.GetString(), sb.GetSize());
    return st;
  }
};

}  // namespace meridian::secrets::testing
