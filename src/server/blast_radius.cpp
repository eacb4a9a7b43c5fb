#include "server/blast_radius.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace meridian::server {
namespace {

constexpr const char* kKeyOperations[] = {
    "Encrypt",          "Decrypt",          "ReEncryptFrom",       "ReEncryptTo",         "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",      "DescribeKey",         "GetKeyPolicy",        "PutKeyPolicy",
    "CreateGrant",      "ListGrants",       "RevokeGrant",         "EnableKey",           "DisableKey",
    "ScheduleKeyDeletion",                  "CancelKeyDeletion",   "GetKeyRotationStatus", "EnableKeyRotation",
    "DisableKeyRotation",                   "UpdateKeyDescription", "TagResource",        "UntagResource",
    "ReplicateKey",
};

constexpr const char* kSecretOperations[] = {
    "GetSecretValue",  "DescribeSecret",       "PutSecretValue",      "UpdateSecret",  "UpdateSecretVersionStage",
    "RotateSecret",    "CancelRotateSecret",   "DeleteSecret",        "RestoreSecret", "GetResourcePolicy",
    "PutResourcePolicy", "DeleteResourcePolicy", "TagResource",       "UntagResource", "ReplicateSecretToRegions",
};

// Actions that name no resource (authorized on "*").
constexpr const char* kAccountActions[] = {
    "kms:CreateKey",        "kms:ListKeys",         "kms:ListAliases",       "secretsmanager:CreateSecret",
    "secretsmanager:ListSecrets", "iam:CreateUser", "iam:CreateAccessKey",   "iam:CreateRole",
    "iam:PutUserPolicy",    "iam:AttachUserPolicy", "iam:PutRolePolicy",     "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy",
};

// Condition keys whose value depends on the request, not on the principal or the resource, and
// that the region-wide context below does not supply (lower case prefixes). A decision that an
// Allow would reach if such keys had the right values is reported as conditional, with the keys.
const std::vector<std::string>& UnknowableKeyPrefixes() {
  static const std::vector<std::string> kPrefixes = {
      "aws:sourceip",          "aws:sourcevpce",           "aws:sourcevpc",          "aws:vpcsourceip",
      "aws:requesttag/",       "aws:tagkeys",              "aws:useragent",          "aws:referer",
      "aws:calledvia",         "aws:viaawsservice",        "kms:encryptioncontext:", "kms:encryptioncontextkeys",
      "kms:grantoperations",   "kms:grantconstrainttype",  "kms:granteeprincipal",   "kms:retiringprincipal",
      "kms:grantisforawsresource", "kms:viaservice",       "kms:requestalias",       "kms:encryptionalgorithm",
      "kms:signingalgorithm",  "kms:macalgorithm",         "kms:messagetype",        "kms:keyspec",
      "kms:keyusage",          "kms:keyorigin",            "kms:multiregion",        "kms:multiregionkeytype",
      "kms:bypasspolicylockoutsafetycheck", "kms:replicaregion", "kms:primaryregion",
      "secretsmanager:name",   "secretsmanager:description", "secretsmanager:kmskeyid", "secretsmanager:versionid",
      "secretsmanager:versionstage", "secretsmanager:blockpublicpolicy", "secretsmanager:addreplicaregions",
      "secretsmanager:forceoverwritereplicasecret", "secretsmanager:recoverywindowindays",
      "secretsmanager:forcedeletewithoutrecovery", "secretsmanager:rotationlambdaarn",
      "secretsmanager:rotateimmediately", "secretsmanager:modifyrotationrules",
      "sts:externalid",        "sts:rolesessionname",      "sts:sourceidentity",     "sts:transitivetagkeys",
  };
  return kPrefixes;
}

Status InvalidParameter(std::string message) {
  return Status("InvalidParameterException", std::move(message), 400);
}

// The principal whose reach is analyzed, as the pipeline would see it calling.
struct Target {
  Caller caller;
};

std::optional<std::string> OptionalString(const rapidjson::Value& request, const char* name) {
  if (!request.IsObject() || !request.HasMember(name) || !request[name].IsString()) return std::nullopt;
  return std::string(request[name].GetString(), request[name].GetStringLength());
}

Result<Target> ResolveTarget(const BlastRadiusSources& s, const rapidjson::Value& request) {
  const auto key_id = OptionalString(request, "AccessKeyId");
  const auto principal_arn = OptionalString(request, "PrincipalArn");
  if (key_id.has_value() == principal_arn.has_value())
    return InvalidParameter("Give exactly one of AccessKeyId and PrincipalArn.");
  if (key_id) {
    iam::IdentityPtr identity = s.directory->IdentityFor(*key_id);
    if (!identity || !identity->principal)
      return InvalidParameter("The access key " + *key_id + " is unknown, inactive or expired.");
    Target t;
    t.caller = Caller{identity->principal->account, identity->principal->arn, *key_id};
    return t;
  }
  // arn:<partition>:iam::<account>:root | user/<path>/<name> | role/<path>/<name>
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    const size_t colon = principal_arn->find(':', start);
    if (colon == std::string::npos) break;
    parts.push_back(principal_arn->substr(start, colon - start));
    start = colon + 1;
  }
  if (parts.size() != 5 || parts[0] != "arn" || parts[2] != "iam" || parts[4].empty())
    return InvalidParameter("PrincipalArn " + *principal_arn + " is not an IAM user, role or root ARN.");
  const std::string& account = parts[4];
  const std::string resource = principal_arn->substr(start);
  if (resource == "root") return Target{Caller{account, *principal_arn, ""}};
  if (resource.rfind("role/", 0) == 0)
    return InvalidParameter("A role acts only through sessions: analyze a session's credential (AccessKeyId ASIA...) "
                            "instead of " + *principal_arn + ".");
  if (resource.rfind("user/", 0) != 0)
    return InvalidParameter("PrincipalArn " + *principal_arn + " is not an IAM user, role or root ARN.");
  const std::string user_name = resource.substr(resource.rfind('/') + 1);
  MERIDIAN_ASSIGN_OR_RETURN(auto keys, s.directory->ListAccessKeys(account, user_name));
  for (const auto& k : keys) {
    if (k.status != "Active") continue;
    iam::IdentityPtr identity = s.directory->IdentityFor(k.access_key_id);
    if (identity && identity->principal)
      return Target{Caller{account, identity->principal->arn, k.access_key_id}};
  }
  return InvalidParameter("The user " + *principal_arn +
                          " has no active access key: no credential can act as it in this region.");
}

