// Test helpers for the audit component (tests only).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/record.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"

namespace meridian::audit::testing {

// A fresh directory per test under the system temp dir (ext4 here, so fsync is real).
class AuditDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("meridian-audit-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir() const { return (dir_ / "audit").string(); }
  std::string path(const std::string& name) const { return (dir_ / "audit" / name).string(); }

  AuditLogOptions Options() const {
    AuditLogOptions o;
    o.directory = dir();
    o.region = "us-east-1";
    return o;
  }
  std::unique_ptr<AuditLog> OpenLog(AuditLogOptions o) {
    auto log = AuditLog::Open(std::move(o), root_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::unique_ptr<AuditLog> OpenLog() { return OpenLog(Options()); }

  crypto::RootKey root_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::filesystem::path dir_;
};

inline AuditRecord SampleRecord(int i, const std::string& event = "Encrypt") {
  AuditRecord r;
  r.event_time_ms = 1714564800000 + static_cast<int64_t>(i) * 1000;  // 2024-05-01T12:00:00Z + i s
  r.event_source = std::string(kKmsEventSource);
  r.event_name = event;
  r.aws_region = "us-east-1";
  r.source_ip_address = "10.0.0." + std::to_string(i % 250);
  r.user_agent = "aws-cli/2.15";
  r.user_identity.type = "IAMUser";
  r.user_identity.principal_id = "AIDAEXAMPLE" + std::to_string(i % 3);
  r.user_identity.arn = "arn:aws:iam::111122223333:user/user" + std::to_string(i % 3);
  r.user_identity.account_id = "111122223333";
  r.user_identity.access_key_id = "AKIAEXAMPLE" + std::to_string(i % 3);
  r.request_parameters = "{\"keyId\":\"alias/app\",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}";
  r.resources.push_back({"arn:aws:kms:us-east-1:111122223333:key/1234abcd-" + std::to_string(i % 2), "AWS::KMS::Key",
                         "111122223333"});
  r.request_id = "req-" + std::to_string(i);
  r.read_only = true;
  r.recipient_account_id = "111122223333";
  r.authorization.decision = "Allow";
  r.authorization.matched_statement = "Enable IAM policies";
  r.authorization.policy = "key-policy";
  return r;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}
inline std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace meridian::audit::testing
