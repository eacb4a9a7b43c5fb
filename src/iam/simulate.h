// iam:SimulateCustomPolicy and iam:SimulatePrincipalPolicy (internal to IamService): each
// (action, resource) pair of the request is decided by iam::policy::Evaluate — the evaluator
// that guards real requests — over the given or the principal's policies, the permissions
// boundary, the optional resource policy (same- or cross-account per ResourceOwner) and the
// ContextEntries. Output: botocore's SimulatePolicyResponse (EvaluationResults with EvalDecision
// allowed / explicitDeny / implicitDeny, MatchedStatements with positions in the document,
// MissingContextValues, PermissionsBoundaryDecisionDetail, and EvalDecisionDetails — a map —
// for cross-account simulations).
#pragma once

#include "common/aws_json.h"
#include "common/caller.h"
#include "common/status.h"
#include "iam/directory.h"
#include "iam/query_args.h"

namespace meridian::iam {

Status SimulateCustomPolicy(Directory& directory, const QueryArgs& args, const Caller& caller, JsonWriter& out);
Status SimulatePrincipalPolicy(Directory& directory, const QueryArgs& args, const Caller& caller, JsonWriter& out);

// 1-based line/column of the start and end of each statement object in a policy document (the
// "Statement" element's objects, in order). Empty when the text cannot be scanned.
struct TextPosition {
  int line = 1, column = 1;
};
struct StatementSpan {
  TextPosition start, end;
};
std::vector<StatementSpan> StatementSpans(std::string_view document);

}  // namespace meridian::iam
