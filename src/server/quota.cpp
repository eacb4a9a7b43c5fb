#include "server/quota.h"

#include <algorithm>
#include <string>

namespace meridian::server {

std::string_view QuotaClassName(QuotaClass c) {
  switch (c) {
    case QuotaClass::kSymmetricCrypto: return "symmetric_crypto";
    case QuotaClass::kKmsManagement: return "kms_management";
    case QuotaClass::kSecretsRead: return "secrets_read";
    case QuotaClass::kSecretsWrite: return "secrets_write";
    case QuotaClass::kIam: return "iam";
  }
  return "unknown";
}

QuotaClass ClassifyOperation(std::string_view signing_name, std::string_view operation) {
  auto starts = [&](std::string_view prefix) { return operation.substr(0, prefix.size()) == prefix; };
  if (signing_name == "kms") {
    // AWS KMS "cryptographic operations (symmetric)" request quota.
    if (operation == "Encrypt" || operation == "Decrypt" || operation == "ReEncrypt" ||
        operation == "GenerateRandom" || starts("GenerateDataKey"))
      return QuotaClass::kSymmetricCrypto;
    return QuotaClass::kKmsManagement;
  }
  if (signing_name == "secretsmanager") {
    if (starts("Get") || starts("BatchGet") || starts("Describe") || starts("List") || starts("Validate"))
      return QuotaClass::kSecretsRead;
    return QuotaClass::kSecretsWrite;
  }
  return QuotaClass::kIam;
}

std::array<QuotaRate, kQuotaClassCount> QuotaConfig::AwsDefaultRates() {
  std::array<QuotaRate, kQuotaClassCount> r;
  r[static_cast<size_t>(QuotaClass::kSymmetricCrypto)] = {10000, 10000};
  r[static_cast<size_t>(QuotaClass::kKmsManagement)] = {1000, 1000};
  r[static_cast<size_t>(QuotaClass::kSecretsRead)] = {10000, 10000};
  r[static_cast<size_t>(QuotaClass::kSecretsWrite)] = {50, 50};
  r[static_cast<size_t>(QuotaClass::kIam)] = {600, 600};
  return r;
}

bool ApplyQuotaSetting(std::string_view setting, QuotaConfig& config) {
  if (setting == "aws") {
    config.enabled = true;
    return true;
  }
  const size_t eq = setting.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string_view name = setting.substr(0, eq);
  std::string_view numbers = setting.substr(eq + 1);
  auto number = [](std::string_view text, double& out) {
    if (text.empty() || text.size() > 8 || text.find_first_not_of("0123456789") != std::string_view::npos) return false;
    out = std::stod(std::string(text));
    return true;
  };
  for (size_t i = 0; i < kQuotaClassCount; ++i) {
    if (QuotaClassName(static_cast<QuotaClass>(i)) != name) continue;
    const size_t colon = numbers.find(':');
    double rate = 0, burst = 0;
    if (!number(numbers.substr(0, colon), rate)) return false;
    if (colon != std::string_view::npos && (!number(numbers.substr(colon + 1), burst) || burst < 1)) return false;
    config.rates[i] = {rate, colon == std::string_view::npos ? std::max(1.0, rate) : burst};
    config.enabled = true;
    return true;
  }
  return false;
}

RequestQuotas::RequestQuotas(QuotaConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

RequestQuotas::AccountBuckets& RequestQuotas::BucketsFor(std::string_view account_id) {
  const std::string key(account_id);
  {
    std::shared_lock lock(mu_);
    auto it = accounts_.find(key);
    if (it != accounts_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto [it, inserted] = accounts_.try_emplace(key);
  if (inserted) {
    it->second = std::make_unique<AccountBuckets>();
    const int64_t now = clock_.NowMillis();
    for (size_t i = 0; i < kQuotaClassCount; ++i) {
      it->second->buckets[i].tokens = std::max(1.0, config_.rates[i].burst);  // a new account starts full
      it->second->buckets[i].last_ms = now;
    }
  }
  return *it->second;
}

bool RequestQuotas::TryAcquire(std::string_view account_id, QuotaClass c) {
  if (!config_.enabled) return true;
  const QuotaRate& rate = config_.rate(c);
  if (rate.requests_per_second <= 0) return true;
  Bucket& b = BucketsFor(account_id).buckets[static_cast<size_t>(c)];
  const double capacity = std::max(1.0, rate.burst);
  const int64_t now = clock_.NowMillis();
  std::lock_guard lock(b.mu);
  if (now > b.last_ms) {  // a clock that steps back refills nothing
    b.tokens = std::min(capacity, b.tokens + static_cast<double>(now - b.last_ms) * rate.requests_per_second / 1000.0);
    b.last_ms = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace meridian::server
