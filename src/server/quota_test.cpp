#include "server/quota.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace meridian::server {
namespace {

QuotaConfig Limited(QuotaClass c, double rps, double burst) {
  QuotaConfig config;
  config.enabled = true;
  for (auto& r : config.rates) r = {};  // only `c` limited
  config.rate(c) = {rps, burst};
  return config;
}

TEST(QuotaClassTest, OperationsFallIntoAwsClasses) {
  for (const char* op : {"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                         "GenerateDataKeyPair", "GenerateRandom"})
    EXPECT_EQ(ClassifyOperation("kms", op), QuotaClass::kSymmetricCrypto) << op;
  for (const char* op : {"CreateKey", "DescribeKey", "ListKeys", "PutKeyPolicy", "ScheduleKeyDeletion", "CreateGrant"})
    EXPECT_EQ(ClassifyOperation("kms", op), QuotaClass::kKmsManagement) << op;
  for (const char* op : {"GetSecretValue", "BatchGetSecretValue", "DescribeSecret", "ListSecrets", "GetRandomPassword"})
    EXPECT_EQ(ClassifyOperation("secretsmanager", op), QuotaClass::kSecretsRead) << op;
  for (const char* op : {"CreateSecret", "PutSecretValue", "DeleteSecret", "RotateSecret"})
    EXPECT_EQ(ClassifyOperation("secretsmanager", op), QuotaClass::kSecretsWrite) << op;
  EXPECT_EQ(ClassifyOperation("iam", "CreateUser"), QuotaClass::kIam);
  EXPECT_EQ(ClassifyOperation("sts", "AssumeRole"), QuotaClass::kIam);
  EXPECT_EQ(QuotaClassName(QuotaClass::kSymmetricCrypto), "symmetric_crypto");
}

TEST(QuotaTest, DisabledNeverThrottles) {
  ManualClock clock(1000);
  QuotaConfig config = Limited(QuotaClass::kSymmetricCrypto, 1, 1);
  config.enabled = false;
  RequestQuotas q(config, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(q.TryAcquire("111122223333", QuotaClass::kSymmetricCrypto));
}

TEST(QuotaTest, BurstThenRefillAtTheConfiguredRate) {
  ManualClock clock(1'000'000);
  RequestQuotas q(Limited(QuotaClass::kSymmetricCrypto, 10, 5), clock);
  const std::string account = "111122223333";
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(q.TryAcquire(account, QuotaClass::kSymmetricCrypto)) << i;
  EXPECT_FALSE(q.TryAcquire(account, QuotaClass::kSymmetricCrypto));
  clock.Advance(99);  // 0.99 tokens: not yet
  EXPECT_FALSE(q.TryAcquire(account, QuotaClass::kSymmetricCrypto));
  clock.Advance(1);  // 1.0 token
  EXPECT_TRUE(q.TryAcquire(account, QuotaClass::kSymmetricCrypto));
  EXPECT_FALSE(q.TryAcquire(account, QuotaClass::kSymmetricCrypto));
  clock.Advance(60'000);  // a long pause refills only up to the burst
  int allowed = 0;
  while (q.TryAcquire(account, QuotaClass::kSymmetricCrypto)) ++allowed;
  EXPECT_EQ(allowed, 5);
}

TEST(QuotaTest, SustainedRateOverTime) {
  ManualClock clock(0);
  RequestQuotas q(Limited(QuotaClass::kKmsManagement, 100, 100), clock);
  int allowed = 0;
  // 10 seconds of 1,000 attempts per second in 1 ms steps: 100 burst + 100/s * 10 s.
  for (int ms = 0; ms < 10'000; ++ms) {
    clock.Set(ms);
    if (q.TryAcquire("111122223333", QuotaClass::kKmsManagement)) ++allowed;
  }
  EXPECT_GE(allowed, 1095);
  EXPECT_LE(allowed, 1100);
}

TEST(QuotaTest, AccountsAndClassesHaveSeparateBuckets) {
  ManualClock clock(0);
  QuotaConfig config = Limited(QuotaClass::kSymmetricCrypto, 1, 1);
  config.rate(QuotaClass::kIam) = {1, 2};
  RequestQuotas q(config, clock);
  EXPECT_TRUE(q.TryAcquire("111111111111", QuotaClass::kSymmetricCrypto));
  EXPECT_FALSE(q.TryAcquire("111111111111", QuotaClass::kSymmetricCrypto));
  EXPECT_TRUE(q.TryAcquire("222222222222", QuotaClass::kSymmetricCrypto));  // another account
  EXPECT_TRUE(q.TryAcquire("111111111111", QuotaClass::kIam));              // another class
  EXPECT_TRUE(q.TryAcquire("111111111111", QuotaClass::kIam));
  EXPECT_FALSE(q.TryAcquire("111111111111", QuotaClass::kIam));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(q.TryAcquire("111111111111", QuotaClass::kSecretsRead));  // unlimited
}

TEST(QuotaTest, ClockSteppingBackRefillsNothing) {
  ManualClock clock(10'000);
  RequestQuotas q(Limited(QuotaClass::kIam, 1, 1), clock);
  EXPECT_TRUE(q.TryAcquire("111122223333", QuotaClass::kIam));
  clock.Set(5'000);
  EXPECT_FALSE(q.TryAcquire("111122223333", QuotaClass::kIam));
  clock.Set(10'999);
  EXPECT_FALSE(q.TryAcquire("111122223333", QuotaClass::kIam));
  clock.Set(11'000);
  EXPECT_TRUE(q.TryAcquire("111122223333", QuotaClass::kIam));
}

TEST(QuotaTest, ConcurrentCallersNeverExceedTheBucket) {
  ManualClock clock(0);  // frozen: exactly `burst` requests may pass
  RequestQuotas q(Limited(QuotaClass::kSymmetricCrypto, 1000, 500), clock);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (q.TryAcquire(i % 2 ? "111111111111" : "222222222222", QuotaClass::kSymmetricCrypto)) ++allowed;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);  // 500 per account
}

TEST(QuotaTest, CommandLineSettings) {
  QuotaConfig config;
  EXPECT_TRUE(ApplyQuotaSetting("symmetric_crypto=5", config));
  EXPECT_TRUE(config.enabled);
  EXPECT_EQ(config.rate(QuotaClass::kSymmetricCrypto).requests_per_second, 5);
  EXPECT_EQ(config.rate(QuotaClass::kSymmetricCrypto).burst, 5);
  EXPECT_TRUE(ApplyQuotaSetting("iam=2:10", config));
  EXPECT_EQ(config.rate(QuotaClass::kIam).burst, 10);
  EXPECT_TRUE(ApplyQuotaSetting("secrets_read=0", config));
  EXPECT_EQ(config.rate(QuotaClass::kSecretsRead).requests_per_second, 0);
  for (const char* bad : {"", "aws=1", "crypto=5", "iam", "iam=", "iam=x", "iam=5:", "iam=5:0", "iam=-1", "iam=1e3",
                          "iam=999999999"}) {
    QuotaConfig untouched;
    EXPECT_FALSE(ApplyQuotaSetting(bad, untouched)) << bad;
    EXPECT_FALSE(untouched.enabled) << bad;
  }
  QuotaConfig defaults;
  EXPECT_TRUE(ApplyQuotaSetting("aws", defaults));
  EXPECT_TRUE(defaults.enabled);
  EXPECT_EQ(defaults.rate(QuotaClass::kKmsManagement).requests_per_second, 1000);
}

TEST(QuotaTest, AwsDefaults) {
  QuotaConfig config;
  EXPECT_FALSE(config.enabled);
  EXPECT_EQ(config.rate(QuotaClass::kSymmetricCrypto).requests_per_second, 10000);
  EXPECT_EQ(config.rate(QuotaClass::kSecretsWrite).requests_per_second, 50);
}

}  // namespace
}  // namespace meridian::server
