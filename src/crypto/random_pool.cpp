#include "crypto/random_pool.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "crypto/crypto.h"

namespace meridian::crypto {
namespace {

constexpr size_t kUuidBytes = 16;
static_assert(kRandomPoolBytes % kUuidBytes == 0);

// The next kUuidBytes unused bytes of the calling thread's pool (refilled from the DRBG when
// used up); the caller may overwrite them.
uint8_t* TakeUuidBytes() {
  thread_local std::array<uint8_t, kRandomPoolBytes> pool;
  thread_local size_t used = pool.size();
  if (used == pool.size()) {
    RandomFill(pool);
    used = 0;
  }
  uint8_t* taken = pool.data() + used;
  used += kUuidBytes;
  return taken;
}

}  // namespace

std::string PooledRandomUuid() {
  uint8_t random[kUuidBytes];
  std::memcpy(random, TakeUuidBytes(), kUuidBytes);
  return UuidV4FromRandomBytes(random);
}

}  // namespace meridian::crypto
