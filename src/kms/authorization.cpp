// Which key a request acts on, for the authorizer (KmsService::ResourceFor).
#include "kms/service_impl.h"

namespace meridian::kms {

std::optional<KmsService::AuthorizationResource> KmsService::Impl::ResourceFor(std::string_view operation,
                                                                              const rapidjson::Value& request,
                                                                              const Caller& caller) {
  JsonRequest req(request);
  std::optional<std::string> key_id;
  // The member that names the key: KeyId, TargetKeyId (aliases), DestinationKeyId (ReEncrypt);
  // for Decrypt without KeyId, the key the ciphertext names.
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
  if (!key_id) return std::nullopt;
  auto key = keys_.Get(*key_id);
  if (!key.ok() || !*key || (*key)->record.account_id != caller.account_id) return std::nullopt;
  AuthorizationResource r;
  r.arn = (*key)->record.arn;
  r.account_id = (*key)->record.account_id;
  r.policy = (*key)->policy;
  r.policy_kind = iam::policy::ResourcePolicyKind::kKeyPolicy;
  r.context.emplace_back("kms:CallerAccount", caller.account_id);
  for (const char* member : {"EncryptionContext", "SourceEncryptionContext", "DestinationEncryptionContext"}) {
    auto ctx = req.OptStringMap(member);
    if (!ctx.ok() || !*ctx) continue;
    for (const auto& [k, v] : **ctx) {
      r.context.emplace_back("kms:EncryptionContext:" + k, v);
      r.context.emplace_back("kms:EncryptionContextKeys", k);
    }
  }
  return r;
}

}  // namespace meridian::kms
