// Statement: the compiled form of one policy statement, and whether it applies to a request.
//
// A statement applies when its Action/NotAction, Resource/NotResource, Principal/NotPrincipal
// and every Condition entry match (IAM User Guide, "IAM JSON policy element reference"; entries
// of one Condition block are ANDed). Matching rules:
//  - "Action": case-insensitive, '*' and '?' wildcards; NotAction matches every other action.
//  - "Resource": per-ARN-segment wildcards (see arn.h), variables in the resource part;
//    NotResource matches every other resource. A trust policy statement may omit both.
//  - "Principal": "*" (or {"AWS": "*"}) is everyone, anonymous included; an account id or
//    arn:...:iam::<account>:root is every principal of that account (a delegation to the
//    account); a role ARN matches that role's sessions; user, assumed-role session and
//    federated-user ARNs match exactly (no partial wildcards, which the parser rejects);
//    {"Service": ...} and {"Federated": ...} match service principals and identity providers.
//  - "NotPrincipal": AWS may check "the account first, then the role, and then the assumed-role
//    user", so a principal escapes a NotPrincipal statement only when every link of its chain
//    (account, role, session / account, user) is listed. A Deny NotPrincipal statement always
//    applies to principals that have a permissions boundary ("NotPrincipal" > Key points).
//  - "Variables and tags": a variable that cannot be resolved makes the statement invalid, i.e.
//    it does not apply, whatever its effect.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "iam/policy/arn.h"
#include "iam/policy/condition.h"
#include "iam/policy/pattern.h"

namespace meridian::iam::policy {

struct Principal;

enum class Effect : uint8_t { kAllow, kDeny };

struct PrincipalSpec {
  bool any = false;                    // "*" or {"AWS": "*"}
  std::vector<std::string> accounts;   // 12-digit account ids (also from ...:root ARNs)
  std::vector<std::string> arns;       // exact IAM/STS principal ARNs
  std::vector<std::string> services;   // {"Service": ...}
  std::vector<std::string> providers;  // {"Federated": ...}
};

// How a resource-based policy statement's Principal matched the caller; it decides which other
// policy types can still limit the grant (IAM User Guide, "Policy evaluation logic" >
// "Resource-based policies"). Ordered from weakest to strongest.
enum class PrincipalMatch : uint8_t {
  kNone,
  kAccount,        // via the caller's account: a delegation to the account's IAM policies
  kSessionIssuer,  // via the role of a role session (or the user behind a federated session):
                   // still limited by permissions boundaries and session policies
  kDirect,         // the caller itself, "*", a service or a provider: not limited by implicit denies
};

struct Statement {
  uint32_t index = 0;  // position in the policy, from 0
  std::string sid;
  Effect effect = Effect::kAllow;

  bool has_principal = false;
  bool not_principal = false;
  PrincipalSpec principal;

  bool not_action = false;
  std::vector<Pattern> actions;  // lower case

  bool has_resource = false;
  bool not_resource = false;
  std::vector<ArnPattern> resources;
  bool resource_variables = false;  // some resource pattern uses a policy variable

  std::vector<Condition> conditions;
};

struct StatementMatch {
  bool applies = false;
  PrincipalMatch principal = PrincipalMatch::kNone;  // kDirect for statements without Principal
};

// `has_boundary`: the caller's IAM entity has a permissions boundary (NotPrincipal rule above).
StatementMatch MatchStatement(const Statement& statement, const RequestContext& context, bool has_boundary);

// How the Principal element matches `principal` (kNone when it does not).
PrincipalMatch MatchPrincipal(const PrincipalSpec& spec, const Principal& principal);

}  // namespace meridian::iam::policy
