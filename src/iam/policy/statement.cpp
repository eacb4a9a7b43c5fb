#include "iam/policy/statement.h"

#include <algorithm>

#include "iam/policy/request_context.h"

namespace meridian::iam::policy {

namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
}

// True when every link of the caller's chain is listed, i.e. the caller escapes NotPrincipal.
bool ChainListed(const PrincipalSpec& spec, const Principal& p) {
  if (spec.any) return true;
  switch (p.type) {
    case PrincipalType::kAnonymous:
      return false;
    case PrincipalType::kRoot:
      return Contains(spec.accounts, p.account);
    case PrincipalType::kUser:
    case PrincipalType::kFederatedUser:
      return Contains(spec.accounts, p.account) && Contains(spec.arns, p.arn);
    case PrincipalType::kAssumedRole:
      return Contains(spec.accounts, p.account) && Contains(spec.arns, p.role_arn) && Contains(spec.arns, p.arn);
    case PrincipalType::kService:
      return Contains(spec.services, p.service);
    case PrincipalType::kFederated:
      return Contains(spec.providers, p.provider);
  }
  return false;
}

}  // namespace

PrincipalMatch MatchPrincipal(const PrincipalSpec& spec, const Principal& p) {
  if (spec.any) return PrincipalMatch::kDirect;
  switch (p.type) {
    case PrincipalType::kAnonymous:
      return PrincipalMatch::kNone;
    case PrincipalType::kRoot:
      return Contains(spec.accounts, p.account) ? PrincipalMatch::kAccount : PrincipalMatch::kNone;
    case PrincipalType::kUser:
      if (Contains(spec.arns, p.arn)) return PrincipalMatch::kDirect;
      return Contains(spec.accounts, p.account) ? PrincipalMatch::kAccount : PrincipalMatch::kNone;
    case PrincipalType::kAssumedRole:
      if (Contains(spec.arns, p.arn)) return PrincipalMatch::kDirect;
      if (Contains(spec.arns, p.role_arn)) return PrincipalMatch::kSessionIssuer;
      return Contains(spec.accounts, p.account) ? PrincipalMatch::kAccount : PrincipalMatch::kNone;
    case PrincipalType::kFederatedUser:
      if (Contains(spec.arns, p.arn)) return PrincipalMatch::kDirect;
      if (Contains(spec.arns, p.source_user_arn)) return PrincipalMatch::kSessionIssuer;
      return Contains(spec.accounts, p.account) ? PrincipalMatch::kAccount : PrincipalMatch::kNone;
    case PrincipalType::kService:
      return Contains(spec.services, p.service) ? PrincipalMatch::kDirect : PrincipalMatch::kNone;
    case PrincipalType::kFederated:
      return Contains(spec.providers, p.provider) ? PrincipalMatch::kDirect : PrincipalMatch::kNone;
  }
  return PrincipalMatch::kNone;
}

StatementMatch MatchStatement(const Statement& s, const RequestContext& context, bool has_boundary) {
  StatementMatch out;
  // Action first: cheapest and most selective.
  bool action = false;
  for (const Pattern& pattern : s.actions) {
    if (pattern.Match(context.action_lower(), /*ignore_case=*/false, nullptr) == MatchResult::kMatch) {
      action = true;
      break;
    }
  }
  if (action == s.not_action) return out;

  if (s.has_resource) {
    if (s.resource_variables) {  // an unresolvable variable makes the statement invalid
      for (const ArnPattern& pattern : s.resources)
        if (!pattern.Resolvable(&context)) return out;
    }
    bool resource = false;
    for (const ArnPattern& pattern : s.resources) {
      if (pattern.Match(context.resource(), &context) == MatchResult::kMatch) {
        resource = true;
        break;
      }
    }
    if (resource == s.not_resource) return out;
  }

  out.principal = PrincipalMatch::kDirect;
  if (s.has_principal) {
    const Principal& caller = context.principal();
    if (s.not_principal) {
      bool escapes = ChainListed(s.principal, caller) && !(s.effect == Effect::kDeny && has_boundary);
      if (escapes) return out;
    } else {
      out.principal = MatchPrincipal(s.principal, caller);
      if (out.principal == PrincipalMatch::kNone) return out;
    }
  }

  for (const Condition& condition : s.conditions) {
    // What-if analysis only (RequestContext::AssumeUnknownKeys): an unknowable key helps an
    // Allow and never lets a Deny apply.
    if (context.assumes_unknown_keys() && context.AssumeIfUnknown(condition.key())) {
      if (s.effect == Effect::kDeny) return out;
      continue;
    }
    if (condition.Evaluate(context) != Condition::Outcome::kTrue) return out;
  }
  out.applies = true;
  return out;
}

}  // namespace meridian::iam::policy
