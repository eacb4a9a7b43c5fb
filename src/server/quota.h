// Request quotas: token buckets per account and operation class, in one region's process (so the
// region is implicit), like AWS's per-account, per-region request quotas.
//
// A bucket holds up to `burst` tokens and refills at `requests_per_second`; each request of the
// class takes one token, and a request that finds the bucket empty is throttled (the pipeline
// answers ThrottlingException / Throttling "Rate exceeded", HTTP 400, which the AWS SDKs back off
// and retry on). The pipeline asks after authentication (the account is known) and before
// authorization and the operation, so throttled work costs almost nothing; denied requests count,
// as in AWS.
//
// Classes and the defaults used when quotas are enabled without explicit rates (AWS's published
// defaults, simplified to one figure per class; AWS sets management quotas per operation):
//   symmetric_crypto  Encrypt, Decrypt, GenerateDataKey*, GenerateRandom, ReEncrypt   10,000/s
//   kms_management    every other KMS operation                                        1,000/s
//   secrets_read      GetSecretValue, BatchGetSecretValue, DescribeSecret, List*, ...  10,000/s
//   secrets_write     every other Secrets Manager operation                               50/s
//   iam               IAM and STS                                                        600/s
// Quotas are OFF unless the region configuration enables them, so benchmarks are not throttled.
//
// Thread-safe; one mutex per bucket, a shared lock to find the account's buckets.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace meridian::server {

enum class QuotaClass { kSymmetricCrypto, kKmsManagement, kSecretsRead, kSecretsWrite, kIam };
inline constexpr size_t kQuotaClassCount = 5;

// The configuration name of a class ("symmetric_crypto", ...).
std::string_view QuotaClassName(QuotaClass c);
// The class of `operation` of the service that signs as `signing_name` ("kms", "secretsmanager",
// "iam", "sts").
QuotaClass ClassifyOperation(std::string_view signing_name, std::string_view operation);

struct QuotaRate {
  double requests_per_second = 0;  // 0: this class is not limited
  double burst = 0;                // bucket size; at least 1 when limited
};

struct QuotaConfig {
  bool enabled = false;
  std::array<QuotaRate, kQuotaClassCount> rates = AwsDefaultRates();

  static std::array<QuotaRate, kQuotaClassCount> AwsDefaultRates();
  QuotaRate& rate(QuotaClass c) { return rates[static_cast<size_t>(c)]; }
  const QuotaRate& rate(QuotaClass c) const { return rates[static_cast<size_t>(c)]; }
};

// Applies one command-line quota setting to `config` and enables quotas: "aws" (AWS's defaults
// for every class), "CLASS=RATE" or "CLASS=RATE:BURST" (e.g. "symmetric_crypto=100:200";
// RATE 0 leaves the class unlimited). False (config untouched) when malformed.
bool ApplyQuotaSetting(std::string_view setting, QuotaConfig& config);

class RequestQuotas {
 public:
  // `clock` must outlive this object.
  explicit RequestQuotas(QuotaConfig config, const Clock& clock = SystemClock::Instance());

  bool enabled() const { return config_.enabled; }
  // True, taking a token, when `account_id` may make one more request of class `c` now.
  bool TryAcquire(std::string_view account_id, QuotaClass c);

 private:
  struct Bucket {
    std::mutex mu;
    double tokens = 0;   // guarded by mu
    int64_t last_ms = 0;  // guarded by mu
  };
  struct AccountBuckets {
    std::array<Bucket, kQuotaClassCount> buckets;
  };
  AccountBuckets& BucketsFor(std::string_view account_id);

  const QuotaConfig config_;
  const Clock& clock_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<AccountBuckets>> accounts_;  // guarded by mu_
};

}  // namespace meridian::server
