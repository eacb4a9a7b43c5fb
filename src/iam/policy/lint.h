// Lint: dangerous patterns in a policy, each reported with a severity and the rule that fired.
//
// Rules (ids are stable; Deny statements never fire them):
//  public-principal           Allow with Principal "*" / {"AWS": "*"} and no restricting
//                             condition. Restricting = a non-negated, non-IfExists,
//                             non-ForAllValues condition on a key that names the caller or its
//                             network (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalOrgID,
//                             aws:PrincipalOrgPaths, aws:PrincipalTag/*, aws:userid, aws:username,
//                             aws:SourceVpce, aws:SourceVpc, aws:SourceIp, aws:SourceAccount,
//                             aws:SourceArn, aws:SourceOrgID, kms:CallerAccount, kms:ViaService)
//                             whose values are not all-wildcards ("*", 0.0.0.0/0, ::/0).
//                             CRITICAL with a wildcard action ("*" or "service:*"), else HIGH.
//  wildcard-action-all-resources
//                             Allow with Action "*" or "service:*" (kms:*, secretsmanager:*, ...)
//                             or NotAction, on Resource "*" or NotResource. CRITICAL when the
//                             principal is public; LOW for a key policy's account-root statement
//                             (the standard delegation to IAM policies); HIGH otherwise.
//  not-principal-with-allow   Allow with NotPrincipal: grants everyone else, anonymous included.
//                             HIGH.
//  not-resource-with-allow    Allow with NotResource: grants every other resource. HIGH.
//  for-all-values-with-allow  Allow with a ForAllValues: condition, which is true when the key is
//                             absent, unless the statement also has Null {key: "false"}. MEDIUM.
//  unpinned-cross-region-grant
//                             Allow touching kms: or secretsmanager: actions (or "*" /
//                             NotAction) on resources in any region — Resource "*" outside a key
//                             policy (in a key policy "*" is the key itself), NotResource, or an
//                             ARN whose region segment is empty or wildcarded — with neither a
//                             region pin (aws:RequestedRegion with an equality operator and
//                             literal values) nor an endpoint pin (aws:SourceVpce / aws:SourceVpc;
//                             VPC endpoints are regional). A stolen credential then works in
//                             every region. MEDIUM.
//  key-policy-without-account-root
//                             (key policies only) no Allow statement granting the owning account
//                             (its id or arn:...:root) an action set that covers kms:PutKeyPolicy
//                             ("kms:*", "kms:Put*", ...; the default key policy's statement):
//                             IAM policies cannot then administer the key, which becomes
//                             unmanageable if the principals it names are deleted. HIGH.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "iam/policy/policy.h"

namespace meridian::iam::policy {

enum class Severity : uint8_t { kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity severity);  // "LOW", "MEDIUM", "HIGH", "CRITICAL"

struct Finding {
  std::string rule;
  Severity severity = Severity::kLow;
  int statement_index = -1;  // from 0; -1 for findings about the whole policy
  std::string sid;
  std::string message;
};

struct LintOptions {
  bool key_policy = false;    // the document is a KMS key policy (implies PolicyKind::kResource)
  std::optional<PolicyKind> kind{};  // LintDocument: how to parse; guessed when unset
  std::string owner_account{};  // the key's account, for key-policy-without-account-root; empty:
                              // any account-root statement counts
};

std::vector<Finding> Lint(const Policy& policy, const LintOptions& options = {});

// Parses and lints. Without options.kind the kind is guessed: kResource for key policies or when
// a statement names a Principal/NotPrincipal (kTrust if no statement has Resource/NotResource),
// else kIdentity. Parse errors come back as the Status.
Result<std::vector<Finding>> LintDocument(std::string_view document, const LintOptions& options = {});

// "HIGH public-principal Statement 2 (Sid \"X\"): message" — one line per finding.
std::string FormatFinding(const Finding& finding);

}  // namespace meridian::iam::policy
