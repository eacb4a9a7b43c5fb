// The pure half of key_strategies.h: names, ARNs and which keyring each strategy uses where
// (no KMS call; tests/e2e/test_global_db.py runs the strategies against two Meridian regions).
#include "drill/key_strategies.h"

#include <gtest/gtest.h>

#include "sdk/kms_keyring.h"
#include "sdk/multi_keyring.h"

namespace meridian::drill {
namespace {

constexpr char kMrkA[] = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd1234abcd1234abcd1234abcd";
constexpr char kMrkB[] = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd1234abcd1234abcd1234abcd";
constexpr char kKeyA[] = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr char kKeyB[] = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321";

TwoRegionKms Kms() {
  // Unreachable endpoints: building keyrings makes no call.
  return {"us-east-1", "http://127.0.0.1:1", "eu-west-1", "http://127.0.0.1:2",
          sigv4::Credentials::Make("AKIDEXAMPLE", "secret"), {}};
}

TEST(KeyStrategy, NamesAndNumbersParse) {
  for (KeyStrategy s : kAllKeyStrategies) {
    EXPECT_EQ(ParseKeyStrategy(KeyStrategyName(s)).value(), s);
    EXPECT_EQ(ParseKeyStrategy(std::to_string(static_cast<int>(s))).value(), s);
  }
  EXPECT_EQ(KeyStrategyName(KeyStrategy::kMultiRegionKey), "mrk");
  EXPECT_EQ(ParseKeyStrategy("aes").status().type(), "ValidationException");
  EXPECT_FALSE(ParseKeyStrategy("4").ok());
}

TEST(ArnInRegion, MovesAKeyArnToAnotherRegion) {
  EXPECT_EQ(ArnInRegion(kMrkA, "eu-west-1").value(), kMrkB);
  EXPECT_FALSE(ArnInRegion("mrk-1234", "eu-west-1").ok());
  EXPECT_FALSE(ArnInRegion("arn:aws:kms:us-east-1:111122223333:alias/x", "eu-west-1").ok());
  EXPECT_FALSE(ArnInRegion(kMrkA, "").ok());
}

TEST(StrategyKeyrings, MrkEncryptsStrictInADecryptsByDiscoveryInB) {
  auto k = StrategyKeyrings::Create({KeyStrategy::kMultiRegionKey, "111122223333", kMrkA, kMrkB}, Kms());
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_NE(dynamic_cast<const sdk::AwsKmsKeyring*>(k->EncryptInA().get()), nullptr);
  EXPECT_NE(dynamic_cast<const sdk::AwsKmsDiscoveryKeyring*>(k->DecryptInB().get()), nullptr);
  EXPECT_NE(dynamic_cast<const sdk::AwsKmsKeyring*>(k->EncryptInB().get()), nullptr);
  EXPECT_EQ(k->kms_a()->region(), "us-east-1");
  EXPECT_EQ(k->kms_b()->region(), "eu-west-1");
}

TEST(StrategyKeyrings, PerRegionKeysEncryptWithAMultiKeyringInA) {
  auto k = StrategyKeyrings::Create({KeyStrategy::kPerRegionMultiKeyring, "111122223333", kKeyA, kKeyB}, Kms());
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_NE(dynamic_cast<const sdk::MultiKeyring*>(k->EncryptInA().get()), nullptr);
  EXPECT_NE(dynamic_cast<const sdk::AwsKmsKeyring*>(k->DecryptInB().get()), nullptr);
  // Writes in B during A's outage cannot include A's key (its KMS is down).
  EXPECT_EQ(dynamic_cast<const sdk::MultiKeyring*>(k->EncryptInB().get()), nullptr);
}

TEST(StrategyKeyrings, RegionAOnlyHasNoMultiKeyringAndReadsThroughA) {
  auto k = StrategyKeyrings::Create({KeyStrategy::kRegionAOnlyReEncrypt, "111122223333", kKeyA, kKeyB}, Kms());
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(dynamic_cast<const sdk::MultiKeyring*>(k->EncryptInA().get()), nullptr);
  EXPECT_NE(k->DecryptThroughA(), nullptr);
  EXPECT_NE(k->DecryptThroughA(), k->DecryptInB());
}

TEST(StrategyKeyrings, RejectsKeysThatAreNotArns) {
  EXPECT_FALSE(StrategyKeyrings::Create({KeyStrategy::kMultiRegionKey, "1", "mrk-1", "mrk-1"}, Kms()).ok());
}

}  // namespace
}  // namespace meridian::drill
