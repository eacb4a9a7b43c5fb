// SigV4 signing-key derivation and a bounded, thread-safe cache of derived keys.
//
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
// Deriving costs four HMACs; a server sees the same (access key, day, region, service) over and
// over, so the verifier keeps the result. A cache entry also remembers the secret it was derived
// from and is used only when the secret presented now is the same (constant-time compare), so a
// rotated secret never validates through a stale key.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/bytes.h"

namespace meridian::sigv4 {

// 32 bytes of key material, wiped when destroyed.
class SigningKey {
 public:
  SigningKey() = default;
  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  ~SigningKey();

  ByteView view() const { return bytes_; }
  std::array<uint8_t, 32>& bytes() { return bytes_; }

 private:
  std::array<uint8_t, 32> bytes_{};
};

SigningKey DeriveSigningKey(ByteView secret_access_key, std::string_view date_yyyymmdd,
                            std::string_view region, std::string_view service);

class SigningKeyCache {
 public:
  // Holds at most `capacity` keys (rounded up to a multiple of the shard count); a new key
  // replaces whichever entry occupies its slot.
  explicit SigningKeyCache(size_t capacity = 4096);
  ~SigningKeyCache();
  SigningKeyCache(const SigningKeyCache&) = delete;
  SigningKeyCache& operator=(const SigningKeyCache&) = delete;

  // The signing key for these inputs: from the cache when present, derived (and cached) if not.
  // Allocation-free on a hit.
  SigningKey Get(std::string_view access_key_id, ByteView secret_access_key,
                 std::string_view date_yyyymmdd, std::string_view region,
                 std::string_view service);

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Shard;
  std::unique_ptr<Shard[]> shards_;
  size_t slots_per_shard_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace meridian::sigv4
