// Key resolution, state checks, sealing and opening ciphertext: what every operation uses.
#include <algorithm>
#include <cctype>

#include <rapidjson/document.h>

#include "common/encoding.h"
#include "kms/grant_token.h"
#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {

const std::unordered_map<std::string_view, KmsService::Impl::Op>& KmsService::Impl::Ops() {
  static const std::unordered_map<std::string_view, Op> ops = {
      {"CreateKey", &Impl::CreateKey},
      {"DescribeKey", &Impl::DescribeKey},
      {"ListKeys", &Impl::ListKeys},
      {"EnableKey", &Impl::EnableKey},
      {"DisableKey", &Impl::DisableKey},
      {"UpdateKeyDescription", &Impl::UpdateKeyDescription},
      {"ScheduleKeyDeletion", &Impl::ScheduleKeyDeletion},
      {"CancelKeyDeletion", &Impl::CancelKeyDeletion},
      {"Encrypt", &Impl::Encrypt},
      {"Decrypt", &Impl::Decrypt},
      {"ReEncrypt", &Impl::ReEncrypt},
      {"GenerateDataKey", &Impl::GenerateDataKey},
      {"GenerateDataKeyWithoutPlaintext", &Impl::GenerateDataKeyWithoutPlaintext},
      {"GenerateRandom", &Impl::GenerateRandom},
      {"CreateAlias", &Impl::CreateAlias},
      {"UpdateAlias", &Impl::UpdateAlias},
      {"DeleteAlias", &Impl::DeleteAlias},
      {"ListAliases", &Impl::ListAliases},
      {"TagResource", &Impl::TagResource},
      {"UntagResource", &Impl::UntagResource},
      {"ListResourceTags", &Impl::ListResourceTags},
      {"EnableKeyRotation", &Impl::EnableKeyRotation},
      {"DisableKeyRotation", &Impl::DisableKeyRotation},
      {"GetKeyRotationStatus", &Impl::GetKeyRotationStatus},
      {"RotateKeyOnDemand", &Impl::RotateKeyOnDemand},
      {"ListKeyRotations", &Impl::ListKeyRotations},
      {"GetKeyPolicy", &Impl::GetKeyPolicy},
      {"PutKeyPolicy", &Impl::PutKeyPolicy},
      {"ListKeyPolicies", &Impl::ListKeyPolicies},
      {"ReplicateKey", &Impl::ReplicateKey},
      {"UpdatePrimaryRegion", &Impl::UpdatePrimaryRegion},
      {"CreateGrant", &Impl::CreateGrant},
      {"ListGrants", &Impl::ListGrants},
      {"ListRetirableGrants", &Impl::ListRetirableGrants},
      {"RetireGrant", &Impl::RetireGrant},
      {"RevokeGrant", &Impl::RevokeGrant},
  };
  return ops;
}

std::string KmsService::Impl::KeyArn(const std::string& account, const std::string& key_id) const {
  return "arn:" + opts_.partition + ":kms:" + opts_.region + ":" + account + ":key/" + key_id;
}

std::string KmsService::Impl::AliasArn(const std::string& account, const std::string& alias) const {
  return "arn:" + opts_.partition + ":kms:" + opts_.region + ":" + account + ":" + alias;
}

std::string KmsService::Impl::AliasRowKey(const std::string& account, const std::string& alias) {
  return account + "/" + alias;
}

// Resolves a KeyId member (key id, key ARN, and, when allowed, alias name or alias ARN) to a
// key id in the caller's account. Existence is not checked here.
Result<std::string> KmsService::Impl::ResolveKeyId(const std::string& input, bool allow_alias, const Caller& caller) {
  std::string id = input;
  std::string_view prefix = "arn:";
  if (id.rfind(prefix, 0) == 0) {
    // arn:partition:kms:region:account:key/id  |  ...:alias/name
    std::vector<std::string> parts;
    size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      size_t colon = id.find(':', start);
      if (colon == std::string::npos) return err::NotFound("Invalid arn " + input);
      parts.push_back(id.substr(start, colon - start));
      start = colon + 1;
    }
    std::string resource = id.substr(start);
    if (parts[1] != opts_.partition || parts[2] != "kms" || parts[3] != opts_.region)
      return err::NotFound("Invalid arn " + input + ": it does not name a KMS key in " + opts_.region);
    if (parts[4] != caller.account_id)
      return err::NotFound("Key '" + input + "' does not exist");
    if (resource.rfind("key/", 0) == 0) {
      id = resource.substr(4);
    } else if (resource.rfind("alias/", 0) == 0 && allow_alias) {
      return ResolveAlias(caller.account_id, resource, input);
    } else {
      return err::NotFound("Invalid arn " + input);
    }
  } else if (id.rfind("alias/", 0) == 0) {
    if (!allow_alias) return err::NotFound("Invalid keyId " + input);
    return ResolveAlias(caller.account_id, id, input);
  }
  if (!LooksLikeKeyId(id)) return err::NotFound("Invalid keyId " + input);
  return id;
}

