// Evaluate: AWS's policy evaluation logic over compiled policies.
//
// IAM User Guide, "Policy evaluation logic" ("Determining whether a request is allowed or denied
// within an account") and "Cross-account policy evaluation logic":
//  1. An explicit Deny in any applicable policy (identity-based, resource-based, permissions
//     boundary, session) wins: kExplicitDeny.
//  2. Otherwise the request needs an Allow. Identity side = an identity-based policy allows (the
//     account root user needs none: "all requests are implicitly denied with the exception of the
//     AWS account root user, which has full access") AND the permissions boundary, if any, allows
//     AND, for session principals, the session policies allow (a role session without session
//     policies passes; a federated-user session without one does not).
//  3. Same account, resource policy optional (ResourcePolicyKind::kResourceBased): allowed when
//     the identity side allows, or the resource policy grants the caller directly (its user or
//     session ARN, "*"), or grants the caller's role / federating user while the boundary and
//     session policies allow ("Resource-based policies" table). A grant to the account is a
//     delegation: it needs the identity side.
//  4. Same account, kKeyPolicy / kRoleTrustPolicy: "IAM role trust policies and KMS key policies
//     are exceptions ... because they must explicitly allow access for principals": the identity
//     side counts only through a statement that grants the account (the key policy's
//     account-root statement "enables IAM policies"); direct grants count as in 3.
//  5. Cross-account (the caller's account differs from resource_account): both sides must allow:
//     the identity side and some resource policy Allow for the caller (any principal form).
//  6. Service principals and anonymous callers have no identity side: only a resource policy
//     grant allows them.
//
// Thread-safe: policies are immutable, the function keeps no state and allocates nothing on the
// way to a decision.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "iam/policy/policy.h"
#include "iam/policy/request_context.h"
#include "iam/policy/statement.h"

namespace meridian::iam::policy {

enum class ResourcePolicyKind : uint8_t {
  kResourceBased,    // e.g. a secret's resource policy: optional, ORed with identity policies
  kKeyPolicy,        // a KMS key policy: required; the account statement enables IAM policies
  kRoleTrustPolicy,  // a role trust policy (sts:AssumeRole*): required, like a key policy
};

// The policies that apply to one request. Pointers must outlive the call.
struct PolicySet {
  std::span<const PolicyPtr> identity;        // the caller's user+group or role policies
  const Policy* permissions_boundary = nullptr;
  std::span<const PolicyPtr> session;         // session policies the credentials carry (if any)
  const Policy* resource = nullptr;           // key policy / resource policy / trust policy
  ResourcePolicyKind resource_kind = ResourcePolicyKind::kResourceBased;
  std::string_view resource_account;          // the resource owner; empty = the caller's account
};

enum class EvalDecision : uint8_t { kAllowed, kExplicitDeny, kImplicitDeny };
std::string_view EvalDecisionName(EvalDecision decision);  // "allowed", "explicitDeny", "implicitDeny"

enum class PolicyType : uint8_t { kIdentity, kResource, kPermissionsBoundary, kSession };

struct MatchedStatement {
  const Policy* policy = nullptr;
  uint32_t statement_index = 0;  // from 0
  PolicyType type = PolicyType::kIdentity;
  Effect effect = Effect::kAllow;

  const std::string& policy_id() const { return policy->id(); }
  const std::string& sid() const;
};

struct Decision {
  static constexpr size_t kMaxMatched = 16;

  EvalDecision decision = EvalDecision::kImplicitDeny;
  // For denials: the policy type with the explicit deny, or the one whose missing Allow decided.
  PolicyType deciding_type = PolicyType::kIdentity;
  ResourcePolicyKind resource_kind = ResourcePolicyKind::kResourceBased;
  // Explicit deny: the Deny statements that matched. Allowed: the Allow statements that matched.
  std::array<MatchedStatement, kMaxMatched> matched{};
  size_t matched_count = 0;
  bool matched_truncated = false;  // more than kMaxMatched statements matched

  bool allowed() const { return decision == EvalDecision::kAllowed; }
  std::span<const MatchedStatement> matched_statements() const { return {matched.data(), matched_count}; }
};

Decision Evaluate(const RequestContext& context, const PolicySet& policies);

// AWS's AccessDeniedException message (IAM User Guide, "Troubleshooting access denied error
// messages"): "User: <arn> is not authorized to perform: <action> on resource: <resource>
// because no identity-based policy allows the <action> action", or "... with an explicit deny in
// a resource-based policy" (types: identity-based policy, resource-based policy, permissions
// boundary, session policy; "role trust policy" for trust policies). "on resource:" is omitted
// when the resource is "*".
std::string AccessDeniedMessage(const RequestContext& context, const Decision& decision);

// errors::AccessDenied(AccessDeniedMessage(...)).
Status AccessDeniedStatus(const RequestContext& context, const Decision& decision);

}  // namespace meridian::iam::policy
