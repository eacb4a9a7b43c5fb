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
#include "iam/policy/evaluator.h"
#include "iam/policy/policy.h"

namespace meridian::iam {

struct AuthorizationRequest {
  std::string partition = "aws";
  std::string principal_arn;
  std::string principal_account;
  // The credential that signed the request: the authorizer resolves the identity behind it (user,
  // role session, groups, policies, boundary, session policies and tags, MFA) from its directory.
  std::string access_key_id;
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
  policy::ResourcePolicyKind resource_policy_kind = policy::ResourcePolicyKind::kResourceBased;
  // Service condition keys (kms:EncryptionContext:<k>, kms:EncryptionContextKeys, ...).
  std::vector<std::pair<std::string, std::string>> context;
  // Set by the service (KMS) when one of the resource's grants names the caller as grantee,
  // includes this operation and has its constraints met: the grant's id. A grant allows what
  // the policies alone do not; an explicit Deny still wins.
  std::string allowing_grant_id;
  // kms:ViaService, for calls that Meridian's own services make on a caller's behalf
  // ("secretsmanager.<region>.amazonaws.com"); empty for direct calls.
  std::string via_service;
  // What-if analysis only (blast radius; empty on the request path): lower-case prefixes of
  // condition keys whose value cannot be known; see policy::RequestContext::AssumeUnknownKeys.
  std::vector<std::string> unknown_key_prefixes;
};

// What a service tells the pipeline about the resource a request acts on (see ApiService).
struct AuthorizationResource {
  std::string arn;
  std::string account_id;  // the resource owner
  policy::PolicyPtr policy;  // null when the resource has none
  policy::ResourcePolicyKind policy_kind = policy::ResourcePolicyKind::kResourceBased;
  std::vector<std::pair<std::string, std::string>> context;  // service condition keys
  std::string allowing_grant_id;  // see AuthorizationRequest::allowing_grant_id
  // The IAM action to authorize on this resource when it is not "<prefix>:<Operation>" (ReEncrypt
  // is authorized as kms:ReEncryptTo on the destination key).
  std::string action;
  // Further resources the same request acts on, each authorized with its own action; every one
  // must allow (ReEncrypt: kms:ReEncryptFrom on the source key).
  std::vector<AuthorizationResource> also_required;
};

struct AuthorizationResult {
  std::string decision = "NotEvaluated";  // "Allow", "Deny" (explicit), "ImplicitDeny"
  std::string matched_statement;          // the deciding statement's Sid or index
  std::string policy;                     // which policy held it
  // With unknown_key_prefixes: the unknown condition keys assumed met by the Allow statements
  // evaluated (lower case).
  std::vector<std::string> assumed_keys;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK to proceed, or AccessDeniedException saying who, what, on which resource and why.
  virtual Status Authorize(const AuthorizationRequest& request, AuthorizationResult* result = nullptr) const = 0;
};

class Directory;

// AWS's evaluation logic (iam/policy/evaluator.h). With a Directory, the request's access key is
// resolved to its identity (root; IAM user with its own and its groups' inline and attached
// policies and permissions boundary; role session with the role's policies, boundary, session
// policies, session tags and MFA; GetSessionToken session with the user's) and the request
// context gets aws:PrincipalTag/*, aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge
// (present for temporary credentials), aws:RequestedRegion, aws:SourceIp or aws:SourceVpce,
// aws:SecureTransport, aws:CurrentTime / aws:EpochTime, kms:ViaService and the service's keys.
// A grant (allowing_grant_id) turns an implicit deny into "Allow" (policy "grant:<id>"); an
// explicit deny still wins. Identities are cached by the Directory: no storage read and no
// policy compilation per request once warm.
//
// Without a Directory (the default constructor) only the account root is known, as before:
// root may act unless the resource's policy denies or (key policies) fails to allow.
class PolicyAuthorizer final : public Authorizer {
 public:
  PolicyAuthorizer() = default;
  explicit PolicyAuthorizer(Directory* directory) : directory_(directory) {}
  Status Authorize(const AuthorizationRequest& request, AuthorizationResult* result = nullptr) const override;

 private:
  Directory* directory_ = nullptr;
};

}  // namespace meridian::iam
