#include "audit/redaction.h"

#include <initializer_list>
#include <unordered_map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "audit/record.h"
#include "common/aws_json.h"
#include "crypto/crypto.h"

namespace meridian::audit {
namespace {

constexpr size_t kMaxStringBytes = 64 * 1024;

enum class Shape {
  kScalar,           // string, number or bool
  kStringMap,        // object of string -> scalar, keys verbatim (EncryptionContext)
  kStringList,       // array of strings
  kObject,           // object, members filtered by `children`
  kObjectList,       // array of objects, each filtered by `children`
  kMapOfStringLists  // object of string -> array of strings, keys verbatim (VersionIdsToStages)
};

struct FieldSet;

struct Rule {
  Shape shape = Shape::kScalar;
  const FieldSet* children = nullptr;
};

struct Field {
  std::string_view name;
  Rule rule;
};

// An allow-list: the members of one object that may be recorded.
// A member's rule and the name it is recorded under (CloudTrail's camelCase, computed once).
struct NamedRule {
  Rule rule;
  std::string recorded_name;
};

struct FieldSet {
  FieldSet(std::initializer_list<Field> fields) {
    for (const Field& f : fields) rules.emplace(f.name, NamedRule{f.rule, CamelCase(f.name)});
  }
  const NamedRule* Find(std::string_view name) const {
    auto it = rules.find(name);
    return it == rules.end() ? nullptr : &it->second;
  }
  std::unordered_map<std::string_view, NamedRule> rules;
};

constexpr Rule S{Shape::kScalar, nullptr};
constexpr Rule Map{Shape::kStringMap, nullptr};
constexpr Rule List{Shape::kStringList, nullptr};
constexpr Rule Obj(const FieldSet& c) { return {Shape::kObject, &c}; }
constexpr Rule Objs(const FieldSet& c) { return {Shape::kObjectList, &c}; }
constexpr Rule MapOfLists{Shape::kMapOfStringLists, nullptr};

// ---- Shared shapes ------------------------------------------------------------------------------

const FieldSet& KeyValueTag() {
  static const FieldSet s{{"Key", S}, {"Value", S}, {"TagKey", S}, {"TagValue", S}};
  return s;
}

// ---- KMS ----------------------------------------------------------------------------------------

const FieldSet& KmsMultiRegionKey() {
  static const FieldSet s{{"Arn", S}, {"Region", S}};
  return s;
}
const FieldSet& KmsMultiRegionConfiguration() {
  static const FieldSet s{{"MultiRegionKeyType", S},
                          {"PrimaryKey", Obj(KmsMultiRegionKey())},
                          {"ReplicaKeys", Objs(KmsMultiRegionKey())}};
  return s;
}
const FieldSet& KmsKeyMetadata() {
  static const FieldSet s{
      {"AWSAccountId", S}, {"KeyId", S}, {"Arn", S}, {"CreationDate", S}, {"Enabled", S}, {"Description", S},
      {"KeyUsage", S}, {"KeyState", S}, {"DeletionDate", S}, {"ValidTo", S}, {"Origin", S},
      {"CustomKeyStoreId", S}, {"CloudHsmClusterId", S}, {"ExpirationModel", S}, {"KeyManager", S},
      {"CustomerMasterKeySpec", S}, {"KeySpec", S}, {"EncryptionAlgorithms", List},
      {"SigningAlgorithms", List}, {"KeyAgreementAlgorithms", List}, {"MacAlgorithms", List},
      {"MultiRegion", S}, {"MultiRegionConfiguration", Obj(KmsMultiRegionConfiguration())},
      {"PendingDeletionWindowInDays", S}, {"CurrentKeyMaterialId", S}};
  return s;
}
const FieldSet& KmsKeyListEntry() {
  static const FieldSet s{{"KeyId", S}, {"KeyArn", S}};
  return s;
}
const FieldSet& KmsAliasListEntry() {
  static const FieldSet s{{"AliasName", S}, {"AliasArn", S}, {"TargetKeyId", S}, {"CreationDate", S},
                          {"LastUpdatedDate", S}};
  return s;
}
const FieldSet& KmsGrantConstraints() {
  static const FieldSet s{{"EncryptionContextSubset", Map}, {"EncryptionContextEquals", Map}};
  return s;
}
const FieldSet& KmsGrantListEntry() {
  static const FieldSet s{{"KeyId", S}, {"GrantId", S}, {"Name", S}, {"CreationDate", S},
                          {"GranteePrincipal", S}, {"RetiringPrincipal", S}, {"IssuingAccount", S},
                          {"Operations", List}, {"Constraints", Obj(KmsGrantConstraints())}};
  return s;
}
const FieldSet& KmsRotationsListEntry() {
  static const FieldSet s{{"KeyId", S}, {"RotationDate", S}, {"RotationType", S}, {"KeyMaterialId", S}};
  return s;
}

const FieldSet& Kms() {
  static const FieldSet s{
      {"KeyId", S}, {"KeyArn", S}, {"AliasName", S}, {"TargetKeyId", S}, {"Description", S},
      {"KeyUsage", S}, {"KeySpec", S}, {"CustomerMasterKeySpec", S}, {"Origin", S}, {"MultiRegion", S},
      {"BypassPolicyLockoutSafetyCheck", S}, {"CustomKeyStoreId", S}, {"XksKeyId", S}, {"Policy", S},
      {"PolicyName", S}, {"PolicyNames", List}, {"EncryptionContext", Map}, {"EncryptionAlgorithm", S},
      {"SourceEncryptionContext", Map}, {"SourceKeyId", S}, {"SourceEncryptionAlgorithm", S},
      {"DestinationKeyId", S}, {"DestinationEncryptionContext", Map}, {"DestinationEncryptionAlgorithm", S},
      {"NumberOfBytes", S}, {"KeyPairSpec", S}, {"PendingWindowInDays", S}, {"DeletionDate", S},
      {"KeyState", S}, {"Limit", S}, {"Marker", S}, {"NextMarker", S}, {"Truncated", S},
      {"Tags", Objs(KeyValueTag())}, {"TagKeys", List}, {"KeyMetadata", Obj(KmsKeyMetadata())},
      {"ReplicaKeyMetadata", Obj(KmsKeyMetadata())}, {"ReplicaPolicy", S}, {"ReplicaRegion", S},
      {"PrimaryRegion", S}, {"ReplicaTags", Objs(KeyValueTag())}, {"Keys", Objs(KmsKeyListEntry())},
      {"Aliases", Objs(KmsAliasListEntry())}, {"Grants", Objs(KmsGrantListEntry())}, {"GrantId", S},
      {"Name", S}, {"GranteePrincipal", S}, {"RetiringPrincipal", S}, {"Operations", List},
      {"Constraints", Obj(KmsGrantConstraints())}, {"KeyRotationEnabled", S}, {"RotationPeriodInDays", S},
      {"NextRotationDate", S}, {"OnDemandRotationStartDate", S}, {"Rotations", Objs(KmsRotationsListEntry())},
      {"SigningAlgorithm", S}, {"MessageType", S}, {"SignatureValid", S}, {"MacAlgorithm", S},
      {"MacValid", S}, {"DryRun", S}, {"KeyMaterialId", S}, {"IncludeKeyMaterial", S}};
  return s;
}

// ---- Secrets Manager ----------------------------------------------------------------------------

const FieldSet& SmRotationRules() {
  static const FieldSet s{{"AutomaticallyAfterDays", S}, {"Duration", S}, {"ScheduleExpression", S}};
  return s;
}
const FieldSet& SmReplicaRegion() {
  static const FieldSet s{{"Region", S}, {"KmsKeyId", S}};
  return s;
}
const FieldSet& SmReplicationStatus() {
  static const FieldSet s{{"Region", S}, {"KmsKeyId", S}, {"Status", S}, {"StatusMessage", S},
                          {"LastAccessedDate", S}};
  return s;
}
const FieldSet& SmFilter() {
  static const FieldSet s{{"Key", S}, {"Values", List}};
  return s;
}
const FieldSet& SmSecretListEntry() {
  static const FieldSet s{
      {"ARN", S}, {"Name", S}, {"Description", S}, {"KmsKeyId", S}, {"RotationEnabled", S},
      {"RotationLambdaARN", S}, {"RotationRules", Obj(SmRotationRules())}, {"LastRotatedDate", S},
      {"LastChangedDate", S}, {"LastAccessedDate", S}, {"DeletedDate", S}, {"NextRotationDate", S},
      {"Tags", Objs(KeyValueTag())}, {"SecretVersionsToStages", MapOfLists}, {"OwningService", S},
      {"CreatedDate", S}, {"PrimaryRegion", S}};
  return s;
}
const FieldSet& SmVersionListEntry() {
  static const FieldSet s{{"VersionId", S}, {"VersionStages", List}, {"LastAccessedDate", S},
                          {"CreatedDate", S}, {"KmsKeyIds", List}};
  return s;
}
const FieldSet& SmApiError() {
  static const FieldSet s{{"SecretId", S}, {"ErrorCode", S}, {"Message", S}};
  return s;
}
const FieldSet& SmValidationError() {
  static const FieldSet s{{"CheckName", S}, {"ErrorMessage", S}};
  return s;
}

const FieldSet& SecretsManager() {
  static const FieldSet s{
      {"SecretId", S}, {"Name", S}, {"ARN", S}, {"Description", S}, {"KmsKeyId", S}, {"VersionId", S},
      {"VersionStage", S}, {"VersionStages", List}, {"VersionIdsToStages", MapOfLists},
      {"ClientRequestToken", S}, {"Tags", Objs(KeyValueTag())}, {"TagKeys", List},
      {"RecoveryWindowInDays", S}, {"ForceDeleteWithoutRecovery", S}, {"DeletionDate", S},
      {"DeletedDate", S}, {"CreatedDate", S}, {"LastChangedDate", S}, {"LastAccessedDate", S},
      {"LastRotatedDate", S}, {"NextRotationDate", S}, {"RotationEnabled", S}, {"RotationLambdaARN", S},
      {"RotationRules", Obj(SmRotationRules())}, {"RotateImmediately", S},
      {"AddReplicaRegions", Objs(SmReplicaRegion())}, {"RemoveReplicaRegions", List},
      {"ReplicationStatus", Objs(SmReplicationStatus())}, {"ForceOverwriteReplicaSecret", S},
      {"PrimaryRegion", S}, {"OwningService", S}, {"SecretList", Objs(SmSecretListEntry())},
      {"Versions", Objs(SmVersionListEntry())}, {"Filters", Objs(SmFilter())}, {"MaxResults", S},
      {"NextToken", S}, {"SortOrder", S}, {"IncludePlannedDeletion", S}, {"IncludeDeprecated", S},
      {"IncludeSpace", S}, {"ExcludeCharacters", S}, {"ExcludeNumbers", S}, {"ExcludePunctuation", S},
      {"ExcludeUppercase", S}, {"ExcludeLowercase", S}, {"RequireEachIncludedType", S},
      {"PasswordLength", S}, {"ResourcePolicy", S}, {"BlockPublicPolicy", S}, {"SecretIdList", List},
      {"Errors", Objs(SmApiError())}, {"PolicyValidationPassed", S},
      {"ValidationErrors", Objs(SmValidationError())}, {"MoveToVersionId", S}, {"RemoveFromVersionId", S}};
  return s;
}

// ---- IAM ----------------------------------------------------------------------------------------

const FieldSet& IamPermissionsBoundary() {
  static const FieldSet s{{"PermissionsBoundaryType", S}, {"PermissionsBoundaryArn", S}};
  return s;
}
const FieldSet& IamRoleLastUsed() {
  static const FieldSet s{{"LastUsedDate", S}, {"Region", S}};
  return s;
}
const FieldSet& IamUser() {
  static const FieldSet s{{"Path", S}, {"UserName", S}, {"UserId", S}, {"Arn", S}, {"CreateDate", S},
                          {"PasswordLastUsed", S}, {"PermissionsBoundary", Obj(IamPermissionsBoundary())},
                          {"Tags", Objs(KeyValueTag())}};
  return s;
}
const FieldSet& IamRole() {
  static const FieldSet s{{"Path", S}, {"RoleName", S}, {"RoleId", S}, {"Arn", S}, {"CreateDate", S},
                          {"AssumeRolePolicyDocument", S}, {"Description", S}, {"MaxSessionDuration", S},
                          {"PermissionsBoundary", Obj(IamPermissionsBoundary())}, {"Tags", Objs(KeyValueTag())},
                          {"RoleLastUsed", Obj(IamRoleLastUsed())}};
  return s;
}
// CreateAccessKey's AccessKey and ListAccessKeys' metadata: never SecretAccessKey.
const FieldSet& IamAccessKey() {
  static const FieldSet s{{"UserName", S}, {"AccessKeyId", S}, {"Status", S}, {"CreateDate", S}};
  return s;
}
const FieldSet& IamPolicy() {
  static const FieldSet s{{"PolicyName", S}, {"PolicyId", S}, {"Arn", S}, {"Path", S}, {"DefaultVersionId", S},
                          {"AttachmentCount", S}, {"IsAttachable", S}, {"Description", S},
                          {"CreateDate", S}, {"UpdateDate", S}, {"Tags", Objs(KeyValueTag())}};
  return s;
}
const FieldSet& IamAttachedPolicy() {
  static const FieldSet s{{"PolicyName", S}, {"PolicyArn", S}};
  return s;
}
const FieldSet& IamGroup() {
  static const FieldSet s{{"Path", S}, {"GroupName", S}, {"GroupId", S}, {"Arn", S}, {"CreateDate", S}};
  return s;
}

// Virtual MFA devices: never Base32StringSeed or QRCodePNG (the TOTP seed).
const FieldSet& IamMfaDevice() {
  static const FieldSet s{{"UserName", S}, {"SerialNumber", S}, {"EnableDate", S}, {"User", Obj(IamUser())},
                          {"Tags", Objs(KeyValueTag())}};
  return s;
}
const FieldSet& IamContextEntry() {
  static const FieldSet s{{"ContextKeyName", S}, {"ContextKeyType", S}, {"ContextKeyValues", List}};
  return s;
}
const FieldSet& IamStatement() {
  static const FieldSet s{{"SourcePolicyId", S}, {"SourcePolicyType", S}};
  return s;
}
const FieldSet& IamResourceResult() {
  static const FieldSet s{{"EvalResourceName", S}, {"EvalResourceDecision", S},
                          {"MatchedStatements", Objs(IamStatement())}, {"MissingContextValues", List},
                          {"EvalDecisionDetails", Map}};
  return s;
}
const FieldSet& IamEvaluationResult() {
  static const FieldSet s{{"EvalActionName", S}, {"EvalResourceName", S}, {"EvalDecision", S},
                          {"MatchedStatements", Objs(IamStatement())}, {"MissingContextValues", List},
                          {"EvalDecisionDetails", Map}, {"ResourceSpecificResults", Objs(IamResourceResult())}};
  return s;
}
const FieldSet& IamPolicyVersion() {
  static const FieldSet s{{"Document", S}, {"VersionId", S}, {"IsDefaultVersion", S}, {"CreateDate", S}};
  return s;
}

const FieldSet& Iam() {
  static const FieldSet s{
      // MFA devices (EnableMFADevice's AuthenticationCode1/2 are one-time codes: never recorded).
      {"SerialNumber", S}, {"VirtualMFADeviceName", S}, {"VirtualMFADevice", Obj(IamMfaDevice())},
      {"MFADevices", Objs(IamMfaDevice())}, {"VirtualMFADevices", Objs(IamMfaDevice())}, {"AssignmentStatus", S},
      // Groups, policy versions, simulation.
      {"Group", Obj(IamGroup())}, {"PolicyVersion", Obj(IamPolicyVersion())}, {"Versions", Objs(IamPolicyVersion())},
      {"PolicySourceArn", S}, {"PolicyInputList", List}, {"PermissionsBoundaryPolicyInputList", List},
      {"ActionNames", List}, {"ResourceArns", List}, {"ResourcePolicy", S}, {"ResourceOwner", S}, {"CallerArn", S},
      {"ResourceHandlingOption", S}, {"ContextEntries", Objs(IamContextEntry())},
      {"EvaluationResults", Objs(IamEvaluationResult())},
      {"UserName", S}, {"RoleName", S}, {"GroupName", S}, {"Path", S}, {"PathPrefix", S}, {"NewPath", S},
      {"NewUserName", S}, {"PolicyArn", S}, {"PolicyName", S}, {"PolicyDocument", S},
      {"AssumeRolePolicyDocument", S}, {"Description", S}, {"MaxSessionDuration", S},
      {"PermissionsBoundary", S}, {"AccessKeyId", S}, {"Status", S}, {"Tags", Objs(KeyValueTag())},
      {"TagKeys", List}, {"Marker", S}, {"MaxItems", S}, {"IsTruncated", S}, {"User", Obj(IamUser())},
      {"Role", Obj(IamRole())}, {"AccessKey", Obj(IamAccessKey())}, {"AccessKeyMetadata", Objs(IamAccessKey())},
      {"Users", Objs(IamUser())}, {"Roles", Objs(IamRole())}, {"Groups", Objs(IamGroup())},
      {"Policy", Obj(IamPolicy())}, {"Policies", Objs(IamPolicy())},
      {"AttachedPolicies", Objs(IamAttachedPolicy())}, {"PolicyNames", List}, {"VersionId", S},
      {"SetAsDefault", S}, {"Scope", S}, {"OnlyAttached", S}, {"PolicyUsageFilter", S}};
  return s;
}

// ---- STS ----------------------------------------------------------------------------------------

const FieldSet& StsCredentials() {  // never SecretAccessKey or SessionToken
  static const FieldSet s{{"AccessKeyId", S}, {"Expiration", S}};
  return s;
}
const FieldSet& StsAssumedRoleUser() {
  static const FieldSet s{{"AssumedRoleId", S}, {"Arn", S}};
  return s;
}
const FieldSet& StsFederatedUser() {
  static const FieldSet s{{"FederatedUserId", S}, {"Arn", S}};
  return s;
}
const FieldSet& StsPolicyDescriptor() {
  static const FieldSet s{{"arn", S}};
  return s;
}

const FieldSet& Sts() {
  static const FieldSet s{
      {"RoleArn", S}, {"RoleSessionName", S}, {"DurationSeconds", S}, {"ExternalId", S}, {"Policy", S},
      {"PolicyArns", Objs(StsPolicyDescriptor())}, {"SerialNumber", S}, {"SourceIdentity", S},
      {"Tags", Objs(KeyValueTag())}, {"TransitiveTagKeys", List}, {"Name", S},
      {"Credentials", Obj(StsCredentials())}, {"AssumedRoleUser", Obj(StsAssumedRoleUser())},
      {"FederatedUser", Obj(StsFederatedUser())}, {"PackedPolicySize", S}, {"Account", S}, {"UserId", S},
      {"Arn", S}, {"AccessKeyId", S}};
  return s;
}

const FieldSet* ForEventSource(std::string_view source) {
  if (source == kKmsEventSource) return &Kms();
  if (source == kSecretsManagerEventSource) return &SecretsManager();
  if (source == kIamEventSource) return &Iam();
  if (source == kStsEventSource) return &Sts();
  return nullptr;
}

// ---- Filtering ----------------------------------------------------------------------------------

bool IsScalar(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetStringLength() <= kMaxStringBytes;
  return v.IsNumber() || v.IsBool();
}

void WriteScalar(JsonWriter& w, const rapidjson::Value& v) { v.Accept(w); }

void WriteKey(JsonWriter& w, const std::string& name) {
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
}

// Writes the allow-listed members of `obj` as an object; returns the number of members kept.
size_t WriteFiltered(JsonWriter& w, const rapidjson::Value& obj, const FieldSet& set);

// Writes `name: value` (`name` as recorded) when `value` has the shape `rule` allows; returns false
// (writing nothing) otherwise.
bool WriteMember(JsonWriter& w, const std::string& name, const rapidjson::Value& v, const Rule& rule) {
  switch (rule.shape) {
    case Shape::kScalar:
      if (!IsScalar(v)) return false;
      WriteKey(w, name);
      WriteScalar(w, v);
      return true;
    case Shape::kStringMap:
      if (!v.IsObject()) return false;
      WriteKey(w, name);
      w.StartObject();
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        if (!IsScalar(m->value) || m->name.GetStringLength() > kMaxStringBytes) continue;
        w.Key(m->name.GetString(), m->name.GetStringLength());
        WriteScalar(w, m->value);
      }
      w.EndObject();
      return true;
    case Shape::kStringList:
      if (!v.IsArray()) return false;
      WriteKey(w, name);
      w.StartArray();
      for (const auto& e : v.GetArray())
        if (e.IsString() && e.GetStringLength() <= kMaxStringBytes) WriteScalar(w, e);
      w.EndArray();
      return true;
    case Shape::kObject:
      if (!v.IsObject()) return false;
      WriteKey(w, name);
      WriteFiltered(w, v, *rule.children);
      return true;
    case Shape::kObjectList:
      if (!v.IsArray()) return false;
      WriteKey(w, name);
      w.StartArray();
      for (const auto& e : v.GetArray())
        if (e.IsObject()) WriteFiltered(w, e, *rule.children);
      w.EndArray();
      return true;
    case Shape::kMapOfStringLists:
      if (!v.IsObject()) return false;
      WriteKey(w, name);
      w.StartObject();
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        if (!m->value.IsArray() || m->name.GetStringLength() > kMaxStringBytes) continue;
        w.Key(m->name.GetString(), m->name.GetStringLength());
        w.StartArray();
        for (const auto& e : m->value.GetArray())
          if (e.IsString() && e.GetStringLength() <= kMaxStringBytes) WriteScalar(w, e);
        w.EndArray();
      }
      w.EndObject();
      return true;
  }
  return false;
}

