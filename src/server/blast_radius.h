// Blast radius: what one principal could do in this region, decided by the region's own
// authorizer (the one that guards every request) for every action Meridian authorizes on every
// KMS key, every secret, every role (sts:AssumeRole through its trust policy) and the account
// (CreateKey, ListKeys, IAM writes ... on "*"). Served as MeridianAdmin.AnalyzeBlastRadius
// (admin_service.h); `meridian analyze blast-radius` asks every region.
//
//   request  {"AccessKeyId": "AKIA.../ASIA..."}  or  {"PrincipalArn": "arn:aws:iam::<acct>:user/x"}
//   response {"Region", "AccountId", "PrincipalArn", "AccessKeyId", "Context": {...},
//             "Resources": [{"ResourceType", "ResourceArn", "Allowed": [...], "ExplicitlyDenied": [...],
//                            "Conditional": [{"Action", "ConditionKeys": [...]}]}],
//             "Evaluations": n}
//
// Resolving the principal: an access key is resolved by the authorizer itself (Directory::
// IdentityFor: user, role session or root, with all their policies). A user ARN is analyzed
// through one of the user's active access keys (every long-term key of a user carries the same
// identity); the account root ARN as root. A role acts only through sessions, so a role ARN is
// refused: analyze a session's credential (AccessKeyId ASIA...) instead. Only principals of the
// caller's own account may be analyzed.
//
// The request context is region-wide: aws:RequestedRegion = this region, aws:SecureTransport =
// true, the current time, and NO aws:SourceIp / aws:SourceVpce, no encryption context and no
// other request-supplied keys. A decision that is not an Allow is evaluated a second time "what
// if": conditions on those unknowable keys (blast_radius.cpp lists them) count as met in Allow
// statements and unmet in Deny statements (policy::RequestContext::AssumeUnknownKeys). If that
// allows, the action is reported under "Conditional" with the condition keys the Allow depends
// on (lower case) — e.g. kms:Decrypt allowed only with aws:SourceIp in some range — instead of
// as not allowed; a Deny that applies regardless of those keys stays "ExplicitlyDenied". Still
// reported as Allowed: an action allowed now that a Deny on unknowable keys could refuse for
// some requests. Grants are matched with an empty encryption context (a grant with a constraint
// is not counted). Reads only: nothing is changed, and no decision is audited one by one (the
// AnalyzeBlastRadius request itself is).
#pragma once

#include <string>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/caller.h"
#include "common/clock.h"
#include "common/status.h"
#include "iam/authorizer.h"
#include "iam/directory.h"
#include "kms/kms.h"
#include "secrets/secrets.h"

namespace meridian::server {

// What the analysis reads. Not owned; all must outlive the service that uses them. With any of
// them null the operation answers that the analysis is unavailable.
struct BlastRadiusSources {
  std::string region;
  std::string partition = "aws";
  const iam::Authorizer* authorizer = nullptr;  // the region's identity-aware authorizer
  iam::Directory* directory = nullptr;
  kms::KmsService* kms = nullptr;
  secrets::SecretsService* secrets = nullptr;
  const Clock* clock = &SystemClock::Instance();
};

// Runs the analysis for the principal `request` names, on behalf of `caller` (already authorized
// for meridian:AnalyzeBlastRadius), and writes the response object to `out`.
Status AnalyzeBlastRadius(const BlastRadiusSources& sources, const rapidjson::Value& request, const Caller& caller,
                          JsonWriter& out);

}  // namespace meridian::server
