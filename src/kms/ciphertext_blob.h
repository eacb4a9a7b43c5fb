// The KMS ciphertext blob: Meridian's own versioned, self-describing format.
//
//   offset  size  field
//   0       1     format version (0x01)
//   1       1     key id length L (1..64)
//   2       L     key id (ASCII: a UUID, or "mrk-" + 32 hex for multi-region keys)
//   2+L     16    backing key id (which version of the key's material encrypted this)
//   18+L    16    nonce: the per-message key is HMAC-SHA256(material, "meridian-kms-v1" || nonce),
//                 the AES-GCM IV is the first 12 bytes of the nonce
//   34+L    N     AES-256-GCM ciphertext of the plaintext
//   34+L+N  16    GCM tag
//
// The AAD is the header (bytes 0 .. 34+L) followed by the canonical encryption context
// (SerializeEncryptionContext), so any altered byte or a different context fails
// authentication. Parsing is bounds-checked; see docs/ciphertext-format.md.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace meridian::kms {

inline constexpr uint8_t kBlobVersion = 1;
inline constexpr size_t kBackingKeyIdSize = 16;
inline constexpr size_t kBlobNonceSize = 16;
inline constexpr size_t kMaxKeyIdLength = 64;

struct CiphertextBlobView {
  std::string key_id;
  ByteView backing_key_id;    // kBackingKeyIdSize bytes
  ByteView nonce;             // kBlobNonceSize bytes
  ByteView header;            // bytes authenticated as AAD (before the context)
  ByteView ciphertext_and_tag;
};

// Parses `blob` (which must outlive the view); nullopt if malformed.
std::optional<CiphertextBlobView> ParseCiphertextBlob(ByteView blob);

// Writes the header for a new blob.
Bytes BuildBlobHeader(std::string_view key_id, ByteView backing_key_id, ByteView nonce);

using EncryptionContext = std::vector<std::pair<std::string, std::string>>;  // sorted by key
// Canonical bytes: u16 count, then for each pair (sorted by key) u16 length + key, u16 length +
// value. Empty context: zero bytes.
Bytes SerializeEncryptionContext(const EncryptionContext& context);

}  // namespace meridian::kms
