#include "iam/authorizer.h"
#include "iam/policy/evaluator.h"
#include "iam/policy/request_context.h"

namespace meridian::iam {

Status PolicyAuthorizer::Authorize(const AuthorizationRequest& request, AuthorizationResult* result) const {
  AuthorizationResult local;
  AuthorizationResult& out = result ? *result : local;
  if (request.principal_account.empty() || request.principal_arn.empty()) {
    out.decision = "ImplicitDeny";
    return errors::AccessDenied("User is not authorized to perform: " + request.action +
                                " because the request has no authenticated principal");
  }
  const bool root = request.principal_arn == "arn:" + request.partition + ":iam::" + request.principal_account + ":root";
  if (!root) {
    out.decision = "ImplicitDeny";
    return errors::AccessDenied("User: " + request.principal_arn + " is not authorized to perform: " + request.action +
                                " because no identity-based policy allows the " + request.action + " action");
  }
  if (!request.resource_policy) {
    // No resource policy: the root user of the account may act on its own account's resources.
    out.decision = "Allow";
    out.policy = "account-root";
    return Status::Ok();
  }
  policy::RequestContext ctx(policy::Principal::Root(request.partition, request.principal_account), request.action,
                             request.resource_arn.empty() ? "*" : request.resource_arn);
  ctx.Set("aws:RequestedRegion", request.region);
  if (!request.source_vpce.empty())
    ctx.Set("aws:SourceVpce", request.source_vpce);
  else if (!request.source_ip.empty())
    ctx.Set("aws:SourceIp", request.source_ip);
  ctx.Set("aws:SecureTransport", request.secure_transport ? "true" : "false");
  if (request.now_ms) ctx.SetRequestTime(request.now_ms);
  for (const auto& [k, v] : request.context) ctx.Add(k, v);
  policy::PolicySet set;
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
  out.decision = d.decision == policy::EvalDecision::kExplicitDeny ? "Deny" : "ImplicitDeny";
  return policy::AccessDeniedStatus(ctx, d);
}

}  // namespace meridian::iam
