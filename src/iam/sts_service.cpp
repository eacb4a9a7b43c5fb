#include <algorithm>

#include "crypto/crypto.h"

#include "iam/directory_records.h"
#include "iam/errors.h"
#include "iam/iam_service.h"
#include "iam/query_args.h"

namespace meridian::iam {
namespace {

constexpr int64_t kMinDuration = 900;
constexpr int64_t kRoleChainingMax = 3600;        // "role chaining limits ... to a maximum of one hour"
constexpr int64_t kSessionTokenUserMax = 129600;  // 36 hours
constexpr int64_t kSessionTokenRootMax = 3600;
constexpr size_t kMaxSessionPolicyChars = 2048;
constexpr size_t kMaxPolicyArns = 10;
constexpr size_t kMaxSessionTags = 50;

void Str(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value);
}

void WriteCredentials(JsonWriter& w, const TemporaryCredentials& c) {
  w.Key("Credentials");
  w.StartObject();
  Str(w, "AccessKeyId", c.access_key_id);
  Str(w, "SecretAccessKey", c.secret_access_key);
  Str(w, "SessionToken", c.session_token);
  WriteTime(w, "Expiration", c.expiration);
  w.EndObject();
}

void Wipe(TemporaryCredentials& c) {
  crypto::Cleanse(c.secret_access_key);
  crypto::Cleanse(c.session_token);
}

Status CheckSessionName(const std::string& name) {
  if (name.size() < 2 || name.size() > 64)
    return BadParameter("RoleSessionName", name,
                        "Member must have length less than or equal to 64 and greater than or equal to 2");
  return records::CheckName("roleSessionName", name, 64);
}

// SerialNumber + TokenCode, when given: the MFA check. Returns whether MFA was presented.
Result<bool> CheckMfa(Directory& dir, const QueryArgs& args, const std::string& user_name) {
  auto serial = args.Opt("SerialNumber");
  auto code = args.Opt("TokenCode");
  if (!serial && !code) return false;
  if (!serial) return MissingParameter("SerialNumber");
  if (!code) return MissingParameter("TokenCode");
  if (code->size() != 6 || !std::all_of(code->begin(), code->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return BadParameter("TokenCode", *code, "Member must satisfy regular expression pattern: [\\d]*");
  MERIDIAN_RETURN_IF_ERROR(dir.VerifyMfaCode(*serial, user_name, *code));
  return true;
}

Status GetCallerIdentity(Directory& dir, const Caller& caller, JsonWriter& w) {
  IdentityPtr identity = dir.IdentityFor(caller.access_key_id);
  std::string user_id = caller.account_id;
  if (identity && identity->principal && !identity->principal->user_id.empty())
    user_id = identity->principal->user_id;
  w.StartObject();
  Str(w, "UserId", user_id);
  Str(w, "Account", caller.account_id);
  Str(w, "Arn", caller.principal_arn);
  w.EndObject();
  return Status::Ok();
}

Status AssumeRole(Directory& dir, const StsOptions& options, const QueryArgs& args, const Caller& caller,
                  JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string role_arn, args.Required("RoleArn"));
  MERIDIAN_ASSIGN_OR_RETURN(std::string session_name, args.Required("RoleSessionName"));
  MERIDIAN_RETURN_IF_ERROR(CheckSessionName(session_name));
  auto role = dir.RoleByArn(role_arn);
  if (!role)
    return errors::AccessDenied("User: " + caller.principal_arn + " is not authorized to perform: sts:AssumeRole on resource: " +
                                role_arn);
  IdentityPtr identity = dir.IdentityFor(caller.access_key_id);
  const bool chaining = identity && identity->kind == Identity::Kind::kRoleSession;
  MERIDIAN_ASSIGN_OR_RETURN(auto duration, args.OptInt("DurationSeconds", kMinDuration, 43200));
  const int64_t seconds = duration.value_or(options.default_duration_seconds);
  if (chaining && seconds > kRoleChainingMax)
    return errors::ValidationError(
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
  if (seconds > role->max_session_duration)
    return errors::ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");

  RoleSessionSpec spec;
  spec.session_name = session_name;
  spec.duration_seconds = seconds;
  spec.source_identity = args.Opt("SourceIdentity").value_or("");
  size_t packed = 0;
  if (auto inline_policy = args.Opt("Policy")) {
    if (inline_policy->size() > kMaxSessionPolicyChars)
      return Status("PackedPolicyTooLarge", "Packed policy consumes more than 100 percent of the allotted size.", 400);
    MERIDIAN_RETURN_IF_ERROR(CompileIamPolicy(*inline_policy, policy::PolicyKind::kIdentity, "session-policy").status());
    spec.session_policy_documents.push_back(*inline_policy);
    packed += inline_policy->size();
  }
  if (const rapidjson::Value* arns = args.Raw("PolicyArns")) {
    if (!arns->IsArray()) return BadParameter("PolicyArns", "", "Member must be a list of PolicyDescriptorType");
    if (arns->Size() > kMaxPolicyArns)
      return BadParameter("PolicyArns", "", "Member must have length less than or equal to 10");
    for (const auto& d : arns->GetArray()) {
      std::optional<std::string> arn;
      if (d.IsObject()) arn = QueryArgs(d).Opt("arn");
      else arn = ScalarText(d);
      if (!arn) return MissingParameter("arn");
      auto managed = dir.GetPolicy(*arn);
      if (!managed.ok() || !managed->DefaultVersion())
        return errors::ValidationError("Policy " + *arn + " does not exist or is not attachable.");
      spec.session_policy_documents.push_back(managed->DefaultVersion()->document);
      packed += arn->size();
    }
  }
  MERIDIAN_ASSIGN_OR_RETURN(spec.tags, args.Tags());
  MERIDIAN_ASSIGN_OR_RETURN(spec.transitive_tag_keys, args.StrList("TransitiveTagKeys"));
  for (const auto& k : spec.transitive_tag_keys)
    if (std::none_of(spec.tags.begin(), spec.tags.end(),
                     [&](const Tag& t) { return records::Lower(t.key) == records::Lower(k); }))
      return errors::InvalidInput("The transitive tag key " + k + " is not one of the session tags.");
  if (chaining) {
    // Transitive tags of the calling session pass on and cannot be overridden (IAM User Guide,
    // "Chaining roles with session tags").
    for (const auto& key : identity->transitive_tag_keys) {
      for (const auto& [k, v] : identity->principal->tags) {
        // A named copy: clang before 16 cannot capture a structured binding in a lambda.
        const std::string lower_key = records::Lower(k);
        if (lower_key != records::Lower(key)) continue;
        auto same = std::find_if(spec.tags.begin(), spec.tags.end(),
                                 [&](const Tag& t) { return records::Lower(t.key) == lower_key; });
        if (same != spec.tags.end() && same->value != v)
          return errors::InvalidInput("The session tag " + k + " is transitive from the calling session and cannot be overridden.");
        if (same == spec.tags.end()) spec.tags.push_back({k, v});
        if (std::none_of(spec.transitive_tag_keys.begin(), spec.transitive_tag_keys.end(),
                         [&](const std::string& t) { return records::Lower(t) == lower_key; }))
          spec.transitive_tag_keys.push_back(k);
      }
    }
  }
  if (spec.tags.size() > kMaxSessionTags)
    return BadParameter("Tags", "", "Member must have length less than or equal to 50");
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(spec.tags));
  for (const auto& t : spec.tags) packed += t.key.size() + t.value.size();

  MERIDIAN_ASSIGN_OR_RETURN(bool mfa, CheckMfa(dir, args, identity ? identity->user_name : ""));
  if (mfa)
    spec.mfa_authenticated_at = dir.clock().NowSeconds();
  else if (identity && identity->mfa_authenticated_at)
    spec.mfa_authenticated_at = identity->mfa_authenticated_at;  // an MFA session assuming a role keeps its MFA

  MERIDIAN_ASSIGN_OR_RETURN(auto creds, dir.CreateRoleSession(*role, spec));
  w.StartObject();
  WriteCredentials(w, creds);
  w.Key("AssumedRoleUser");
  w.StartObject();
  Str(w, "AssumedRoleId", creds.assumed_role_id);
  Str(w, "Arn", creds.principal_arn);
  w.EndObject();
  w.Key("PackedPolicySize");
  w.Int64(static_cast<int64_t>(packed * 100 / kMaxSessionPolicyChars));
  if (!spec.source_identity.empty()) Str(w, "SourceIdentity", spec.source_identity);
  w.EndObject();
  Wipe(creds);
  return Status::Ok();
}

Status GetSessionToken(Directory& dir, const StsOptions& options, const QueryArgs& args, const Caller& caller,
                       JsonWriter& w) {
  IdentityPtr identity = dir.IdentityFor(caller.access_key_id);
  if (!identity || identity->temporary)
    return errors::AccessDenied("Cannot call GetSessionToken with session credentials");
  const bool root = identity->kind == Identity::Kind::kRoot;
  MERIDIAN_ASSIGN_OR_RETURN(auto duration, args.OptInt("DurationSeconds", kMinDuration, kSessionTokenUserMax));
  int64_t seconds = duration.value_or(options.session_token_default_seconds);
  if (root) seconds = std::min(seconds, kSessionTokenRootMax);  // root sessions last at most one hour
  MERIDIAN_ASSIGN_OR_RETURN(bool mfa, CheckMfa(dir, args, identity->user_name));
  Entity subject;
  if (root) {
    subject.account_id = caller.account_id;
    subject.arn = caller.principal_arn;
  } else {
    MERIDIAN_ASSIGN_OR_RETURN(subject, dir.Get(EntityKind::kUser, caller.account_id, identity->user_name));
  }
  std::optional<int64_t> mfa_at;
  if (mfa) mfa_at = dir.clock().NowSeconds();
  MERIDIAN_ASSIGN_OR_RETURN(auto creds, dir.CreateUserSession(subject, seconds, mfa_at));
  w.StartObject();
  WriteCredentials(w, creds);
  w.EndObject();
  Wipe(creds);
  return Status::Ok();
}

}  // namespace

bool StsService::Knows(std::string_view operation) {
  return operation == "GetCallerIdentity" || operation == "AssumeRole" || operation == "GetSessionToken";
}

Status StsService::Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                          JsonWriter& out) {
  QueryArgs args(request);
  if (operation == "GetCallerIdentity") return GetCallerIdentity(directory_, caller, out);
  if (operation == "AssumeRole") return AssumeRole(directory_, options_, args, caller, out);
  if (operation == "GetSessionToken") return GetSessionToken(directory_, options_, args, caller, out);
  return Status("InvalidAction", "The action " + std::string(operation) + " is not valid for this web service.", 400);
}

