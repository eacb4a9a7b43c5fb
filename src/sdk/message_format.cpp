#include "sdk/message_format.h"

#include <cstring>
#include <string_view>

#include "sdk/aead.h"
#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

constexpr std::string_view kFrameString = "AWSKMSEncryptionClient Frame";
constexpr std::string_view kFinalFrameString = "AWSKMSEncryptionClient Final Frame";
constexpr std::string_view kSingleBlockString = "AWSKMSEncryptionClient Single Block";

void PutBE(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = n; i-- > 0;) *p++ = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

BodyAad::BodyAad(ByteView message_id, BodyAadKind kind, uint32_t sequence, uint64_t content_length) {
  std::string_view s = kind == BodyAadKind::kFrame        ? kFrameString
                       : kind == BodyAadKind::kFinalFrame ? kFinalFrameString
                                                          : kSingleBlockString;
  uint8_t* p = buf_.data();
  std::memcpy(p, message_id.data(), message_id.size());
  p += message_id.size();
  std::memcpy(p, s.data(), s.size());
  p += s.size();
  PutBE(p, sequence, 4);
  p += 4;
  PutBE(p, content_length, 8);
  p += 8;
  len_ = static_cast<size_t>(p - buf_.data());
}

std::array<uint8_t, AlgorithmSuite::kIvLength> FrameIv(uint32_t sequence) {
  std::array<uint8_t, AlgorithmSuite::kIvLength> iv{};
  PutBE(iv.data() + 8, sequence, 4);
  return iv;
}

Result<DerivedKeys> DeriveKeys(const AlgorithmSuite& suite, ByteView pdk, ByteView message_id) {
  if (pdk.size() != suite.key_length) return errors::InvalidArgument("data key length does not match the suite");
  if (message_id.size() != suite.message_id_length()) return errors::InvalidArgument("bad message id length");
  DerivedKeys out;
  out.data_key = crypto::SecureBytes(suite.key_length);
  uint8_t id[2] = {static_cast<uint8_t>(suite.id >> 8), static_cast<uint8_t>(suite.id)};
  if (suite.kdf == KdfHash::kIdentity) {
    // spec: framework/algorithm-suites.md#identity-kdf
    std::memcpy(out.data_key.data(), pdk.data(), pdk.size());
  } else if (suite.message_version == 1) {
    uint8_t info[2 + 16];
    std::memcpy(info, id, 2);
    std::memcpy(info + 2, message_id.data(), 16);
    MERIDIAN_RETURN_IF_ERROR(Hkdf(suite.kdf, pdk, {}, ByteView(info, sizeof info), out.data_key.data(),
                                  out.data_key.size()));
  } else {
    static constexpr char kDerive[] = "DERIVEKEY";
    static constexpr char kCommit[] = "COMMITKEY";
    uint8_t info[2 + 9];
    std::memcpy(info, id, 2);
    std::memcpy(info + 2, kDerive, 9);
    MERIDIAN_RETURN_IF_ERROR(
        Hkdf(suite.kdf, pdk, message_id, ByteView(info, sizeof info), out.data_key.data(), out.data_key.size()));
    if (suite.committing) {
      out.commit_key.resize(AlgorithmSuite::kCommitKeyLength);
      MERIDIAN_RETURN_IF_ERROR(Hkdf(suite.kdf, pdk, message_id,
                                    ByteView(reinterpret_cast<const uint8_t*>(kCommit), 9),
                                    out.commit_key.data(), out.commit_key.size()));
    }
  }
  return out;
}

}  // namespace meridian::sdk
