// GrantSet: the grants of one key, cached with the key (LoadedKey::grants) and indexed for the
// authorization hot path: does a grant let this caller perform this operation with this
// encryption context? Immutable once built; a change to a key's grants replaces the whole set
// (KeyStore::Invalidate), so readers never lock.
//
// Grantee matching (AWS KMS Developer Guide, "Grants in AWS KMS", grantee principal): a grant
// names its grantee by ARN. The caller matches when its principal ARN is the grantee, or when
// the caller is an assumed-role session (arn:<p>:sts::<account>:assumed-role/<role>/<session>)
// and the grantee is that role (arn:<p>:iam::<account>:role/[<path>/]<role>): AWS evaluates a
// role session as its role. A grant to an account (arn:<p>:iam::<account>:root) matches only
// that account's root credentials: other identities of the account would need an IAM policy
// that delegates it, which a grant alone does not give.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kms/grant.h"

namespace meridian::kms {

class GrantSet {
 public:
  GrantSet() = default;
  explicit GrantSet(std::vector<Grant> grants);

  const std::vector<Grant>& all() const { return grants_; }  // sorted by grant id
  size_t size() const { return grants_.size(); }
  const Grant* Find(std::string_view grant_id) const;
  // The number of grants whose grantee principal is exactly `grantee`.
  size_t CountForGrantee(const std::string& grantee) const;

  // The first grant (by grant id) whose grantee matches `caller_arn`, that allows every
  // operation in `ops`, and whose constraint holds for `context` when `ops` take an encryption
  // context (constraints do not apply to DescribeKey, RetireGrant or CreateGrant). Null if none.
  const Grant* FindAllowing(std::string_view caller_arn, GrantOps ops, const EncryptionContext& context) const;
  // CreateGrant through a grant: the parent allows CreateGrant and every operation of the child
  // grant, and its constraint permits the child's (GrantConstraint::PermitsChild).
  const Grant* FindAllowingCreateGrant(std::string_view caller_arn, GrantOps child_ops,
                                       const GrantConstraint& child_constraint) const;
  // The grants whose grantee matches `caller_arn`, in grant id order.
  std::vector<const Grant*> ForCaller(std::string_view caller_arn) const;

 private:
  std::vector<Grant> grants_;
  std::unordered_map<std::string, std::vector<size_t>> by_grantee_;  // exact grantee ARN -> indexes
  std::unordered_map<std::string, std::vector<size_t>> by_role_;     // RoleKey -> role grantees' indexes
};

// "<partition>|<account>|<role name>" for a role ARN (arn:<p>:iam::<a>:role/[path/]<name>) or an
// assumed-role session ARN (arn:<p>:sts::<a>:assumed-role/<name>/<session>); "" for other ARNs.
std::string RoleKeyOfRoleArn(std::string_view arn);
std::string RoleKeyOfSessionArn(std::string_view arn);
// Whether the caller is the principal a grant names (grantee or retiring principal), by the rule
// above: the same ARN, or a session of the named role.
bool CallerIsPrincipal(std::string_view principal, std::string_view caller_arn);

}  // namespace meridian::kms
