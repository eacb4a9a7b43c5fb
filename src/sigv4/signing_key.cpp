#include "sigv4/signing_key.h"

#include <functional>
#include <mutex>
#include <string>

#include "crypto/crypto.h"
#include "sigv4/request.h"

namespace meridian::sigv4 {
namespace {

constexpr size_t kShardCount = 16;

uint64_t HashInputs(std::string_view access_key_id, std::string_view date,
                    std::string_view region, std::string_view service) {
  // FNV-1a over the fields with a separator; only used to pick a slot.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(access_key_id);
  mix(date);
  mix(region);
  mix(service);
  return h;
}

}  // namespace

SigningKey::~SigningKey() { crypto::Cleanse(bytes_.data(), bytes_.size()); }

SigningKey DeriveSigningKey(ByteView secret_access_key, std::string_view date_yyyymmdd,
                            std::string_view region, std::string_view service) {
  crypto::SecureBytes k_secret(4 + secret_access_key.size());
  std::copy_n("AWS4", 4, k_secret.data());
  std::copy(secret_access_key.begin(), secret_access_key.end(), k_secret.data() + 4);
  crypto::Sha256Digest k_date = crypto::HmacSha256(k_secret.view(), AsBytes(date_yyyymmdd));
  crypto::Sha256Digest k_region = crypto::HmacSha256(k_date, AsBytes(region));
  crypto::Sha256Digest k_service = crypto::HmacSha256(k_region, AsBytes(service));
  SigningKey key;
  key.bytes() = crypto::HmacSha256(k_service, AsBytes(kScopeTerminator));
  crypto::Cleanse(k_date.data(), k_date.size());
  crypto::Cleanse(k_region.data(), k_region.size());
  crypto::Cleanse(k_service.data(), k_service.size());
  return key;
}

struct SigningKeyCache::Shard {
  struct Slot {
    bool used = false;
    std::string access_key_id;
    std::string date;
    std::string region;
    std::string service;
    crypto::SecureBytes secret;
    SigningKey key;
  };
  std::mutex mu;
  std::unique_ptr<Slot[]> slots;
};

SigningKeyCache::SigningKeyCache(size_t capacity)
    : shards_(new Shard[kShardCount]),
      slots_per_shard_(std::max<size_t>(1, (capacity + kShardCount - 1) / kShardCount)) {
  for (size_t i = 0; i < kShardCount; ++i) {
    shards_[i].slots.reset(new Shard::Slot[slots_per_shard_]);
  }
}

SigningKeyCache::~SigningKeyCache() = default;

SigningKey SigningKeyCache::Get(std::string_view access_key_id, ByteView secret_access_key,
                                std::string_view date_yyyymmdd, std::string_view region,
                                std::string_view service) {
  const uint64_t h = HashInputs(access_key_id, date_yyyymmdd, region, service);
  Shard& shard = shards_[h % kShardCount];
  const size_t index = (h / kShardCount) % slots_per_shard_;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    Shard::Slot& slot = shard.slots[index];
    if (slot.used && slot.access_key_id == access_key_id && slot.date == date_yyyymmdd &&
        slot.region == region && slot.service == service &&
        crypto::ConstantTimeEquals(slot.secret.view(), secret_access_key)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return slot.key;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  SigningKey key = DeriveSigningKey(secret_access_key, date_yyyymmdd, region, service);
  std::lock_guard<std::mutex> lock(shard.mu);
  Shard::Slot& slot = shard.slots[index];
  slot.used = true;
  slot.access_key_id.assign(access_key_id);
  slot.date.assign(date_yyyymmdd);
  slot.region.assign(region);
  slot.service.assign(service);
  slot.secret = crypto::SecureBytes(secret_access_key);
  slot.key = key;
  return key;
}

}  // namespace meridian::sigv4
