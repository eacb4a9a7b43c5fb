// Resource policies attached to secrets: structural validation and the "public policy" check.
//
// Validation is structural only (the IAM engine compiles and enforces policies): the document is
// a JSON object with a Statement (one object or a non-empty list); every statement has an Effect
// of Allow or Deny, an Action or NotAction, a Principal or NotPrincipal, and a Resource or
// NotResource; no unknown elements. A policy is public (what BlockPublicPolicy refuses) when a
// statement allows a wildcard principal ("*" or {"AWS": "*"}) or uses NotPrincipal with Allow,
// without any Condition narrowing it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace meridian::secrets {

inline constexpr size_t kMaxResourcePolicyLength = 20480;

struct PolicyFindings {
  // One line per statement that grants broad access; empty when the policy is not public.
  std::vector<std::string> public_access;
};

// MalformedPolicyDocumentException when `policy` is not a structurally valid policy.
Result<PolicyFindings> CheckResourcePolicy(std::string_view policy);

}  // namespace meridian::secrets
