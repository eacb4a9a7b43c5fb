// Authorizer: the decision step between authentication and the operation.
//
// The server asks, for every authenticated request, whether the caller may perform the action
// (e.g. "kms:Encrypt") on the resource the request names, given the resource's policy (a KMS key
// policy) and the request's context (region, source IP or VPC endpoint, encryption context ...).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "iam/policy/policy.h"

namespace meridian::iam {

struct AuthorizationRequest {
  std::string partition = "aws";
  std::string principal_arn;
  std::string principal_account;
  std::string action;  // "kms:Encrypt"
  std::string region;  // aws:RequestedRegion
  std::string source_ip;
  std::string source_vpce;  // the listener's endpoint id, if any (then aws:SourceIp is absent)
  bool secure_transport = false;
  int64_t now_ms = 0;
  // The resource the request acts on ("" when none, e.g. ListKeys) and its policy.
  std::string resource_arn;
  std::string resource_account;
  policy::PolicyPtr resource_policy;
  bool resource_policy_is_key_policy = false;
  // Service condition keys (kms:EncryptionContext:<k>, kms:EncryptionContextKeys, ...).
  std::vector<std::pair<std::string, std::string>> context;
};

struct AuthorizationResult {
  std::string decision = "NotEvaluated";  // "Allow", "Deny" (explicit), "ImplicitDeny"
  std::string matched_statement;          // the deciding statement's Sid or index
  std::string policy;                     // which policy held it
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK to proceed, or AccessDeniedException saying who, what, on which resource and why.
  virtual Status Authorize(const AuthorizationRequest& request, AuthorizationResult* result = nullptr) const = 0;
};

// AWS's evaluation logic over what Meridian knows today: the account's root credentials (no
// identity policies needed) and the resource's policy (a key policy must allow, directly or by
// delegating to the account; an explicit Deny anywhere wins).
class PolicyAuthorizer final : public Authorizer {
 public:
  Status Authorize(const AuthorizationRequest& request, AuthorizationResult* result = nullptr) const override;
};

}  // namespace meridian::iam