std::optional<AuthorizationResource> StsService::ResourceFor(std::string_view operation,
                                                             const rapidjson::Value& request, const Caller& caller) {
  if (operation != "AssumeRole") return std::nullopt;
  QueryArgs args(request);
  auto role_arn = args.Opt("RoleArn");
  if (!role_arn) return std::nullopt;  // Handle answers with the validation error
  AuthorizationResource r;
  r.arn = *role_arn;
  auto parsed = records::ParseIamArn(*role_arn);
  r.account_id = parsed ? parsed->account : caller.account_id;
  // The trust policy decides, as a resource policy that must grant the caller (null when the
  // role does not exist: nothing grants, the request is denied).
  r.policy = directory_.TrustPolicy(*role_arn);
  r.policy_kind = policy::ResourcePolicyKind::kRoleTrustPolicy;
  // Trust-policy conditions see the MFA check, the requested session tags and the session name.
  if (args.Opt("SerialNumber") && args.Opt("TokenCode")) {
    IdentityPtr identity = directory_.IdentityFor(caller.access_key_id);
    if (directory_.VerifyMfaCode(*args.Opt("SerialNumber"), identity ? identity->user_name : "", *args.Opt("TokenCode"))
            .ok()) {
      r.context.emplace_back("aws:MultiFactorAuthPresent", "true");
      r.context.emplace_back("aws:MultiFactorAuthAge", "0");
    }
  }
  if (auto tags = args.Tags(); tags.ok()) {
    for (const auto& t : *tags) {
      r.context.emplace_back("aws:RequestTag/" + t.key, t.value);
      r.context.emplace_back("aws:TagKeys", t.key);
    }
  }
  if (auto name = args.Opt("RoleSessionName")) r.context.emplace_back("sts:RoleSessionName", *name);
  if (auto external = args.Opt("ExternalId")) r.context.emplace_back("sts:ExternalId", *external);
  if (auto source = args.Opt("SourceIdentity")) r.context.emplace_back("sts:SourceIdentity", *source);
  // Passing session tags (Tags or TransitiveTagKeys) also needs sts:TagSession, allowed by the
  // same trust policy (and, across accounts, by the caller's identity policies) with the same
  // context, so aws:RequestTag/* and aws:TagKeys conditions can restrict which tags are passed
  // (IAM User Guide, "Permissions required to add session tags").
  // An empty list (or the Query protocol's "" for one) passes no tags.
  auto passes = [&](const char* member) {
    const rapidjson::Value* v = args.Raw(member);
    if (!v || v->IsNull()) return false;
    if (v->IsArray()) return !v->Empty();
    if (v->IsString()) return v->GetStringLength() != 0;
    return true;
  };
  if (passes("Tags") || passes("TransitiveTagKeys")) {
    AuthorizationResource tag_session = r;
    tag_session.action = "sts:TagSession";
    r.also_required.push_back(std::move(tag_session));
  }
  return r;
}

}  // namespace meridian::iam