// One resource's verdicts.
struct ResourceVerdicts {
  std::string type;  // "account", "kms:key", "secretsmanager:secret", "iam:role"
  std::string arn;   // "*" for account-level actions
  std::vector<std::string> allowed;
  std::vector<std::string> explicitly_denied;
  // Actions an Allow would permit if the request supplied suitable values for these keys.
  std::vector<std::pair<std::string, std::vector<std::string>>> conditional;
};

class Analysis {
 public:
  Analysis(const BlastRadiusSources& s, const Target& t) : s_(s), t_(t), now_ms_(s.clock->NowMillis()) {}

  // Decides `action` on `resource` (null: on "*") and files the verdict under `into`.
  void Decide(const std::string& action, const iam::AuthorizationResource* resource, ResourceVerdicts& into) {
    ++evaluations_;
    iam::AuthorizationRequest authz;
    authz.partition = s_.partition;
    authz.principal_arn = t_.caller.principal_arn;
    authz.principal_account = t_.caller.account_id;
    authz.access_key_id = t_.caller.access_key_id;
    authz.action = action;
    authz.region = s_.region;
    authz.secure_transport = true;
    authz.now_ms = now_ms_;
    if (resource) {
      authz.resource_arn = resource->arn;
      authz.resource_account = resource->account_id;
      authz.resource_policy = resource->policy;
      authz.resource_policy_kind = resource->policy_kind;
      authz.context = resource->context;
      authz.allowing_grant_id = resource->allowing_grant_id;
      // As the pipeline: a key whose policy cannot be evaluated allows nothing.
      if (authz.resource_policy_kind == iam::policy::ResourcePolicyKind::kKeyPolicy && !authz.resource_policy) return;
    }
    iam::AuthorizationResult result;
    if (s_.authorizer->Authorize(authz, &result).ok()) {
      into.allowed.push_back(action);
      return;
    }
    // What if the request supplied the keys this analysis cannot know? If an Allow then decides
    // (and no Deny that applies regardless), the verdict depends on the request: conditional.
    authz.unknown_key_prefixes = UnknowableKeyPrefixes();
    iam::AuthorizationResult what_if;
    if (s_.authorizer->Authorize(authz, &what_if).ok() && !what_if.assumed_keys.empty()) {
      std::sort(what_if.assumed_keys.begin(), what_if.assumed_keys.end());
      into.conditional.emplace_back(action, std::move(what_if.assumed_keys));
      return;
    }
    if (result.decision == "Deny") into.explicitly_denied.push_back(action);
  }

  int evaluations() const { return evaluations_; }

 private:
  const BlastRadiusSources& s_;
  const Target& t_;
  const int64_t now_ms_;
  int evaluations_ = 0;
};

rapidjson::Document NamedRequest(const char* member, const std::string& value) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember(rapidjson::StringRef(member), rapidjson::Value(value.c_str(), d.GetAllocator()), d.GetAllocator());
  return d;
}

