// Algorithm suites and commitment policies of the AWS Encryption SDK message format.
// spec: framework/algorithm-suites.md, framework/commitment-policy.md
//
// Every suite is a static, immutable table entry; callers hold `const AlgorithmSuite*` that stay
// valid for the life of the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace meridian::sdk {

enum class KdfHash : uint8_t { kIdentity, kSha256, kSha384, kSha512 };
enum class SignatureCurve : uint8_t { kNone, kP256, kP384 };

struct AlgorithmSuite {
  uint16_t id;
  uint8_t message_version;  // 1 or 2 (spec: data-format/message-header.md#version-1)
  size_t key_length;        // AES-GCM data key length in bytes: 16, 24 or 32
  KdfHash kdf;
  SignatureCurve signature;
  bool committing;          // key commitment (spec: framework/algorithm-suites.md#key-commitment)
  const char* name;

  static constexpr size_t kIvLength = 12;
  static constexpr size_t kTagLength = 16;
  static constexpr size_t kCommitKeyLength = 32;

  size_t message_id_length() const { return message_version == 2 ? 32 : 16; }
  size_t suite_data_length() const { return committing ? kCommitKeyLength : 0; }
  bool signed_suite() const { return signature != SignatureCurve::kNone; }
};

// nullptr if `id` is not an ESDK suite.
const AlgorithmSuite* FindSuite(uint16_t id);
// All ESDK suites, in ascending id order.
std::span<const AlgorithmSuite> AllSuites();
// Parses "0x0578", "0578", "578" or the suite's enum name (e.g. "AES_256_GCM_HKDF_SHA512_COMMIT_KEY").
const AlgorithmSuite* ParseSuite(std::string_view text);

// spec: framework/commitment-policy.md#supported-commitment-policy-enum
enum class CommitmentPolicy : uint8_t {
  kForbidEncryptAllowDecrypt,
  kRequireEncryptAllowDecrypt,
  kRequireEncryptRequireDecrypt,
};

bool PolicyAllowsEncrypt(CommitmentPolicy policy, const AlgorithmSuite& suite);
bool PolicyAllowsDecrypt(CommitmentPolicy policy, const AlgorithmSuite& suite);
// 0x0378 under FORBID_ENCRYPT_ALLOW_DECRYPT, 0x0578 otherwise.
const AlgorithmSuite& DefaultSuite(CommitmentPolicy policy);
// Accepts the spec names (REQUIRE_ENCRYPT_REQUIRE_DECRYPT, ...) case-insensitively.
std::optional<CommitmentPolicy> ParseCommitmentPolicy(std::string_view text);
const char* CommitmentPolicyName(CommitmentPolicy policy);

}  // namespace meridian::sdk
