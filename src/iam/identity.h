// Identity: what the authorizer needs to know about the principal behind one access key,
// compiled once (policies parsed, principal built) and shared read-only.
//
// Directory::IdentityFor builds it from storage and caches it per access key; every write that
// could change it (policies, attachments, group membership, boundaries, tags, key status, role
// deletion) drops the cache, so a request never sees an identity older than the last write made
// through this process.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iam/policy/policy.h"
#include "iam/policy/request_context.h"

namespace meridian::iam {

struct Identity {
  enum class Kind : uint8_t {
    kRoot,         // the account's root credentials: no identity policies needed
    kUser,         // an IAM user's long-term access key
    kRoleSession,  // AssumeRole credentials (ASIA...)
    kUserSession,  // GetSessionToken credentials (ASIA...): the user's permissions
  };
  Kind kind = Kind::kRoot;
  // The principal the evaluator sees (ARN, account, user id, tags: IAM user tags, or the
  // session's tags for role sessions).
  std::shared_ptr<const policy::Principal> principal;
  // Identity-based policies: the user's inline and attached policies plus those of its groups,
  // or the role's inline and attached policies.
  std::vector<policy::PolicyPtr> policies;
  policy::PolicyPtr permissions_boundary;  // null when none
  // Role sessions: the inline session policy and the PolicyArns given to AssumeRole.
  std::vector<policy::PolicyPtr> session_policies;
  bool temporary = false;                          // STS credentials (aws:MultiFactorAuthPresent is then present)
  std::optional<int64_t> mfa_authenticated_at;     // epoch seconds of the MFA check, if any
  std::optional<int64_t> expires_at;               // temporary credentials' expiry, epoch seconds
  // Role sessions: tag keys that pass on to sessions this session assumes (role chaining).
  std::vector<std::string> transitive_tag_keys;
  std::string user_name;       // kUser / kUserSession
  std::string role_name;       // kRoleSession
  std::string session_name;    // kRoleSession
};

using IdentityPtr = std::shared_ptr<const Identity>;

}  // namespace meridian::iam
