#include "sdk/algorithm_suite.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace meridian::sdk {
namespace {

// spec: framework/algorithm-suites.md#supported-algorithm-suites (ESDK rows)
constexpr std::array<AlgorithmSuite, 11> kSuites = {{
    {0x0014, 1, 16, KdfHash::kIdentity, SignatureCurve::kNone, false, "AES_128_GCM_IV12_TAG16_NO_KDF"},
    {0x0046, 1, 24, KdfHash::kIdentity, SignatureCurve::kNone, false, "AES_192_GCM_IV12_TAG16_NO_KDF"},
    {0x0078, 1, 32, KdfHash::kIdentity, SignatureCurve::kNone, false, "AES_256_GCM_IV12_TAG16_NO_KDF"},
    {0x0114, 1, 16, KdfHash::kSha256, SignatureCurve::kNone, false, "AES_128_GCM_IV12_TAG16_HKDF_SHA256"},
    {0x0146, 1, 24, KdfHash::kSha256, SignatureCurve::kNone, false, "AES_192_GCM_IV12_TAG16_HKDF_SHA256"},
    {0x0178, 1, 32, KdfHash::kSha256, SignatureCurve::kNone, false, "AES_256_GCM_IV12_TAG16_HKDF_SHA256"},
    {0x0214, 1, 16, KdfHash::kSha256, SignatureCurve::kP256, false,
     "AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256"},
    {0x0346, 1, 24, KdfHash::kSha384, SignatureCurve::kP384, false,
     "AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384"},
    {0x0378, 1, 32, KdfHash::kSha384, SignatureCurve::kP384, false,
     "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384"},
    {0x0478, 2, 32, KdfHash::kSha512, SignatureCurve::kNone, true, "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"},
    {0x0578, 2, 32, KdfHash::kSha512, SignatureCurve::kP384, true,
     "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"},
}};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const AlgorithmSuite* FindSuite(uint16_t id) {
  for (const auto& s : kSuites)
    if (s.id == id) return &s;
  return nullptr;
}

std::span<const AlgorithmSuite> AllSuites() { return kSuites; }

const AlgorithmSuite* ParseSuite(std::string_view text) {
  std::string up = Upper(text);
  for (const auto& s : kSuites) {
    if (up == s.name || up == std::string("ALG_") + s.name) return &s;
  }
  std::string_view hex = up;
  if (hex.starts_with("0X")) hex.remove_prefix(2);
  if (hex.empty() || hex.size() > 4) return nullptr;
  uint16_t id = 0;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return nullptr;
    id = static_cast<uint16_t>(id * 16 + v);
  }
  return FindSuite(id);
}

bool PolicyAllowsEncrypt(CommitmentPolicy policy, const AlgorithmSuite& suite) {
  return policy == CommitmentPolicy::kForbidEncryptAllowDecrypt ? !suite.committing : suite.committing;
}

bool PolicyAllowsDecrypt(CommitmentPolicy policy, const AlgorithmSuite& suite) {
  return policy == CommitmentPolicy::kRequireEncryptRequireDecrypt ? suite.committing : true;
}

const AlgorithmSuite& DefaultSuite(CommitmentPolicy policy) {
  return *FindSuite(policy == CommitmentPolicy::kForbidEncryptAllowDecrypt ? 0x0378 : 0x0578);
}

std::optional<CommitmentPolicy> ParseCommitmentPolicy(std::string_view text) {
  std::string up = Upper(text);
  std::replace(up.begin(), up.end(), '-', '_');
  if (up == "FORBID_ENCRYPT_ALLOW_DECRYPT") return CommitmentPolicy::kForbidEncryptAllowDecrypt;
  if (up == "REQUIRE_ENCRYPT_ALLOW_DECRYPT") return CommitmentPolicy::kRequireEncryptAllowDecrypt;
  if (up == "REQUIRE_ENCRYPT_REQUIRE_DECRYPT") return CommitmentPolicy::kRequireEncryptRequireDecrypt;
  return std::nullopt;
}

const char* CommitmentPolicyName(CommitmentPolicy policy) {
  switch (policy) {
    case CommitmentPolicy::kForbidEncryptAllowDecrypt: return "FORBID_ENCRYPT_ALLOW_DECRYPT";
    case CommitmentPolicy::kRequireEncryptAllowDecrypt: return "REQUIRE_ENCRYPT_ALLOW_DECRYPT";
    case CommitmentPolicy::kRequireEncryptRequireDecrypt: return "REQUIRE_ENCRYPT_REQUIRE_DECRYPT";
  }
  return "?";
}

}  // namespace meridian::sdk
