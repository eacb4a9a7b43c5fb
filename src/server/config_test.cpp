#include "server/config.h"

#include <gtest/gtest.h>

namespace meridian::server {
namespace {

constexpr char kMinimal[] = R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/tmp/x",
  "listeners":[{"address":"127.0.0.1","port":4566}]})";

TEST(RegionConfig, ParsesMinimalAndRoundTrips) {
  auto cfg = RegionConfig::Parse(kMinimal);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->region, "us-east-1");
  EXPECT_EQ(cfg->listeners.at(0).port, 4566);
  EXPECT_EQ(cfg->maintenance_interval_seconds, 60);
  auto again = RegionConfig::Parse(cfg->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), cfg->ToJson());
}

TEST(RegionConfig, PlaintextOffLoopbackIsRefused) {
  auto cfg = RegionConfig::Parse(R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x",
    "listeners":[{"address":"0.0.0.0","port":4566}]})");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("plaintext"), std::string::npos);
}

TEST(RegionConfig, PeersRequireMutualTlsFiles) {
  auto no_tls = RegionConfig::Parse(R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x",
    "listeners":[{"address":"127.0.0.1","port":4566}],
    "peers":[{"region":"us-west-2","endpoint":"https://127.0.0.1:5567"}]})");
  EXPECT_FALSE(no_tls.ok());
  auto ok = RegionConfig::Parse(R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x",
    "listeners":[{"address":"127.0.0.1","port":4566}],
    "tls":{"ca_file":"ca.pem","cert_file":"r.pem","key_file":"r.key"},
    "peer_listener":{"address":"127.0.0.1","port":5566},
    "peers":[{"region":"us-west-2","endpoint":"https://127.0.0.1:5567"}]})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->AllRegions(), (std::vector<std::string>{"us-east-1", "us-west-2"}));
  EXPECT_TRUE(ok->peer_listener->tls);
  auto self_peer = RegionConfig::Parse(R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x",
    "listeners":[{"address":"127.0.0.1","port":4566}],
    "tls":{"ca_file":"ca.pem","cert_file":"r.pem","key_file":"r.key"},
    "peers":[{"region":"us-east-1","endpoint":"https://127.0.0.1:5567"}]})");
  EXPECT_FALSE(self_peer.ok());
}

TEST(RegionConfig, RejectsBadValues) {
  for (const char* bad : {
           R"({"region":"US_EAST","account_id":"111122223333","data_dir":"/x","listeners":[{"port":1}]})",
           R"({"region":"us-east-1","account_id":"1234","data_dir":"/x","listeners":[{"port":1}]})",
           R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x","listeners":[]})",
           R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x","listeners":[{"port":70000}]})",
           R"(not json)"}) {
    EXPECT_FALSE(RegionConfig::Parse(bad).ok()) << bad;
  }
}

TEST(RegionConfig, QuotasAreOffByDefaultAndConfigurable) {
  auto plain = RegionConfig::Parse(kMinimal);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->quotas.enabled);
  auto cfg = RegionConfig::Parse(R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x",
    "listeners":[{"address":"127.0.0.1","port":4566}],
    "quotas":{"enabled":true,"symmetric_crypto":{"requests_per_second":5,"burst":7},
              "iam":{"requests_per_second":0},"secrets_write":{"requests_per_second":20}}})");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->quotas.enabled);
  EXPECT_EQ(cfg->quotas.rate(QuotaClass::kSymmetricCrypto).requests_per_second, 5);
  EXPECT_EQ(cfg->quotas.rate(QuotaClass::kSymmetricCrypto).burst, 7);
  EXPECT_EQ(cfg->quotas.rate(QuotaClass::kIam).requests_per_second, 0);
  EXPECT_EQ(cfg->quotas.rate(QuotaClass::kSecretsWrite).burst, 20);                   // burst = rate
  EXPECT_EQ(cfg->quotas.rate(QuotaClass::kKmsManagement).requests_per_second, 1000);  // AWS default kept
  auto again = RegionConfig::Parse(cfg->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), cfg->ToJson());
  for (const char* bad : {R"("quotas":[])", R"("quotas":{"enabled":"yes"})", R"("quotas":{"crypto":{}})",
                          R"("quotas":{"iam":{"burst":5}})", R"("quotas":{"iam":{"requests_per_second":-1}})",
                          R"("quotas":{"iam":{"requests_per_second":5,"burst":0}})"}) {
    const std::string json = R"({"region":"us-east-1","account_id":"111122223333","data_dir":"/x",
      "listeners":[{"address":"127.0.0.1","port":4566}],)" + std::string(bad) + "}";
    EXPECT_FALSE(RegionConfig::Parse(json).ok()) << bad;
  }
}

}  // namespace
}  // namespace meridian::server
