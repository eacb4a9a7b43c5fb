// The in-process API for Meridian's own services (KmsService::GenerateDataKeyFor etc.).
#include <algorithm>

#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {

Result<KmsService::DataKey> KmsService::Impl::GenerateDataKeyFor(const Caller& caller, const std::string& key_input,
                                               const KmsService::Context& context, size_t n) {
  if (n < 1 || n > 1024) return errors::Validation("data keys are 1 to 1024 bytes");
  MERIDIAN_ASSIGN_OR_RETURN(auto key_id, ResolveKeyId(key_input, true, caller));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(key_id));
  if (!key || key->record.account_id != caller.account_id)
    return err::NotFound("Key '" + KeyArn(caller.account_id, key_id) + "' does not exist");
  EncryptionContext ctx(context.begin(), context.end());
  std::sort(ctx.begin(), ctx.end());
  MERIDIAN_RETURN_IF_ERROR(AuthorizeInternal(caller, *key, "kms:GenerateDataKey", grant_op::kGenerateDataKey, ctx));
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
  KmsService::DataKey out;
  out.plaintext = crypto::RandomSecret(n);
  MERIDIAN_ASSIGN_OR_RETURN(out.ciphertext_blob, Seal(*key, out.plaintext.view(), ctx));
  out.key_arn = key->record.arn;
  return out;
}

Result<crypto::SecureBytes> KmsService::Impl::DecryptFor(const Caller& caller, ByteView blob, const KmsService::Context& context,
                                       std::string* key_arn) {
  EncryptionContext ctx(context.begin(), context.end());
  std::sort(ctx.begin(), ctx.end());
  // Authorized on the key the ciphertext names, before anything is decrypted. A blob that names
  // no key of the caller's account fails in OpenBlob as InvalidCiphertextException.
  if (auto view = ParseCiphertextBlob(blob)) {
    MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(view->key_id));
    if (key && key->record.account_id == caller.account_id)
      MERIDIAN_RETURN_IF_ERROR(AuthorizeInternal(caller, *key, "kms:Decrypt", grant_op::kDecrypt, ctx));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto opened, OpenBlob(blob, ctx, std::nullopt, caller));
  if (key_arn) *key_arn = opened.key->record.arn;
  return std::move(opened.plaintext);
}

Result<std::string> KmsService::Impl::EnsureAwsManagedKey(const Caller& caller, const std::string& alias,
                                        const std::string& description) {
  if (alias.rfind("alias/aws/", 0) != 0) return errors::Validation("AWS managed key aliases begin with alias/aws/");
  auto existing = ResolveAlias(caller.account_id, alias, alias);
  if (existing.ok()) return KeyArn(caller.account_id, *existing);
  if (existing.status().type() != "NotFoundException") return existing.status();
  std::lock_guard create_lock(managed_key_mu_);
  InvalidateAliases();
  existing = ResolveAlias(caller.account_id, alias, alias);
  if (existing.ok()) return KeyArn(caller.account_id, *existing);
  KeyRecord r;
  r.key_id = NewKeyId();
  r.account_id = caller.account_id;
  r.region = opts_.region;
  r.arn = KeyArn(caller.account_id, r.key_id);
  r.description = description;
  r.key_manager = "AWS";
  r.creation_ms = clock_.NowMillis();
  r.policy = AwsManagedKeyPolicy(opts_.partition, caller.account_id, opts_.region, alias.substr(10));
  r.rotation_enabled = true;
  r.next_rotation_ms = r.creation_ms + r.rotation_period_days * kMsPerDay;
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  MERIDIAN_RETURN_IF_ERROR(AddBackingVersion(r, *txn, ""));
  MERIDIAN_RETURN_IF_ERROR(txn->Insert(storage::tables::kKeys, r.key_id, r.Serialize()));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_RETURN_IF_ERROR(txn->Insert(storage::tables::kAliases, AliasRowKey(caller.account_id, alias),
                                       AliasValue(r.key_id, now, now)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  InvalidateAliases();
  return r.arn;
}

}  // namespace meridian::kms
