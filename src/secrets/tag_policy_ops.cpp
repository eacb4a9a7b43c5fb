// Tags and resource policies: TagResource, UntagResource, PutResourcePolicy, GetResourcePolicy,
// DeleteResourcePolicy, ValidateResourcePolicy.
#include <algorithm>

#include "secrets/resource_policy.h"
#include "secrets/service_impl.h"

namespace meridian::secrets {

namespace {
Status EmptyResponse(JsonWriter& w) {
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}
}  // namespace

Status SecretsService::Impl::TagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  if (!req.Has("Tags")) return MissingMemberError("tags");
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, ParseTags(req));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    MERIDIAN_RETURN_IF_ERROR(MergeTags(s.tags, tags));
    s.last_changed_ms = now;
    return Status::Ok();
  }));
  (void)r;
  return EmptyResponse(w);
}

Status SecretsService::Impl::UntagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto keys, req.OptStringList("TagKeys", kMaxTagsPerSecret * 4, 128));
  if (!keys) return MissingMemberError("tagKeys");
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    const size_t before = s.tags.size();
    std::erase_if(s.tags, [&](const auto& t) { return std::find(keys->begin(), keys->end(), t.first) != keys->end(); });
    if (s.tags.size() != before) s.last_changed_ms = now;
    return Status::Ok();
  }));
  (void)r;
  return EmptyResponse(w);
}

Status SecretsService::Impl::PutResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto policy, req.RequiredString("ResourcePolicy", 1, kMaxResourcePolicyLength));
  MERIDIAN_ASSIGN_OR_RETURN(auto block_public, req.OptBool("BlockPublicPolicy"));
  MERIDIAN_ASSIGN_OR_RETURN(auto findings, CheckResourcePolicy(policy));
  if (block_public.value_or(false) && !findings.public_access.empty())
    return err::PublicPolicy("BlockPublicPolicy is set, and the resource policy grants broad access to the secret: " +
                             findings.public_access.front());
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    s.resource_policy = policy;
    s.last_changed_ms = now;
    return Status::Ok();
  }));
  w.StartObject();
  WriteArnAndName(w, r);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::GetResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto r, FindNow(secret_id, caller));
  w.StartObject();
  WriteArnAndName(w, r);
  if (!r.resource_policy.empty()) { w.Key("ResourcePolicy"); w.String(r.resource_policy); }
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::DeleteResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    if (!s.resource_policy.empty()) {
      s.resource_policy.clear();
      s.last_changed_ms = now;
    }
    return Status::Ok();
  }));
  w.StartObject();
  WriteArnAndName(w, r);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::ValidateResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, req.OptString("SecretId", 1, kMaxSecretIdLength));
  MERIDIAN_ASSIGN_OR_RETURN(auto policy, req.RequiredString("ResourcePolicy", 1, kMaxResourcePolicyLength));
  if (secret_id) MERIDIAN_RETURN_IF_ERROR(FindNow(*secret_id, caller).status());
  MERIDIAN_ASSIGN_OR_RETURN(auto findings, CheckResourcePolicy(policy));
  w.StartObject();
  w.Key("PolicyValidationPassed"); w.Bool(findings.public_access.empty());
  w.Key("ValidationErrors");
  w.StartArray();
  for (const auto& finding : findings.public_access) {
    w.StartObject();
    w.Key("CheckName"); w.String("BROAD_ACCESS_CHECK");
    w.Key("ErrorMessage"); w.String(finding);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::secrets