Result<std::string> KmsService::Impl::ResolveAlias(const std::string& account, const std::string& alias, const std::string& input) {
  const std::string row = AliasRowKey(account, alias);
  uint64_t generation;
  {
    std::shared_lock lock(alias_mu_);
    auto it = alias_cache_.find(row);
    if (it != alias_cache_.end()) return it->second;
    generation = alias_generation_;
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn->Get(storage::tables::kAliases, row));
  if (!value) return err::NotFound("Alias " + AliasArn(account, alias) + " is not found.");
  rapidjson::Document d;
  d.Parse(value->data(), value->size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("target") || !d["target"].IsString())
    return errors::Internal("stored alias " + input + " is corrupt");
  std::string target = d["target"].GetString();
  std::unique_lock lock(alias_mu_);
  if (alias_generation_ == generation) alias_cache_[row] = target;
  return target;
}

// The key named by the request member `member`, which must exist in the caller's account.
Result<std::shared_ptr<const LoadedKey>> KmsService::Impl::LoadKey(const JsonRequest& req, const char* member, bool allow_alias,
                                                 const Caller& caller) {
  MERIDIAN_ASSIGN_OR_RETURN(auto input, req.RequiredString(member, 1, kMaxKeyIdInput));
  MERIDIAN_ASSIGN_OR_RETURN(auto key_id, ResolveKeyId(input, allow_alias, caller));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(key_id));
  if (!key || key->record.account_id != caller.account_id)
    return err::NotFound("Key '" + KeyArn(caller.account_id, key_id) + "' does not exist");
  return key;
}

Status KmsService::Impl::RequireUsable(const KeyRecord& r) {
  if (r.state == key_state::kDisabled) return err::Disabled(r.arn + " is disabled.");
  return RequireNotPendingDeletion(r);
}

Status KmsService::Impl::RequireNotPendingDeletion(const KeyRecord& r) {
  if (r.state == key_state::kPendingDeletion) return err::InvalidState(r.arn + " is pending deletion.");
  if (r.state == key_state::kPendingReplicaDeletion)
    return err::InvalidState(r.arn + " is pending deletion: it is waiting for its replica keys to be deleted.");
  return Status::Ok();
}

Status KmsService::Impl::AddBackingVersion(KeyRecord& r, storage::Transaction& txn, const std::string& rotation_type) {
  crypto::SecureBytes material = crypto::RandomSecret(crypto::kAesGcmKeySize);
  BackingKeyVersion v{HexEncode(crypto::RandomBytes(kBackingKeyIdSize)), clock_.NowMillis(), rotation_type};
  MERIDIAN_RETURN_IF_ERROR(keys_.WriteMaterial(txn, r.key_id, v.id_hex, material));
  if (r.is_primary()) {
    for (const auto& replica : r.replica_regions) {
      rapidjson::StringBuffer sb;
      JsonWriter w(sb);
      w.StartObject();
      w.Key("key_id"); w.String(r.key_id);
      w.Key("version_id"); w.String(v.id_hex);
      w.Key("created_ms"); w.Int64(v.created_ms);
      w.Key("rotation_type"); w.String(v.rotation_type);
      w.Key("next_rotation_ms"); w.Int64(r.next_rotation_ms);
      w.EndObject();
      MERIDIAN_RETURN_IF_ERROR(Publish(txn, replica, "kms.MaterialAdded", std::string(sb.GetString(), sb.GetSize())));
    }
  }
  r.versions.push_back(std::move(v));
  return Status::Ok();
}

Result<EncryptionContext> KmsService::Impl::ReadContext(const JsonRequest& req, const char* member) {
  MERIDIAN_ASSIGN_OR_RETURN(auto ctx, req.OptStringMap(member));
  if (!ctx) return EncryptionContext();
  for (const auto& [k, v] : *ctx) {
    if (k.empty()) return ValidationError(CamelCase(member), "Encryption context keys must not be empty");
    if (k.size() > 0xffff || v.size() > 0xffff)
      return ValidationError(CamelCase(member), "Encryption context entries must be shorter than 65536 bytes");
  }
  if (ctx->size() > 0xffff) return ValidationError(CamelCase(member), "Too many encryption context entries");
  return std::move(*ctx);
}

