#include "iam/policy/evaluator.h"

namespace meridian::iam::policy {

namespace {

// Matched statements of one kind (Allow or Deny), without allocating.
struct Matches {
  std::array<MatchedStatement, Decision::kMaxMatched> items{};
  size_t count = 0;
  bool truncated = false;

  void Add(const Policy* policy, uint32_t index, PolicyType type, Effect effect) {
    if (count == items.size()) {
      truncated = true;
      return;
    }
    items[count++] = MatchedStatement{policy, index, type, effect};
  }
};

struct Scan {
  bool allow = false;
  bool deny = false;
  // Resource policies: which principal forms granted the caller.
  bool grant_account = false, grant_issuer = false, grant_direct = false;
};

Scan ScanPolicy(const Policy* policy, PolicyType type, const RequestContext& context, bool has_boundary,
                Matches& allows, Matches& denies) {
  Scan scan;
  if (!policy) return scan;
  for (size_t i = 0; i < policy->statement_count(); ++i) {
    const Statement& s = policy->statement(i);
    StatementMatch m = MatchStatement(s, context, has_boundary);
    if (!m.applies) continue;
    if (s.effect == Effect::kDeny) {
      scan.deny = true;
      denies.Add(policy, s.index, type, s.effect);
      continue;
    }
    if (type == PolicyType::kResource) {
      // A statement without Principal grants nobody in a resource-based policy (such a document
      // should have been parsed as PolicyKind::kResource, which requires one).
      if (!s.has_principal) continue;
      scan.grant_account = scan.grant_account || m.principal == PrincipalMatch::kAccount;
      scan.grant_issuer = scan.grant_issuer || m.principal == PrincipalMatch::kSessionIssuer;
      scan.grant_direct = scan.grant_direct || m.principal == PrincipalMatch::kDirect;
    }
    scan.allow = true;
    allows.Add(policy, s.index, type, s.effect);
  }
  return scan;
}

Scan ScanAll(std::span<const PolicyPtr> policies, PolicyType type, const RequestContext& context, bool has_boundary,
             Matches& allows, Matches& denies) {
  Scan all;
  for (const PolicyPtr& p : policies) {
    Scan s = ScanPolicy(p.get(), type, context, has_boundary, allows, denies);
    all.allow = all.allow || s.allow;
    all.deny = all.deny || s.deny;
  }
  return all;
}

void Fill(Decision& d, const Matches& m) {
  d.matched = m.items;
  d.matched_count = m.count;
  d.matched_truncated = m.truncated;
}

}  // namespace

std::string_view EvalDecisionName(EvalDecision decision) {
  switch (decision) {
    case EvalDecision::kAllowed: return "allowed";
    case EvalDecision::kExplicitDeny: return "explicitDeny";
    case EvalDecision::kImplicitDeny: return "implicitDeny";
  }
  return "implicitDeny";
}

const std::string& MatchedStatement::sid() const { return policy->statement(statement_index).sid; }

Decision Evaluate(const RequestContext& context, const PolicySet& policies) {
  Decision d;
  d.resource_kind = policies.resource_kind;
  const bool has_boundary = policies.permissions_boundary != nullptr;
  Matches allows, denies;

  Scan identity = ScanAll(policies.identity, PolicyType::kIdentity, context, has_boundary, allows, denies);
  Scan resource = ScanPolicy(policies.resource, PolicyType::kResource, context, has_boundary, allows, denies);
  Scan boundary = ScanPolicy(policies.permissions_boundary, PolicyType::kPermissionsBoundary, context, has_boundary,
                             allows, denies);
  Scan session = ScanAll(policies.session, PolicyType::kSession, context, has_boundary, allows, denies);

  // 1. Explicit deny anywhere. The message names one policy type (the first in this order).
  if (identity.deny || resource.deny || boundary.deny || session.deny) {
    d.decision = EvalDecision::kExplicitDeny;
    d.deciding_type = identity.deny   ? PolicyType::kIdentity
                      : resource.deny ? PolicyType::kResource
                      : boundary.deny ? PolicyType::kPermissionsBoundary
                                      : PolicyType::kSession;
    Fill(d, denies);
    return d;
  }

  // 2. The identity side.
  const Principal& caller = context.principal();
  const bool has_identity = caller.type == PrincipalType::kRoot || caller.type == PrincipalType::kUser ||
                            caller.type == PrincipalType::kAssumedRole ||
                            caller.type == PrincipalType::kFederatedUser;
  const bool is_session = caller.type == PrincipalType::kAssumedRole || caller.type == PrincipalType::kFederatedUser;
  const bool identity_allows = identity.allow || caller.type == PrincipalType::kRoot;
  const bool boundary_allows = !has_boundary || boundary.allow;
  const bool session_allows =
      !is_session || (policies.session.empty() ? caller.type == PrincipalType::kAssumedRole : session.allow);
  const bool identity_side = identity_allows && boundary_allows && session_allows;
  auto identity_gap = [&] {
    return !identity_allows   ? PolicyType::kIdentity
           : !boundary_allows ? PolicyType::kPermissionsBoundary
                              : PolicyType::kSession;
  };
  const bool any_grant = resource.grant_account || resource.grant_issuer || resource.grant_direct;
  const bool required = policies.resource_kind != ResourcePolicyKind::kResourceBased;

  bool allowed = false;
  PolicyType gap = PolicyType::kResource;
  if (!has_identity) {
    // 6. Service principals, identity providers, anonymous callers.
    allowed = resource.grant_direct;
  } else if (!policies.resource_account.empty() && policies.resource_account != caller.account) {
    // 5. Cross-account: both sides.
    allowed = identity_side && any_grant;
    gap = !identity_side ? identity_gap() : PolicyType::kResource;
  } else {
    // 3 and 4. Same account.
    const bool direct = resource.grant_direct;
    const bool issuer = resource.grant_issuer && boundary_allows && session_allows;
    if (required) {
      allowed = direct || issuer || (resource.grant_account && identity_side);
    } else {
      allowed = identity_side || direct || issuer;
    }
    if (required && !any_grant) {
      gap = PolicyType::kResource;
    } else if (resource.grant_issuer) {  // the grant to the role was cut by a boundary or session policy
      gap = !boundary_allows ? PolicyType::kPermissionsBoundary : PolicyType::kSession;
    } else {
      gap = identity_gap();
    }
  }

  if (allowed) {
    d.decision = EvalDecision::kAllowed;
    Fill(d, allows);
  } else {
    d.decision = EvalDecision::kImplicitDeny;
    d.deciding_type = gap;
  }
  return d;
}

std::string AccessDeniedMessage(const RequestContext& context, const Decision& decision) {
  std::string_view type;
  switch (decision.deciding_type) {
    case PolicyType::kIdentity: type = "identity-based policy"; break;
    case PolicyType::kResource:
      type = decision.resource_kind == ResourcePolicyKind::kRoleTrustPolicy ? "role trust policy"
                                                                             : "resource-based policy";
      break;
    case PolicyType::kPermissionsBoundary: type = "permissions boundary"; break;
    case PolicyType::kSession: type = "session policy"; break;
  }
  const Principal& p = context.principal();
  std::string who = p.arn.empty() ? "anonymous" : p.arn;
  std::string action(context.action()), resource(context.resource());
  std::string msg = "User: " + who + " is not authorized to perform: " + action;
  if (!resource.empty() && resource != "*") msg += " on resource: " + resource;
  if (decision.decision == EvalDecision::kExplicitDeny) {
    std::string_view article = type == "role trust policy" ? "the " : type.front() == 'i' ? "an " : "a ";
    msg += " with an explicit deny in " + std::string(article) + std::string(type);
  } else {
    msg += " because no " + std::string(type) + " allows the " + action + " action";
  }
  return msg;
}

Status AccessDeniedStatus(const RequestContext& context, const Decision& decision) {
  return errors::AccessDenied(AccessDeniedMessage(context, decision));
}

}  // namespace meridian::iam::policy