void WriteStrings(JsonWriter& out, const char* name, const std::vector<std::string>& values) {
  out.Key(name);
  out.StartArray();
  for (const auto& v : values) out.String(v.c_str());
  out.EndArray();
}

}  // namespace

Status AnalyzeBlastRadius(const BlastRadiusSources& s, const rapidjson::Value& request, const Caller& caller,
                          JsonWriter& out) {
  if (!s.authorizer || !s.directory || !s.kms || !s.secrets || !s.clock)
    return Status("ServiceUnavailableException", "Blast-radius analysis is not available in this region.", 503);
  MERIDIAN_ASSIGN_OR_RETURN(const Target target, ResolveTarget(s, request));
  if (target.caller.account_id != caller.account_id)
    return Status("AccessDeniedException",
                  "User: " + caller.principal_arn + " may analyze only principals of its own account (" +
                      caller.account_id + "), not " + target.caller.principal_arn + ".",
                  400);
  Analysis analysis(s, target);
  std::vector<ResourceVerdicts> verdicts;

  verdicts.push_back({"account", "*", {}, {}, {}});
  for (const char* action : kAccountActions) analysis.Decide(action, nullptr, verdicts.back());

  MERIDIAN_ASSIGN_OR_RETURN(auto key_arns, s.kms->KeyArnsForAnalysis(target.caller.account_id));
  for (const auto& arn : key_arns) {
    verdicts.push_back({"kms:key", arn, {}, {}, {}});
    const rapidjson::Document named = NamedRequest("KeyId", arn);
    for (const char* operation : kKeyOperations) {
      // The service's own view of the key for this operation: policy, KMS condition keys, grants.
      auto resource = s.kms->ResourceFor(operation, named, target.caller);
      if (resource) analysis.Decide(std::string("kms:") + operation, &*resource, verdicts.back());
    }
  }

  MERIDIAN_ASSIGN_OR_RETURN(auto secret_arns, s.secrets->SecretArnsForAnalysis(target.caller.account_id));
  for (const auto& arn : secret_arns) {
    verdicts.push_back({"secretsmanager:secret", arn, {}, {}, {}});
    const rapidjson::Document named = NamedRequest("SecretId", arn);
    for (const char* operation : kSecretOperations) {
      auto resource = s.secrets->ResourceFor(operation, named, target.caller);
      if (resource) analysis.Decide(std::string("secretsmanager:") + operation, &*resource, verdicts.back());
    }
  }

  // sts:AssumeRole on every role of the account, decided by its trust policy as StsService does.
  MERIDIAN_ASSIGN_OR_RETURN(auto roles, s.directory->List(iam::EntityKind::kRole, target.caller.account_id));
  for (const auto& role : roles) {
    verdicts.push_back({"iam:role", role.arn, {}, {}, {}});
    iam::AuthorizationResource trust;
    trust.arn = role.arn;
    trust.account_id = role.account_id;
    trust.policy = s.directory->TrustPolicy(role.arn);
    trust.policy_kind = iam::policy::ResourcePolicyKind::kRoleTrustPolicy;
    if (trust.policy) analysis.Decide("sts:AssumeRole", &trust, verdicts.back());
  }

  out.StartObject();
  out.Key("Region");
  out.String(s.region.c_str());
  out.Key("AccountId");
  out.String(target.caller.account_id.c_str());
  out.Key("PrincipalArn");
  out.String(target.caller.principal_arn.c_str());
  out.Key("AccessKeyId");
  out.String(target.caller.access_key_id.c_str());
  out.Key("Context");
  out.StartObject();
  out.Key("aws:RequestedRegion");
  out.String(s.region.c_str());
  out.Key("aws:SecureTransport");
  out.String("true");
  out.Key("Absent");
  out.String("aws:SourceIp, aws:SourceVpce, kms:EncryptionContext:* and other request keys; an action that an "
             "Allow conditioned on them would permit is listed under Conditional with the keys");
  out.EndObject();
  out.Key("Resources");
  out.StartArray();
  for (const auto& v : verdicts) {
    out.StartObject();
    out.Key("ResourceType");
    out.String(v.type.c_str());
    out.Key("ResourceArn");
    out.String(v.arn.c_str());
    WriteStrings(out, "Allowed", v.allowed);
    WriteStrings(out, "ExplicitlyDenied", v.explicitly_denied);
    out.Key("Conditional");
    out.StartArray();
    for (const auto& [action, keys] : v.conditional) {
      out.StartObject();
      out.Key("Action");
      out.String(action.c_str());
      WriteStrings(out, "ConditionKeys", keys);
      out.EndObject();
    }
    out.EndArray();
    out.EndObject();
  }
  out.EndArray();
  out.Key("Evaluations");
  out.Int(analysis.evaluations());
  out.EndObject();
  return Status::Ok();
}

}  // namespace meridian::server
