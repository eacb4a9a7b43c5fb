#include "iam/authorizer.h"
#include "iam/directory.h"
#include "iam/policy/evaluator.h"
#include "iam/policy/request_context.h"

namespace meridian::iam {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// GetSessionToken credentials (IAM User Guide, "Comparing the AWS STS API operations"): they
// cannot call IAM unless MFA authenticated them, and of STS only AssumeRole and
// GetCallerIdentity.
bool SessionTokenForbids(const Identity& identity, std::string_view action) {
  if (identity.kind != Identity::Kind::kUserSession) return false;
  if (StartsWith(action, "iam:")) return !identity.mfa_authenticated_at.has_value();
  if (StartsWith(action, "sts:")) return action != "sts:AssumeRole" && action != "sts:GetCallerIdentity";
  return false;
}

}  // namespace

Status PolicyAuthorizer::Authorize(const AuthorizationRequest& request, AuthorizationResult* result) const {
  AuthorizationResult local;
  AuthorizationResult& out = result ? *result : local;
  if (request.principal_account.empty() || request.principal_arn.empty()) {
    out.decision = "ImplicitDeny";
    return errors::AccessDenied("User is not authorized to perform: " + request.action +
                                " because the request has no authenticated principal");
  }
  // "No permissions are required to perform this operation" (STS API Reference,
  // GetCallerIdentity): even an explicit deny cannot stop it.
  if (request.action == "sts:GetCallerIdentity") {
    out.decision = "Allow";
    out.policy = "sts:GetCallerIdentity needs no permission";
    return Status::Ok();
  }

  IdentityPtr identity;
  if (directory_ && !request.access_key_id.empty()) identity = directory_->IdentityFor(request.access_key_id);
  std::shared_ptr<const policy::Principal> principal;
  if (identity) {
    principal = identity->principal;
  } else {
    const bool root =
        request.principal_arn == "arn:" + request.partition + ":iam::" + request.principal_account + ":root";
    if (!root) {
      out.decision = "ImplicitDeny";
      return errors::AccessDenied("User: " + request.principal_arn + " is not authorized to perform: " +
                                  request.action + " because no identity-based policy allows the " + request.action +
                                  " action");
    }
    principal = std::make_shared<const policy::Principal>(
        policy::Principal::Root(request.partition, request.principal_account));
  }
  const bool is_root = principal->type == policy::PrincipalType::kRoot;
  const bool same_account = request.resource_account.empty() || request.resource_account == request.principal_account;
  if (is_root && !request.resource_policy && same_account) {
    // The account root user has full access to its own account's resources that carry no policy.
    out.decision = "Allow";
    out.policy = "account-root";
    return Status::Ok();
  }

  policy::RequestContext ctx(principal, request.action, request.resource_arn.empty() ? "*" : request.resource_arn);
  if (identity && SessionTokenForbids(*identity, request.action)) {
    out.decision = "ImplicitDeny";
    return errors::AccessDenied("User: " + principal->arn + " is not authorized to perform: " + request.action +
                                " with credentials from GetSessionToken" +
                                (StartsWith(request.action, "iam:") ? " without MFA authentication" : ""));
  }
  ctx.Set("aws:RequestedRegion", request.region);
  if (!request.source_vpce.empty())
    ctx.Set("aws:SourceVpce", request.source_vpce);
  else if (!request.source_ip.empty())
    ctx.Set("aws:SourceIp", request.source_ip);
  ctx.Set("aws:SecureTransport", request.secure_transport ? "true" : "false");
  if (request.now_ms) ctx.SetRequestTime(request.now_ms);
  if (identity && identity->temporary) {
    // Present only for temporary credentials (IAM User Guide, aws:MultiFactorAuthPresent).
    ctx.Set("aws:MultiFactorAuthPresent", identity->mfa_authenticated_at ? "true" : "false");
    if (identity->mfa_authenticated_at) {
      const int64_t age = std::max<int64_t>(0, request.now_ms / 1000 - *identity->mfa_authenticated_at);
      ctx.Set("aws:MultiFactorAuthAge", std::to_string(age));
    }
  }
  if (!request.via_service.empty()) ctx.Set("kms:ViaService", request.via_service);
  // The service's keys replace what the identity implied for the same key (e.g. AssumeRole with
  // a valid TokenCode sets aws:MultiFactorAuthPresent); repeated keys are multivalued.
  for (size_t i = 0; i < request.context.size(); ++i) {
    const auto& [k, v] = request.context[i];
    bool first = true;
    for (size_t j = 0; j < i && first; ++j) first = request.context[j].first != k;
    if (first)
      ctx.Set(k, v);
    else
      ctx.Add(k, v);
  }

  if (!request.unknown_key_prefixes.empty()) ctx.AssumeUnknownKeys(request.unknown_key_prefixes, &out.assumed_keys);
  policy::PolicySet set;
  if (identity) {
    set.identity = identity->policies;
    set.permissions_boundary = identity->permissions_boundary.get();
    set.session = identity->session_policies;
  }
  set.resource = request.resource_policy.get();
  set.resource_kind = request.resource_policy_kind;
  set.resource_account = request.resource_account;
  policy::Decision d = policy::Evaluate(ctx, set);
  const auto matched = d.matched_statements();
  if (!matched.empty()) {
    const auto& m = matched.front();
    out.matched_statement = m.sid().empty() ? "Statement " + std::to_string(m.statement_index) : m.sid();
    out.policy = m.policy_id();
  }
  if (d.decision == policy::EvalDecision::kAllowed) {
    out.decision = "Allow";
    return Status::Ok();
  }
  if (d.decision == policy::EvalDecision::kImplicitDeny && !request.allowing_grant_id.empty()) {
    // A grant allows what the policies alone do not (KMS Developer Guide, "Grants in AWS KMS");
    // an explicit deny above still wins.
    out.decision = "Allow";
    out.policy = "grant:" + request.allowing_grant_id;
    out.matched_statement.clear();
    return Status::Ok();
  }
  out.decision = d.decision == policy::EvalDecision::kExplicitDeny ? "Deny" : "ImplicitDeny";
  return policy::AccessDeniedStatus(ctx, d);
}

}  // namespace meridian::iam
