// Random identifiers from a per-thread pool of DRBG output.
//
// One RAND_bytes call costs about as much as producing a few hundred bytes, so identifiers that
// are public and need only be unique (request ids, audit event ids) draw their randomness from a
// per-thread buffer refilled kRandomPoolBytes at a time. Not for keys, nonces, tokens or anything
// that must stay secret or unpredictable to a party that saw earlier ids: use RandomFill /
// RandomSecret (crypto/crypto.h) for those.
//
// Thread-safe (the pool is thread-local; nothing is shared). A child forked without exec would
// repeat its parent's unused pool; Meridian execs after fork.
#pragma once

#include <cstddef>
#include <string>

namespace meridian::crypto {

inline constexpr size_t kRandomPoolBytes = 512;  // 32 UUIDs per RAND_bytes call

// A random (version 4, RFC 4122) UUID in lower-case 8-4-4-4-12 text form, from the calling
// thread's pool: the same format as RandomUuid().
std::string PooledRandomUuid();

}  // namespace meridian::crypto