Status KmsService::Impl::CheckAlgorithm(const JsonRequest& req, const char* member) {
  MERIDIAN_ASSIGN_OR_RETURN(auto alg, req.OptEnum(member, {"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1",
                                                           "RSAES_OAEP_SHA_256", "SM2PKE"}));
  if (alg && *alg != "SYMMETRIC_DEFAULT")
    return err::InvalidKeyUsage("The encryption algorithm " + *alg +
                                " is not valid for a symmetric encryption KMS key; use SYMMETRIC_DEFAULT.");
  return Status::Ok();
}

Status KmsService::Impl::CheckGrantTokens(const JsonRequest& req) {
  MERIDIAN_ASSIGN_OR_RETURN(auto tokens, req.OptStringList("GrantTokens", 10, 8192));
  if (!tokens) return Status::Ok();
  for (const auto& token : *tokens)
    if (token.empty() || !ParseGrantToken(token)) return err::InvalidGrantToken();
  return Status::Ok();
}

// Encrypts under the key's current material.
Result<Bytes> KmsService::Impl::Seal(const LoadedKey& key, ByteView plaintext, const EncryptionContext& ctx) {
  const BackingKeyVersion& version = key.record.current_version();
  auto material = key.material.find(version.id_hex);
  if (material == key.material.end()) return errors::Internal("key material missing for " + key.record.key_id);
  auto backing_id = HexDecode(version.id_hex);
  Bytes nonce = crypto::RandomBytes(kBlobNonceSize);
  Bytes blob = BuildBlobHeader(key.record.key_id, *backing_id, nonce);
  Bytes aad = blob;
  Bytes ctx_bytes = SerializeEncryptionContext(ctx);
  aad.insert(aad.end(), ctx_bytes.begin(), ctx_bytes.end());
  crypto::SecureBytes message_key = DeriveMessageKey(material->second, nonce);
  MERIDIAN_RETURN_IF_ERROR(crypto::AesGcmSeal(message_key.view(), ByteView(nonce.data(), crypto::kAesGcmIvSize),
                                              aad, plaintext, blob));
  return blob;
}

// Decrypts a blob under the caller's account; `expected_key_id`, when set, must be the key the
// blob names (IncorrectKeyException otherwise).
Result<KmsService::Impl::Opened> KmsService::Impl::OpenBlob(ByteView blob, const EncryptionContext& ctx, const std::optional<std::string>& expected_key_id,
                        const Caller& caller) {
  auto view = ParseCiphertextBlob(blob);
  if (!view) return err::InvalidCiphertext();
  if (expected_key_id && *expected_key_id != view->key_id) return err::IncorrectKey();
  MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(view->key_id));
  if (!key || key->record.account_id != caller.account_id) return err::InvalidCiphertext();
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
  auto material = key->material.find(HexEncode(view->backing_key_id));
  if (material == key->material.end()) {
    // A version another frontend sharing the storage has just added (a rotation) may not have
    // reached this process's cache yet (storage/change_feed.h): read the key again, once.
    keys_.Invalidate(view->key_id);
    MERIDIAN_ASSIGN_OR_RETURN(key, keys_.Get(view->key_id));
    if (!key || key->record.account_id != caller.account_id) return err::InvalidCiphertext();
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
    material = key->material.find(HexEncode(view->backing_key_id));
    if (material == key->material.end()) return err::InvalidCiphertext();
  }
  Bytes aad(view->header.begin(), view->header.end());
  Bytes ctx_bytes = SerializeEncryptionContext(ctx);
  aad.insert(aad.end(), ctx_bytes.begin(), ctx_bytes.end());
  crypto::SecureBytes message_key = DeriveMessageKey(material->second, view->nonce);
  Opened out;
  if (!crypto::AesGcmOpen(message_key.view(), view->nonce.subspan(0, crypto::kAesGcmIvSize), aad,
                          view->ciphertext_and_tag, out.plaintext))
    return err::InvalidCiphertext();
  out.key = std::move(key);
  return out;
}

// Decrypts the blob in request member `blob_member`; if `expected_key_member` is present in the
// request it must name the key the blob was encrypted under.
Result<KmsService::Impl::Opened> KmsService::Impl::Open(const JsonRequest& req, const char* blob_member, const char* context_member,
                    const char* expected_key_member, const Caller& caller) {
  MERIDIAN_ASSIGN_OR_RETURN(auto blob, req.RequiredBlob(blob_member, 1, 6144));
  MERIDIAN_ASSIGN_OR_RETURN(auto ctx, ReadContext(req, context_member));
  std::optional<std::string> expected;
  if (req.Has(expected_key_member)) {
    MERIDIAN_ASSIGN_OR_RETURN(auto input, req.RequiredString(expected_key_member, 1, kMaxKeyIdInput));
    MERIDIAN_ASSIGN_OR_RETURN(auto id, ResolveKeyId(input, true, caller));
    expected = id;
  }
  return OpenBlob(blob, ctx, expected, caller);
}

}  // namespace meridian::kms
