// What the authorizer needs to know about a KMS request: the key it acts on, the key policy, the
// KMS condition keys, and a grant of the key that allows the request (KmsService::ResourceFor);
// and the same decision for Meridian's own services calling in-process (AuthorizeInternal).
#include "kms/grant_set.h"
#include "kms/grant_token.h"
#include "kms/service_impl.h"

namespace meridian::kms {
namespace {

// The encryption context of request member `member`, sorted by key; empty when absent or invalid
// (an invalid one fails the operation itself).
EncryptionContext ContextOf(const JsonRequest& req, const char* member) {
  auto ctx = req.OptStringMap(member);
  return ctx.ok() && *ctx ? std::move(**ctx) : EncryptionContext();
}

// The grant operation a KMS operation uses (0 for operations grants cannot allow).
GrantOps GrantOpFor(std::string_view operation) {
  if (operation == "Encrypt") return grant_op::kEncrypt;
  if (operation == "Decrypt") return grant_op::kDecrypt;
  if (operation == "GenerateDataKey") return grant_op::kGenerateDataKey;
  if (operation == "GenerateDataKeyWithoutPlaintext") return grant_op::kGenerateDataKeyWithoutPlaintext;
  if (operation == "DescribeKey") return grant_op::kDescribeKey;
  if (operation == "ReEncryptFrom") return grant_op::kReEncryptFrom;
  if (operation == "ReEncryptTo") return grant_op::kReEncryptTo;
  return 0;
}

// The encryption context a grant's constraint is checked against for `operation`.
const char* ContextMemberFor(std::string_view operation) {
  if (operation == "ReEncryptFrom") return "SourceEncryptionContext";
  if (operation == "ReEncryptTo") return "DestinationEncryptionContext";
  return "EncryptionContext";
}

void AddContextKeys(std::vector<std::pair<std::string, std::string>>& out, const EncryptionContext& ctx) {
  for (const auto& [k, v] : ctx) {
    out.emplace_back("kms:EncryptionContext:" + k, v);
    out.emplace_back("kms:EncryptionContextKeys", k);
  }
}

}  // namespace

std::string KmsService::Impl::AllowingGrantId(const LoadedKey& key, std::string_view operation, const JsonRequest& req,
                                              const Caller& caller) {
  const GrantSet& grants = key.grants;
  if (grants.size() == 0) return "";
  const Grant* g = nullptr;
  if (const GrantOps op = GrantOpFor(operation)) {
    g = grants.FindAllowing(caller.principal_arn, op, ContextOf(req, ContextMemberFor(operation)));
  } else if (operation == "CreateGrant") {
    // A grant that allows CreateGrant lets its grantee create grants that are equally or more
    // restrictive: a subset of its operations, an equal or stricter constraint.
    auto ops = ReadGrantOperations(req);
    auto constraint = ReadGrantConstraints(req);
    if (ops.ok() && constraint.ok()) g = grants.FindAllowingCreateGrant(caller.principal_arn, *ops, *constraint);
  } else if (operation == "RetireGrant") {
    // The grant being retired decides: its retiring principal, or its grantee when it allows
    // RetireGrant ("Retiring and revoking grants").
    std::string grant_id;
    if (auto token = req.OptString("GrantToken", 1, 8192); token.ok() && *token) {
      if (auto named = ParseGrantToken(**token)) grant_id = named->grant_id;
    } else if (auto id = req.OptString("GrantId", 1, 128); id.ok() && *id) {
      grant_id = **id;
    }
    const Grant* target = grant_id.empty() ? nullptr : grants.Find(grant_id);
    if (target && (CallerIsPrincipal(target->retiring_principal, caller.principal_arn) ||
                   (target->allows(grant_op::kRetireGrant) &&
                    CallerIsPrincipal(target->grantee_principal, caller.principal_arn))))
      g = target;
  }
  return g ? g->grant_id : "";
}

std::optional<KmsService::AuthorizationResource> KmsService::Impl::ResourceFor(std::string_view operation,
                                                                              const rapidjson::Value& request,
                                                                              const Caller& caller) {
  JsonRequest req(request);
  std::optional<std::string> key_id;
  // The member that names the key: KeyId, TargetKeyId (aliases), DestinationKeyId (ReEncrypt);
  // for Decrypt without KeyId, the key the ciphertext names; for RetireGrant, the grant token's.
  for (const char* member : {"KeyId", "TargetKeyId", "DestinationKeyId"}) {
    auto v = req.OptString(member, 1, kMaxKeyIdInput);
    if (!v.ok() || !*v) continue;
    auto id = ResolveKeyId(**v, operation != "EnableKey" && operation != "DisableKey", caller);
    if (id.ok()) key_id = *id;
    break;
  }
  if (!key_id && (operation == "Decrypt" || operation == "ReEncrypt")) {
    auto blob = req.OptBlob("CiphertextBlob", 1, 6144);
    if (blob.ok() && *blob)
      if (auto view = ParseCiphertextBlob(**blob)) key_id = view->key_id;
  }
  if (!key_id && operation == "RetireGrant") {
    auto token = req.OptString("GrantToken", 1, 8192);
    if (token.ok() && *token)
      if (auto named = ParseGrantToken(**token)) key_id = named->key_id;
  }
  if (!key_id) return std::nullopt;
  if (operation == "ReEncrypt") {
    // Two keys, two permissions ("ReEncrypt" in the API reference): kms:ReEncryptTo on the
    // destination key and kms:ReEncryptFrom on the key that protects the ciphertext (SourceKeyId,
    // or the one the ciphertext names), even when they are the same key.
    auto destination = ResourceForKey(*key_id, "ReEncryptTo", req, caller);
    if (!destination) return std::nullopt;
    destination->action = "kms:ReEncryptTo";
    std::optional<std::string> source_id;
    if (auto v = req.OptString("SourceKeyId", 1, kMaxKeyIdInput); v.ok() && *v) {
      if (auto id = ResolveKeyId(**v, true, caller); id.ok()) source_id = *id;
    } else if (auto blob = req.OptBlob("CiphertextBlob", 1, 6144); blob.ok() && *blob) {
      if (auto view = ParseCiphertextBlob(**blob)) source_id = view->key_id;
    }
    if (source_id)
      if (auto source = ResourceForKey(*source_id, "ReEncryptFrom", req, caller)) {
        source->action = "kms:ReEncryptFrom";
        destination->also_required.push_back(std::move(*source));
      }
    return destination;
  }
  return ResourceForKey(*key_id, operation, req, caller);
}

std::optional<KmsService::AuthorizationResource> KmsService::Impl::ResourceForKey(const std::string& key_id,
                                                                                 std::string_view operation,
                                                                                 const JsonRequest& req,
                                                                                 const Caller& caller) {
  auto key = keys_.Get(key_id);
  if (!key.ok() || !*key || (*key)->record.account_id != caller.account_id) return std::nullopt;
  AuthorizationResource r;
  r.arn = (*key)->record.arn;
  r.account_id = (*key)->record.account_id;
  r.policy = (*key)->policy;
  r.policy_kind = iam::policy::ResourcePolicyKind::kKeyPolicy;
  r.context.emplace_back("kms:CallerAccount", caller.account_id);
  for (const char* member : {"EncryptionContext", "SourceEncryptionContext", "DestinationEncryptionContext"})
    AddContextKeys(r.context, ContextOf(req, member));
  if (operation == "CreateGrant") {
    // Condition keys of CreateGrant (Developer Guide, "AWS KMS condition keys"). The constraint's
    // pairs are the request's encryption context (kms:EncryptionContext:*, EncryptionContextKeys).
    if (auto grantee = req.OptString("GranteePrincipal", 1, 256); grantee.ok() && *grantee)
      r.context.emplace_back("kms:GranteePrincipal", **grantee);
    if (auto retiring = req.OptString("RetiringPrincipal", 1, 256); retiring.ok() && *retiring)
      r.context.emplace_back("kms:RetiringPrincipal", **retiring);
    if (auto ops = ReadGrantOperations(req); ops.ok())
      for (auto name : GrantOpNames(*ops)) r.context.emplace_back("kms:GrantOperations", std::string(name));
    if (auto constraint = ReadGrantConstraints(req); constraint.ok() && constraint->type != ConstraintType::kNone) {
      r.context.emplace_back("kms:GrantConstraintType", std::string(ConstraintTypeName(constraint->type)));
      AddContextKeys(r.context, constraint->pairs);
    }
  }
  // Requests that reach KMS directly are never made by an AWS service for a resource of its own.
  if (operation == "CreateGrant" || operation == "ListGrants" || operation == "RevokeGrant")
    r.context.emplace_back("kms:GrantIsForAWSResource", "false");
  if (operation == "RetireGrant") {
    // "The kms:RetireGrant permission is not effective in a key policy": the grant itself, the
    // account, or an IAM policy of the account decide ("Retiring and revoking grants").
    r.policy = nullptr;
    r.policy_kind = iam::policy::ResourcePolicyKind::kResourceBased;
  }
  r.allowing_grant_id = AllowingGrantId(**key, operation, req, caller);
  return r;
}

Status KmsService::Impl::AuthorizeInternal(const Caller& caller, const LoadedKey& key, std::string_view action,
                                           GrantOps op, const EncryptionContext& context) const {
  if (!opts_.authorizer) return Status::Ok();
  // Meridian's own scheduled work (e.g. Secrets Manager's rotation) runs as the service principal
  // ("secretsmanager.amazonaws.com"), never as a credential: the caller that configured it was
  // authorized then. External callers always carry an ARN established by SigV4.
  if (caller.principal_arn.rfind("arn:", 0) != 0) return Status::Ok();
  iam::AuthorizationRequest authz;
  authz.partition = opts_.partition;
  authz.principal_arn = caller.principal_arn;
  authz.principal_account = caller.account_id;
  authz.access_key_id = caller.access_key_id;
  authz.action = std::string(action);
  authz.region = opts_.region;
  // The call never leaves the process: it cannot be observed in transit. The caller's source IP
  // and endpoint are not known here (the calling service has them).
  authz.secure_transport = true;
  authz.now_ms = clock_.NowMillis();
  authz.resource_arn = key.record.arn;
  authz.resource_account = key.record.account_id;
  authz.resource_policy = key.policy;
  authz.resource_policy_kind = iam::policy::ResourcePolicyKind::kKeyPolicy;
  authz.context.emplace_back("kms:CallerAccount", caller.account_id);
  AddContextKeys(authz.context, context);
  // The authorizer sets kms:ViaService from it.
  authz.via_service = "secretsmanager." + opts_.region + ".amazonaws.com";
  if (const Grant* g = key.grants.FindAllowing(caller.principal_arn, op, context)) authz.allowing_grant_id = g->grant_id;
  if (!authz.resource_policy)
    return errors::AccessDenied("The policy of " + key.record.arn + " cannot be evaluated; replace it with PutKeyPolicy.");
  return opts_.authorizer->Authorize(authz);
}

}  // namespace meridian::kms
