// Key policy operations: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies.
#include "kms/service_impl.h"

namespace meridian::kms {

Status KmsService::Impl::CheckPolicyName(const JsonRequest& req, bool required) {
  MERIDIAN_ASSIGN_OR_RETURN(auto name, req.OptString("PolicyName", 1, 128));
  if (!name && required) return MissingMemberError("policyName");
  if (name && *name != "default")
    return err::NotFound("Policy " + *name + " does not exist: a KMS key has one policy, named default.");
  return Status::Ok();
}

Status KmsService::Impl::CheckPolicyLockout(const std::string& policy, const std::string& key_arn,
                                            const Caller& caller) const {
  // Meridian's own services (no ARN) create keys with AWS's managed-key policies, which by design
  // do not let their caller change them.
  if (!opts_.authorizer || caller.principal_arn.rfind("arn:", 0) != 0) return Status::Ok();
  iam::policy::ParseOptions options;
  options.kind = iam::policy::PolicyKind::kResource;
  options.id = "key-policy";
  options.max_document_bytes = 32768;
  auto compiled = iam::policy::Policy::Parse(policy, options);
  if (!compiled.ok()) return err::MalformedPolicy(compiled.status().message());
  iam::AuthorizationRequest authz;
  authz.partition = opts_.partition;
  authz.principal_arn = caller.principal_arn;
  authz.principal_account = caller.account_id;
  authz.access_key_id = caller.access_key_id;
  authz.action = "kms:PutKeyPolicy";
  authz.region = opts_.region;
  authz.secure_transport = true;
  authz.now_ms = clock_.NowMillis();
  authz.resource_arn = key_arn;
  authz.resource_account = caller.account_id;
  authz.resource_policy = *compiled;
  authz.resource_policy_kind = iam::policy::ResourcePolicyKind::kKeyPolicy;
  authz.context.emplace_back("kms:CallerAccount", caller.account_id);
  if (!opts_.authorizer->Authorize(authz).ok())
    return err::MalformedPolicy(
        "The new key policy will not allow you to update the key policy in the future. It must allow " +
        caller.principal_arn + " kms:PutKeyPolicy (directly or through the account's IAM policies), or set "
        "BypassPolicyLockoutSafetyCheck.");
  return Status::Ok();
}

Status KmsService::Impl::GetKeyPolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_RETURN_IF_ERROR(CheckPolicyName(req, false));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  w.StartObject();
  w.Key("Policy"); w.String(key->record.policy);
  w.Key("PolicyName"); w.String("default");
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::PutKeyPolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_RETURN_IF_ERROR(CheckPolicyName(req, false));
  MERIDIAN_ASSIGN_OR_RETURN(auto policy, req.RequiredString("Policy", 1, 32768));
  MERIDIAN_ASSIGN_OR_RETURN(auto bypass, req.OptBool("BypassPolicyLockoutSafetyCheck"));
  MERIDIAN_RETURN_IF_ERROR(ValidatePolicyDocument(policy));
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    if (!bypass.value_or(false)) MERIDIAN_RETURN_IF_ERROR(CheckPolicyLockout(policy, r.arn, caller));
    r.policy = policy;
    return Status::Ok();
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ListKeyPolicies(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, 1000));
  (void)limit;
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  (void)key;
  w.StartObject();
  w.Key("PolicyNames");
  w.StartArray();
  w.String("default");
  w.EndArray();
  w.Key("Truncated"); w.Bool(false);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
