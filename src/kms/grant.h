// Grant: one KMS grant, a per-key permission that lets a grantee principal use the key in a list
// of grant operations, optionally only with a given encryption context (AWS KMS Developer Guide,
// "Grants in AWS KMS"; API shapes CreateGrantRequest, GrantListEntry, GrantConstraints).
//
// Invariants:
//  - A grant has at most one constraint type: kms:GrantConstraintType is a single-valued
//    condition key ("EncryptionContextEquals" or "EncryptionContextSubset"), so CreateGrant
//    refuses a request that names both.
//  - Constraint pairs are sorted by key; in a constraint, keys compare case-insensitively and
//    values case-sensitively (API reference, GrantConstraints: "in a grant constraint, the key in
//    each key-value pair is not case sensitive, but the value is case sensitive").
//  - Grants belong to one region's copy of a key: they are stored in that region only (grants on
//    multi-Region keys are not replicated).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/aws_json.h"
#include "common/status.h"
#include "kms/ciphertext_blob.h"

namespace meridian::kms {

// The GrantOperation values of the KMS API, as bits of a GrantOps set.
namespace grant_op {
inline constexpr uint32_t kDecrypt = 1u << 0;
inline constexpr uint32_t kEncrypt = 1u << 1;
inline constexpr uint32_t kGenerateDataKey = 1u << 2;
inline constexpr uint32_t kGenerateDataKeyWithoutPlaintext = 1u << 3;
inline constexpr uint32_t kReEncryptFrom = 1u << 4;
inline constexpr uint32_t kReEncryptTo = 1u << 5;
inline constexpr uint32_t kSign = 1u << 6;
inline constexpr uint32_t kVerify = 1u << 7;
inline constexpr uint32_t kGetPublicKey = 1u << 8;
inline constexpr uint32_t kCreateGrant = 1u << 9;
inline constexpr uint32_t kRetireGrant = 1u << 10;
inline constexpr uint32_t kDescribeKey = 1u << 11;
inline constexpr uint32_t kGenerateDataKeyPair = 1u << 12;
inline constexpr uint32_t kGenerateDataKeyPairWithoutPlaintext = 1u << 13;
inline constexpr uint32_t kGenerateMac = 1u << 14;
inline constexpr uint32_t kVerifyMac = 1u << 15;
inline constexpr uint32_t kDeriveSharedSecret = 1u << 16;
// The operations a grant may allow on a symmetric encryption key ("Grant operations" table).
inline constexpr uint32_t kSymmetricEncryption = kDecrypt | kEncrypt | kGenerateDataKey |
                                                 kGenerateDataKeyWithoutPlaintext | kReEncryptFrom | kReEncryptTo |
                                                 kCreateGrant | kRetireGrant | kDescribeKey | kGenerateDataKeyPair |
                                                 kGenerateDataKeyPairWithoutPlaintext;
// The operations that take an encryption context: grant constraints apply to these only.
inline constexpr uint32_t kWithEncryptionContext = kDecrypt | kEncrypt | kGenerateDataKey |
                                                   kGenerateDataKeyWithoutPlaintext | kReEncryptFrom | kReEncryptTo |
                                                   kGenerateDataKeyPair | kGenerateDataKeyPairWithoutPlaintext;
}  // namespace grant_op
using GrantOps = uint32_t;

// The bit of a GrantOperation name (exact, case-sensitive), or 0 if it names none.
GrantOps GrantOpFromName(std::string_view name);
// The names of the operations in `ops`, in the API's enum order.
std::vector<std::string_view> GrantOpNames(GrantOps ops);

enum class ConstraintType : uint8_t { kNone, kEncryptionContextSubset, kEncryptionContextEquals };
// "EncryptionContextSubset" / "EncryptionContextEquals" (the kms:GrantConstraintType values); "" for kNone.
std::string_view ConstraintTypeName(ConstraintType type);

struct GrantConstraint {
  ConstraintType type = ConstraintType::kNone;
  EncryptionContext pairs;  // sorted by key

  // Whether a request's encryption context satisfies the constraint. Subset: every constraint
  // pair is in the request (other pairs may be present). Equals: the request has exactly the
  // constraint's pairs. kNone: always.
  bool AllowsContext(const EncryptionContext& request) const;
  // Whether a grant created through a grant with this constraint may carry `child`: "equally
  // strict or stricter" (Developer Guide, "Granting CreateGrant permission"): under Subset the
  // child keeps every pair, as Subset or Equals; under Equals the child is the same Equals.
  bool PermitsChild(const GrantConstraint& child) const;
  bool operator==(const GrantConstraint& other) const;
};

struct Grant {
  std::string key_id;
  std::string key_arn;   // the ListGrants KeyId member
  std::string grant_id;  // 64 lowercase hex digits
  std::string name;      // "" when the request gave none
  int64_t creation_ms = 0;
  std::string grantee_principal;
  std::string retiring_principal;  // "" when none
  std::string issuing_account;     // "arn:<partition>:iam::<account>:root"
  GrantOps operations = 0;
  GrantConstraint constraint;

  bool allows(GrantOps op) const { return (operations & op) == op; }
  // Same grantee, retiring principal, operations and constraint (CreateGrant's Name
  // idempotence: "you can retry a CreateGrant request with identical parameters").
  bool SameParameters(const Grant& other) const;

  std::string Serialize() const;
  static Result<Grant> Parse(std::string_view json);
  // A GrantListEntry (ListGrants, ListRetirableGrants).
  void WriteListEntry(JsonWriter& w) const;
};

// The storage row key of a grant: "<key id>/<grant id>" (a key's grants share the prefix).
std::string GrantRowKey(std::string_view key_id, std::string_view grant_id);
std::string GrantRowPrefix(std::string_view key_id);

std::string NewGrantId();
bool LooksLikeGrantId(std::string_view s);

}  // namespace meridian::kms
