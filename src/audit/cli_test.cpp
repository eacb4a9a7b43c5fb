// The `meridian audit` commands, run as a real process (the meridian-audit binary).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <cstdio>

#include "audit/test_util.h"

namespace meridian::audit {
namespace {

struct CliRun {
  int exit_code;
  std::string out;
};

CliRun RunCli(const std::string& args) {
  std::string command = std::string(MERIDIAN_AUDIT_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class AuditCliTest : public testing::AuditDirTest {
 protected:
  void SetUp() override {
    AuditDirTest::SetUp();
    auto log = OpenLog();
    for (int i = 0; i < 12; ++i) {
      AuditRecord r = testing::SampleRecord(i, i % 3 == 0 ? "Decrypt" : "Encrypt");
      if (i == 4) r.error_code = "AccessDeniedException";
      ASSERT_TRUE(log->Append(r).ok());
    }
  }
};

TEST_F(AuditCliTest, VerifyIntactAndTampered) {
  CliRun ok = RunCli("audit verify --dir " + dir());
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("RESULT: INTACT"), std::string::npos) << ok.out;

  // Trusted key kept elsewhere, region and time range accepted.
  std::filesystem::copy_file(path("audit-public-key.pem"), dir_ / "trusted.pem");
  CliRun trusted = RunCli("audit verify --dir " + dir() + " --public-key " + (dir_ / "trusted.pem").string() +
                       " --region us-east-1 --from 2024-05-01 --to 2024-05-01T12:00:05Z --json");
  EXPECT_EQ(trusted.exit_code, 0) << trusted.out;
  rapidjson::Document d;
  d.Parse(trusted.out.c_str());
  ASSERT_FALSE(d.HasParseError()) << trusted.out;
  EXPECT_TRUE(d["intact"].GetBool());
  EXPECT_FALSE(d["publicKeyFromDirectory"].GetBool());
  EXPECT_EQ(d["records"].GetUint64(), 6u);

  auto lines = testing::Lines(testing::ReadFile(path("audit-000001.jsonl")));
  lines.erase(lines.begin() + 5);  // record 6
  testing::WriteFile(path("audit-000001.jsonl"), testing::JoinLines(lines));
  CliRun bad = RunCli("audit verify --dir " + dir());
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("TAMPERING DETECTED"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("record 6 was removed"), std::string::npos) << bad.out;
}

TEST_F(AuditCliTest, VerifyErrorsExitWithTwo) {
  EXPECT_EQ(RunCli("audit verify --dir " + dir() + "-missing").exit_code, 2);
  EXPECT_EQ(RunCli("audit verify --dir " + dir() + " --from yesterday").exit_code, 2);
}

TEST_F(AuditCliTest, TailAndSearch) {
  CliRun tail = RunCli("audit tail --dir " + dir() + " -n 3 --json");
  EXPECT_EQ(tail.exit_code, 0);
  auto lines = testing::Lines(tail.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("{\"sequence\":10,", 0), 0u) << lines[0];

  CliRun table = RunCli("audit tail --dir " + dir());
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("12 record(s)"), std::string::npos) << table.out;

  CliRun decrypts = RunCli("audit search --dir " + dir() + " --event Decrypt --json");
  EXPECT_EQ(testing::Lines(decrypts.out).size(), 4u) << decrypts.out;
  CliRun denied = RunCli("audit search --dir " + dir() + " --error AccessDeniedException --principal user1");
  EXPECT_NE(denied.out.find("1 record(s)"), std::string::npos) << denied.out;
  CliRun since = RunCli("audit search --dir " + dir() + " --since 2024-05-01T12:00:10Z --json");
  EXPECT_EQ(testing::Lines(since.out).size(), 2u) << since.out;
  CliRun recent = RunCli("audit search --dir " + dir() + " --since 1h --json");  // sample times are in 2024
  EXPECT_EQ(recent.exit_code, 0);
  EXPECT_TRUE(recent.out.empty()) << recent.out;
  CliRun key = RunCli("audit search --dir " + dir() + " --key 1234abcd-0 --json");
  EXPECT_EQ(testing::Lines(key.out).size(), 6u);
  EXPECT_NE(RunCli("audit search --dir " + dir() + " --since nonsense").exit_code, 0);
}

}  // namespace
}  // namespace meridian::audit
