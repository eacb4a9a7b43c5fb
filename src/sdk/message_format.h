// Message body and footer layout constants, body AAD, frame IVs, and data-key derivation.
// spec: data-format/message-body.md, data-format/message-body-aad.md, data-format/message-footer.md,
//       framework/algorithm-suites.md#key-derivation-algorithm
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/crypto.h"
#include "sdk/algorithm_suite.h"

namespace meridian::sdk {

inline constexpr uint32_t kFinalFrameMarker = 0xFFFFFFFF;          // sequence number end
inline constexpr uint32_t kMaxFrameSequence = 0xFFFFFFFE;
inline constexpr uint64_t kMaxNonFramedContent = (uint64_t{1} << 36) - 32;  // GCM limit

enum class BodyAadKind { kFrame, kFinalFrame, kSingleBlock };

// Body AAD = message id || content string || sequence number (u32) || content length (u64).
// spec: data-format/message-body-aad.md
class BodyAad {
 public:
  BodyAad(ByteView message_id, BodyAadKind kind, uint32_t sequence, uint64_t content_length);
  ByteView view() const { return ByteView(buf_.data(), len_); }

 private:
  std::array<uint8_t, 96> buf_{};
  size_t len_ = 0;
};

// Frame IV: the sequence number, big-endian, left-padded with zeros to 12 bytes.
std::array<uint8_t, AlgorithmSuite::kIvLength> FrameIv(uint32_t sequence);

// The data key for the body (and header tag), and for committing suites the commit key.
struct DerivedKeys {
  crypto::SecureBytes data_key;
  Bytes commit_key;  // empty unless the suite commits
};
// v1: HKDF(salt=none, ikm=pdk, info=suite id || message id) or identity.
// v2: HKDF-SHA512(salt=message id, ikm=pdk, info=suite id || "DERIVEKEY") and
//     commit key = HKDF-SHA512(salt=message id, ikm=pdk, info="COMMITKEY").
Result<DerivedKeys> DeriveKeys(const AlgorithmSuite& suite, ByteView plaintext_data_key, ByteView message_id);

}  // namespace meridian::sdk
