// IamService and StsService: the AWS IAM (2010-05-08) and STS (2011-06-15) operations over the
// Directory, with the same shape as KmsService / SecretsService so the server's
// ApiServiceAdapter routes to them (the server converts the Query protocol to and from JSON).
//
// Request JSON (from the Query front): every scalar may be a JSON string ("DurationSeconds":
// "3600", "SetAsDefault": "true") or a real number / bool; "X.member.N" lists arrive as JSON
// arrays, "X.entry.N.key/value" maps as objects.
// Response JSON: the members of botocore's output shape for the operation. Timestamps are ISO
// 8601 UTC strings, booleans JSON bools, numbers JSON numbers, blobs (Base32StringSeed) base64;
// policy documents in Get*Policy / GetPolicyVersion / role documents are URL-encoded as AWS
// sends them. The only map member is EvaluationResults[].EvalDecisionDetails (and
// ResourceSpecificResults[].EvalDecisionDetails) in Simulate*Policy responses.
// Errors: Status with the Query error code (no "Exception" suffix) and its HTTP status.
//
// Handle runs on an already authenticated and authorized request; ResourceFor names what the
// authorizer must check (IAM: the entity's ARN; AssumeRole: the role ARN with its compiled trust
// policy as a kRoleTrustPolicy resource policy).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/caller.h"
#include "common/status.h"
#include "iam/authorizer.h"
#include "iam/directory.h"

namespace meridian::iam {

class IamService {
 public:
  explicit IamService(Directory& directory) : directory_(directory) {}

  static bool Knows(std::string_view operation);
  Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller, JsonWriter& out);
  std::optional<AuthorizationResource> ResourceFor(std::string_view operation, const rapidjson::Value& request,
                                                   const Caller& caller);

 private:
  Directory& directory_;
};

struct StsOptions {
  int64_t default_duration_seconds = 3600;
  int64_t session_token_default_seconds = 43200;  // GetSessionToken default: 12 hours
};

class StsService {
 public:
  explicit StsService(Directory& directory, StsOptions options = {}) : directory_(directory), options_(options) {}

  static bool Knows(std::string_view operation);
  Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller, JsonWriter& out);
  std::optional<AuthorizationResource> ResourceFor(std::string_view operation, const rapidjson::Value& request,
                                                   const Caller& caller);

 private:
  Directory& directory_;
  StsOptions options_;
};

}  // namespace meridian::iam
