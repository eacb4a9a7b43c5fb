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
  (void)bypass;
  MERIDIAN_RETURN_IF_ERROR(ValidatePolicyDocument(policy));
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
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