size_t WriteFiltered(JsonWriter& w, const rapidjson::Value& obj, const FieldSet& set) {
  size_t kept = 0;
  w.StartObject();
  for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
    const NamedRule* named = set.Find(std::string_view(m->name.GetString(), m->name.GetStringLength()));
    if (named && WriteMember(w, named->recorded_name, m->value, named->rule)) ++kept;
  }
  w.EndObject();
  return kept;
}

}  // namespace

std::string RedactMessage(std::string_view event_source, const rapidjson::Value& message) {
  const FieldSet* set = ForEventSource(event_source);
  if (!set || !message.IsObject()) return {};
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  if (WriteFiltered(w, message, *set) == 0) return {};
  return std::string(sb.GetString(), sb.GetSize());
}

bool IsRecordedMember(std::string_view event_source, std::string_view name) {
  const FieldSet* set = ForEventSource(event_source);
  return set && set->Find(name) != nullptr;
}

std::string RedactMessageJson(std::string_view event_source, std::string_view json) {
  // In-situ parsing decodes strings inside `buffer` instead of copying them into the document's
  // allocator, so wiping `buffer` afterwards leaves no copy of a plaintext member behind.
  std::string buffer(json);
  rapidjson::Document d;
  d.ParseInsitu(buffer.data());
  std::string out = d.HasParseError() ? std::string() : RedactMessage(event_source, d);
  crypto::Cleanse(buffer);
  return out;
}

void WipeStrings(rapidjson::Value& message) {
  if (message.IsString()) {
    crypto::Cleanse(const_cast<char*>(message.GetString()), message.GetStringLength());
  } else if (message.IsArray()) {
    for (auto& element : message.GetArray()) WipeStrings(element);
  } else if (message.IsObject()) {
    for (auto& member : message.GetObject()) WipeStrings(member.value);
  }
}

}  // namespace meridian::audit
