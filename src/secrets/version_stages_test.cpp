// The staging-label rules and version pruning on SecretRecord, without storage.
#include "secrets/version_stages.h"

#include <gtest/gtest.h>

namespace meridian::secrets {
namespace {

constexpr int64_t kHourMs = 3600LL * 1000;

SecretRecord WithVersions(int n, int64_t created_ms = 0) {
  SecretRecord s;
  s.name = "s";
  s.arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:s-abcdef";
  for (int i = 0; i < n; ++i) {
    SecretVersion v;
    v.id = "v" + std::to_string(i);
    v.created_ms = created_ms + i;
    v.has_value = true;
    s.versions.push_back(v);
  }
  return s;
}

std::vector<std::string> StagesOf(const SecretRecord& s, const std::string& id) { return s.FindVersion(id)->stages; }

TEST(VersionStages, MovingAwsCurrentMovesAwsPrevious) {
  SecretRecord s = WithVersions(3);
  AttachStage(s, "v0", stage::kCurrent);
  EXPECT_EQ(StagesOf(s, "v0"), std::vector<std::string>{"AWSCURRENT"});
  AttachStage(s, "v1", stage::kCurrent);
  EXPECT_EQ(StagesOf(s, "v0"), std::vector<std::string>{"AWSPREVIOUS"});
  EXPECT_EQ(StagesOf(s, "v1"), std::vector<std::string>{"AWSCURRENT"});
  AttachStage(s, "v2", stage::kCurrent);
  EXPECT_TRUE(StagesOf(s, "v0").empty());
  EXPECT_EQ(StagesOf(s, "v1"), std::vector<std::string>{"AWSPREVIOUS"});
  // Back to the previous version: AWSPREVIOUS leaves it and follows AWSCURRENT's old home.
  AttachStage(s, "v1", stage::kCurrent);
  EXPECT_EQ(StagesOf(s, "v1"), std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(StagesOf(s, "v2"), std::vector<std::string>{"AWSPREVIOUS"});
  // Attaching where it already is changes nothing.
  AttachStage(s, "v1", stage::kCurrent);
  EXPECT_EQ(StagesOf(s, "v2"), std::vector<std::string>{"AWSPREVIOUS"});
}

TEST(VersionStages, ALabelIsOnOneVersionOnly) {
  SecretRecord s = WithVersions(2);
  AttachStage(s, "v0", "Blue");
  AttachStage(s, "v1", "Blue");
  EXPECT_TRUE(StagesOf(s, "v0").empty());
  EXPECT_EQ(StagesOf(s, "v1"), std::vector<std::string>{"Blue"});
  DetachStage(s, "Blue");
  EXPECT_TRUE(StagesOf(s, "v1").empty());
  AttachStage(s, "nope", "Blue");  // unknown version: nothing happens
  EXPECT_EQ(s.VersionWithStage("Blue"), nullptr);
}

TEST(VersionStages, LabelQuotas) {
  SecretRecord s = WithVersions(2);
  for (int i = 0; i < 20; ++i) AttachStage(s, "v0", "L" + std::to_string(i));
  EXPECT_TRUE(CheckStageQuotas(s).ok());
  AttachStage(s, "v1", "L20");
  EXPECT_EQ(CheckStageQuotas(s).type(), "LimitExceededException");  // 21 labels on the secret
  DetachStage(s, "L20");
  s.FindVersion("v0")->stages.push_back("Extra");
  EXPECT_EQ(CheckStageQuotas(s).type(), "LimitExceededException");  // 21 on one version
}

TEST(VersionStages, PruningRemovesOnlyOldDeprecatedVersionsOldestFirst) {
  const int64_t now = 100 * kHourMs;
  SecretRecord s = WithVersions(static_cast<int>(kMaxVersions), /*created_ms=*/0);
  AttachStage(s, "v0", stage::kCurrent);  // labeled: kept however old
  auto removed = MakeRoomForVersion(s, now);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, std::vector<std::string>{"v1"});
  EXPECT_EQ(s.versions.size(), kMaxVersions - 1);
  EXPECT_NE(s.FindVersion("v0"), nullptr);
  // Under the limit: nothing to do.
  EXPECT_TRUE(MakeRoomForVersion(s, now)->empty());

  // Young deprecated versions are never removed.
  SecretRecord young = WithVersions(static_cast<int>(kMaxVersions), now - kDeprecatedVersionMinAgeMs + 1000);
  EXPECT_EQ(MakeRoomForVersion(young, now).status().type(), "LimitExceededException");
  EXPECT_EQ(young.versions.size(), kMaxVersions);
  young.versions[5].created_ms = now - kDeprecatedVersionMinAgeMs;  // exactly 24 hours old
  removed = MakeRoomForVersion(young, now);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, std::vector<std::string>{"v5"});
}

TEST(SecretRecordEncoding, RoundTripsAndRejectsCorruption) {
  SecretRecord s = WithVersions(2, 1234);
  s.account_id = "111122223333";
  s.description = "";
  s.kms_key_id = "alias/k";
  s.tags = {{"b", "2"}, {"a", "1"}};
  s.deletion_ms = 99;
  s.resource_policy = "{}";
  s.rotation.configured = true;
  s.rotation.rules.automatically_after_days = 3;
  s.rotation.rules.duration = "2h";
  AttachStage(s, "v1", stage::kCurrent);
  auto parsed = SecretRecord::Parse(s.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Serialize(), s.Serialize());
  ASSERT_TRUE(parsed->description.has_value());
  EXPECT_EQ(*parsed->description, "");
  EXPECT_EQ(parsed->tags, s.tags);  // order kept
  EXPECT_EQ(*parsed->rotation.rules.automatically_after_days, 3);
  for (const char* bad : {"", "[]", "{}", R"({"format":1,"name":"x","arn":"y"})",
                          R"({"format":1,"name":"x","arn":"y","versions":[{"id":5}]})",
                          R"({"format":2,"name":"x","arn":"y","versions":[]})"})
    EXPECT_EQ(SecretRecord::Parse(bad).status().type(), "InternalServiceError") << bad;
}

}  // namespace
}  // namespace meridian::secrets
