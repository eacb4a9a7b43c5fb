#include <algorithm>
#include <cctype>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "kms/ciphertext_blob.h"
#include "kms/key_store.h"
#include "kms/kms.h"
#include "storage/schema.h"

namespace meridian::kms {
namespace {

constexpr int64_t kMsPerDay = 86400LL * 1000;
constexpr size_t kMaxTags = 50;
constexpr int kMaxOnDemandRotations = 25;
constexpr size_t kMaxKeyIdInput = 2048;

namespace err {
Status NotFound(std::string m) { return {"NotFoundException", std::move(m), 400}; }
Status Disabled(std::string m) { return {"DisabledException", std::move(m), 400}; }
Status InvalidState(std::string m) { return {"KMSInvalidStateException", std::move(m), 400}; }
Status InvalidCiphertext() {
  return {"InvalidCiphertextException",
          "The ciphertext is invalid, was altered, or was encrypted with a different encryption context.", 400};
}
Status IncorrectKey() {
  return {"IncorrectKeyException",
          "The key ID in the request does not identify the KMS key that encrypted the ciphertext.", 400};
}
Status AlreadyExists(std::string m) { return {"AlreadyExistsException", std::move(m), 400}; }
Status InvalidMarker() { return {"InvalidMarkerException", "The marker is not valid for this request.", 400}; }
Status Tag(std::string m) { return {"TagException", std::move(m), 400}; }
Status MalformedPolicy(std::string m) { return {"MalformedPolicyDocumentException", std::move(m), 400}; }
Status Unsupported(std::string m) { return {"UnsupportedOperationException", std::move(m), 400}; }
Status LimitExceeded(std::string m) { return {"LimitExceededException", std::move(m), 400}; }
Status InvalidKeyUsage(std::string m) { return {"InvalidKeyUsageException", std::move(m), 400}; }
Status DryRun() {
  return {"DryRunOperationException", "The request would have succeeded, but the DryRun parameter was set.", 412};
}
}  // namespace err

std::string NewKeyId() {
  Bytes r = crypto::RandomBytes(16);
  r[6] = (r[6] & 0x0f) | 0x40;  // UUID version 4
  r[8] = (r[8] & 0x3f) | 0x80;  // RFC 4122 variant
  std::string h = HexEncode(r);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

bool LooksLikeKeyId(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyIdLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '-'; }) ||
         (s.rfind("mrk-", 0) == 0 && s.size() == 36);
}

// Per-message key: HMAC-SHA256(material, "meridian-kms-v1" || nonce). Wiped by the caller.
crypto::SecureBytes DeriveMessageKey(const crypto::SecureBytes& material, ByteView nonce) {
  static constexpr std::string_view kLabel = "meridian-kms-v1";
  uint8_t input[kLabel.size() + kBlobNonceSize];
  std::memcpy(input, kLabel.data(), kLabel.size());
  std::memcpy(input + kLabel.size(), nonce.data(), kBlobNonceSize);
  auto d = crypto::HmacSha256(material.view(), ByteView(input, sizeof input));
  crypto::SecureBytes key(ByteView(d.data(), d.size()));
  crypto::Cleanse(d.data(), d.size());
  return key;
}

std::string DefaultKeyPolicy(const std::string& partition, const std::string& account) {
  return "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n"
         "    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n"
         "    \"Principal\" : {\n      \"AWS\" : \"arn:" + partition + ":iam::" + account + ":root\"\n    },\n"
         "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";
}

// Structural validation of a key policy; the IAM engine compiles and enforces it.
Status ValidatePolicyDocument(const std::string& policy) {
  rapidjson::Document d;
  d.Parse(policy.data(), policy.size());
  if (d.HasParseError() || !d.IsObject()) return err::MalformedPolicy("The key policy is not valid JSON.");
  auto st = d.FindMember("Statement");
  if (st == d.MemberEnd() || !(st->value.IsArray() || st->value.IsObject()))
    return err::MalformedPolicy("The key policy has no Statement element.");
  auto check = [](const rapidjson::Value& s, size_t index) -> Status {
    std::string where = "Statement " + std::to_string(index);
    if (!s.IsObject()) return err::MalformedPolicy(where + " is not a JSON object.");
    auto e = s.FindMember("Effect");
    if (e == s.MemberEnd() || !e->value.IsString() ||
        (std::string_view(e->value.GetString()) != "Allow" && std::string_view(e->value.GetString()) != "Deny"))
      return err::MalformedPolicy(where + ": Effect must be \"Allow\" or \"Deny\".");
    if (!s.HasMember("Action") && !s.HasMember("NotAction"))
      return err::MalformedPolicy(where + " has no Action or NotAction.");
    if (!s.HasMember("Principal") && !s.HasMember("NotPrincipal"))
      return err::MalformedPolicy(where + " has no Principal: a key policy statement must name one.");
    return Status::Ok();
  };
  if (st->value.IsObject()) return check(st->value, 0);
  if (st->value.Empty()) return err::MalformedPolicy("The key policy has an empty Statement list.");
  size_t i = 0;
  for (const auto& s : st->value.GetArray()) MERIDIAN_RETURN_IF_ERROR(check(s, i++));
  return Status::Ok();
}

using TagList = std::vector<std::pair<std::string, std::string>>;

Result<TagList> ParseTags(const JsonRequest& req) {
  TagList tags;
  const rapidjson::Value* v = req.Get("Tags");
  if (!v) return tags;
  if (!v->IsArray()) return SerializationError("Member Tags must be a list of {TagKey, TagValue}");
  for (const auto& t : v->GetArray()) {
    if (!t.IsObject()) return SerializationError("Member Tags must be a list of {TagKey, TagValue}");
    JsonRequest tag(t);
    MERIDIAN_ASSIGN_OR_RETURN(auto key, tag.RequiredString("TagKey", 1, 128));
    MERIDIAN_ASSIGN_OR_RETURN(auto value, tag.OptString("TagValue", 0, 256));
    if (!value) return MissingMemberError("tags.member.tagValue");
    if (key.rfind("aws:", 0) == 0) return err::Tag("Tag keys beginning with 'aws:' are reserved for AWS use.");
    tags.emplace_back(std::move(key), std::move(*value));
  }
  return tags;
}

// Merges `add` into `tags` (later values win) keeping them sorted.
Status MergeTags(TagList& tags, const TagList& add) {
  for (const auto& [k, v] : add) {
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == k; });
    if (it != tags.end()) it->second = v;
    else tags.emplace_back(k, v);
  }
  if (tags.size() > kMaxTags)
    return err::Tag("A KMS key can have at most " + std::to_string(kMaxTags) + " tags.");
  std::sort(tags.begin(), tags.end());
  return Status::Ok();
}

// Paging over a sorted list with an index marker.
struct Page {
  size_t begin = 0, end = 0;
  bool truncated = false;
};
Result<Page> Paginate(const JsonRequest& req, size_t total, int64_t max_limit, int64_t default_limit) {
  MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, max_limit));
  MERIDIAN_ASSIGN_OR_RETURN(auto marker, req.OptString("Marker", 1, 1024));
  Page p;
  if (marker) {
    if (marker->empty() || marker->size() > 9 || !std::all_of(marker->begin(), marker->end(), ::isdigit))
      return err::InvalidMarker();
    p.begin = std::stoul(*marker);
    if (p.begin > total) return err::InvalidMarker();
  }
  p.end = std::min(total, p.begin + static_cast<size_t>(limit.value_or(default_limit)));
  p.truncated = p.end < total;
  return p;
}

void WritePageEnd(JsonWriter& w, const Page& p) {
  w.Key("Truncated");
  w.Bool(p.truncated);
  if (p.truncated) {
    w.Key("NextMarker");
    w.String(std::to_string(p.end));
  }
}

}  // namespace

class KmsService::Impl {
 public:
  Impl(KmsOptions options, storage::Storage& storage, const crypto::RootKey& root_key, const Clock& clock)
      : opts_(std::move(options)), storage_(storage), keys_(storage, root_key), clock_(clock) {}

  using Op = Status (Impl::*)(const JsonRequest&, const Caller&, JsonWriter&);
  static const std::unordered_map<std::string_view, Op>& Ops() {
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
    };
    return ops;
  }

  Result<int> RunDueMaintenance();

  Result<KmsService::DataKey> GenerateDataKeyFor(const Caller& caller, const std::string& key_input,
                                                 const KmsService::Context& context, size_t n) {
    if (n < 1 || n > 1024) return errors::Validation("data keys are 1 to 1024 bytes");
    MERIDIAN_ASSIGN_OR_RETURN(auto key_id, ResolveKeyId(key_input, true, caller));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(key_id));
    if (!key || key->record.account_id != caller.account_id)
      return err::NotFound("Key '" + KeyArn(caller.account_id, key_id) + "' does not exist");
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
    EncryptionContext ctx(context.begin(), context.end());
    std::sort(ctx.begin(), ctx.end());
    KmsService::DataKey out;
    out.plaintext = crypto::RandomSecret(n);
    MERIDIAN_ASSIGN_OR_RETURN(out.ciphertext_blob, Seal(*key, out.plaintext.view(), ctx));
    out.key_arn = key->record.arn;
    return out;
  }

  Result<crypto::SecureBytes> DecryptFor(const Caller& caller, ByteView blob, const KmsService::Context& context,
                                         std::string* key_arn) {
    EncryptionContext ctx(context.begin(), context.end());
    std::sort(ctx.begin(), ctx.end());
    MERIDIAN_ASSIGN_OR_RETURN(auto opened, OpenBlob(blob, ctx, std::nullopt, caller));
    if (key_arn) *key_arn = opened.key->record.arn;
    return std::move(opened.plaintext);
  }

  Result<std::string> EnsureAwsManagedKey(const Caller& caller, const std::string& alias,
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
    r.policy = DefaultKeyPolicy(opts_.partition, caller.account_id);
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

 private:
  // ---- naming -------------------------------------------------------------------------------
  std::string KeyArn(const std::string& account, const std::string& key_id) const {
    return "arn:" + opts_.partition + ":kms:" + opts_.region + ":" + account + ":key/" + key_id;
  }
  std::string AliasArn(const std::string& account, const std::string& alias) const {
    return "arn:" + opts_.partition + ":kms:" + opts_.region + ":" + account + ":" + alias;
  }
  static std::string AliasRowKey(const std::string& account, const std::string& alias) {
    return account + "/" + alias;
  }

  // Resolves a KeyId member (key id, key ARN, and, when allowed, alias name or alias ARN) to a
  // key id in the caller's account. Existence is not checked here.
  Result<std::string> ResolveKeyId(const std::string& input, bool allow_alias, const Caller& caller) {
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

  Result<std::string> ResolveAlias(const std::string& account, const std::string& alias, const std::string& input) {
    const std::string row = AliasRowKey(account, alias);
    {
      std::shared_lock lock(alias_mu_);
      auto it = alias_cache_.find(row);
      if (it != alias_cache_.end()) return it->second;
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
    alias_cache_[row] = target;
    return target;
  }

  // The key named by the request member `member`, which must exist in the caller's account.
  Result<std::shared_ptr<const LoadedKey>> LoadKey(const JsonRequest& req, const char* member, bool allow_alias,
                                                   const Caller& caller) {
    MERIDIAN_ASSIGN_OR_RETURN(auto input, req.RequiredString(member, 1, kMaxKeyIdInput));
    MERIDIAN_ASSIGN_OR_RETURN(auto key_id, ResolveKeyId(input, allow_alias, caller));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(key_id));
    if (!key || key->record.account_id != caller.account_id)
      return err::NotFound("Key '" + KeyArn(caller.account_id, key_id) + "' does not exist");
    return key;
  }

  static Status RequireUsable(const KeyRecord& r) {
    if (r.state == key_state::kDisabled) return err::Disabled(r.arn + " is disabled.");
    if (r.state == key_state::kPendingDeletion) return err::InvalidState(r.arn + " is pending deletion.");
    return Status::Ok();
  }
  static Status RequireNotPendingDeletion(const KeyRecord& r) {
    if (r.state == key_state::kPendingDeletion) return err::InvalidState(r.arn + " is pending deletion.");
    return Status::Ok();
  }

  // Read-modify-write of one key record in a write transaction. `mutate` may also write other
  // rows through the transaction. The cache entry is dropped after the commit.
  template <typename Mutate>
  Status UpdateKey(const std::string& key_id, Mutate&& mutate) {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    MERIDIAN_ASSIGN_OR_RETURN(auto record, KeyStore::ReadRecord(*txn, key_id));
    if (!record) return err::NotFound("Key '" + key_id + "' does not exist");
    MERIDIAN_RETURN_IF_ERROR(mutate(*record, *txn));
    MERIDIAN_RETURN_IF_ERROR(KeyStore::WriteRecord(*txn, *record));
    Status st = txn->Commit();
    keys_.Invalidate(key_id);
    return st;
  }

  // Resolves KeyId (key id or ARN only) and applies `mutate`.
  template <typename Mutate>
  Result<std::string> UpdateNamedKey(const JsonRequest& req, const Caller& caller, Mutate&& mutate) {
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
    const std::string key_id = key->record.key_id;
    MERIDIAN_RETURN_IF_ERROR(UpdateKey(key_id, std::forward<Mutate>(mutate)));
    return key->record.arn;
  }

  Status AddBackingVersion(KeyRecord& r, storage::Transaction& txn, const std::string& rotation_type) {
    crypto::SecureBytes material = crypto::RandomSecret(crypto::kAesGcmKeySize);
    BackingKeyVersion v{HexEncode(crypto::RandomBytes(kBackingKeyIdSize)), clock_.NowMillis(), rotation_type};
    MERIDIAN_RETURN_IF_ERROR(keys_.WriteMaterial(txn, r.key_id, v.id_hex, material));
    r.versions.push_back(std::move(v));
    return Status::Ok();
  }

  static Result<EncryptionContext> ReadContext(const JsonRequest& req, const char* member) {
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

  static Status CheckAlgorithm(const JsonRequest& req, const char* member) {
    MERIDIAN_ASSIGN_OR_RETURN(auto alg, req.OptEnum(member, {"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1",
                                                             "RSAES_OAEP_SHA_256", "SM2PKE"}));
    if (alg && *alg != "SYMMETRIC_DEFAULT")
      return err::InvalidKeyUsage("The encryption algorithm " + *alg +
                                  " is not valid for a symmetric encryption KMS key; use SYMMETRIC_DEFAULT.");
    return Status::Ok();
  }

  static Status CheckGrantTokens(const JsonRequest& req) {
    return req.OptStringList("GrantTokens", 10, 8192).status();
  }

  // Encrypts under the key's current material.
  Result<Bytes> Seal(const LoadedKey& key, ByteView plaintext, const EncryptionContext& ctx) {
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

  struct Opened {
    std::shared_ptr<const LoadedKey> key;
    crypto::SecureBytes plaintext;
  };
  // Decrypts a blob under the caller's account; `expected_key_id`, when set, must be the key the
  // blob names (IncorrectKeyException otherwise).
  Result<Opened> OpenBlob(ByteView blob, const EncryptionContext& ctx, const std::optional<std::string>& expected_key_id,
                          const Caller& caller) {
    auto view = ParseCiphertextBlob(blob);
    if (!view) return err::InvalidCiphertext();
    if (expected_key_id && *expected_key_id != view->key_id) return err::IncorrectKey();
    MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(view->key_id));
    if (!key || key->record.account_id != caller.account_id) return err::InvalidCiphertext();
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
    auto material = key->material.find(HexEncode(view->backing_key_id));
    if (material == key->material.end()) return err::InvalidCiphertext();
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
  Result<Opened> Open(const JsonRequest& req, const char* blob_member, const char* context_member,
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

  // ---- operations ---------------------------------------------------------------------------
  Status CreateKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto policy, req.OptString("Policy", 1, 32768));
    MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, 8192));
    MERIDIAN_ASSIGN_OR_RETURN(auto usage, req.OptEnum("KeyUsage", {"SIGN_VERIFY", "ENCRYPT_DECRYPT",
                                                                   "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}));
    static const std::initializer_list<std::string_view> kSpecs = {
        "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
        "ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
        "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519"};
    MERIDIAN_ASSIGN_OR_RETURN(auto spec, req.OptEnum("KeySpec", kSpecs));
    MERIDIAN_ASSIGN_OR_RETURN(auto cmk_spec, req.OptEnum("CustomerMasterKeySpec", kSpecs));
    MERIDIAN_ASSIGN_OR_RETURN(auto origin, req.OptEnum("Origin", {"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM",
                                                                 "EXTERNAL_KEY_STORE"}));
    MERIDIAN_ASSIGN_OR_RETURN(auto multi_region, req.OptBool("MultiRegion"));
    MERIDIAN_ASSIGN_OR_RETURN(auto bypass, req.OptBool("BypassPolicyLockoutSafetyCheck"));
    (void)bypass;  // the lockout safety check arrives with the IAM engine
    MERIDIAN_ASSIGN_OR_RETURN(auto custom_store, req.OptString("CustomKeyStoreId", 1, 64));
    MERIDIAN_ASSIGN_OR_RETURN(auto tags, ParseTags(req));
    if (spec && cmk_spec)
      return errors::Validation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                                "CustomerMasterKeySpec is deprecated; use KeySpec.");
    const std::string key_spec = spec ? *spec : cmk_spec.value_or("SYMMETRIC_DEFAULT");
    const std::string key_usage = usage.value_or("ENCRYPT_DECRYPT");
    if (key_spec == "SYMMETRIC_DEFAULT" && key_usage != "ENCRYPT_DECRYPT")
      return errors::Validation("KeyUsage " + key_usage + " is not compatible with KeySpec SYMMETRIC_DEFAULT; "
                                "symmetric encryption keys have KeyUsage ENCRYPT_DECRYPT.");
    if (key_spec != "SYMMETRIC_DEFAULT")
      return err::Unsupported("KeySpec " + key_spec + " is not supported yet: Meridian creates SYMMETRIC_DEFAULT keys.");
    if (origin && *origin != "AWS_KMS")
      return err::Unsupported("Origin " + *origin + " is not supported: Meridian generates key material itself (AWS_KMS).");
    if (custom_store) return err::Unsupported("Custom key stores are not supported.");
    if (multi_region.value_or(false))
      return err::Unsupported("Multi-Region keys are not available in this deployment yet.");
    if (policy) MERIDIAN_RETURN_IF_ERROR(ValidatePolicyDocument(*policy));

    KeyRecord r;
    r.key_id = NewKeyId();
    r.account_id = caller.account_id;
    r.region = opts_.region;
    r.arn = KeyArn(caller.account_id, r.key_id);
    r.description = description.value_or("");
    r.key_usage = key_usage;
    r.key_spec = key_spec;
    r.creation_ms = clock_.NowMillis();
    r.policy = policy ? *policy : DefaultKeyPolicy(opts_.partition, caller.account_id);
    MERIDIAN_RETURN_IF_ERROR(MergeTags(r.tags, tags));

    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    MERIDIAN_RETURN_IF_ERROR(AddBackingVersion(r, *txn, ""));
    MERIDIAN_RETURN_IF_ERROR(txn->Insert(storage::tables::kKeys, r.key_id, r.Serialize()));
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());

    w.StartObject();
    w.Key("KeyMetadata");
    r.WriteMetadata(w);
    w.EndObject();
    return Status::Ok();
  }

  Status DescribeKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", true, caller));
    w.StartObject();
    w.Key("KeyMetadata");
    key->record.WriteMetadata(w);
    w.EndObject();
    return Status::Ok();
  }

  Status ListKeys(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, 1000));
    MERIDIAN_ASSIGN_OR_RETURN(auto marker, req.OptString("Marker", 1, 1024));
    if (marker && !LooksLikeKeyId(*marker)) return err::InvalidMarker();
    const size_t n = static_cast<size_t>(limit.value_or(100));
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    std::vector<KeyRecord> page;
    std::string after = marker.value_or("");
    bool truncated = false;
    // Keys of other accounts share the table; scan in chunks until the page is full.
    while (true) {
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kKeys, "", after, 256));
      for (auto& row : rows) {
        after = row.key;
        MERIDIAN_ASSIGN_OR_RETURN(auto r, KeyRecord::Parse(row.value));
        if (r.account_id != caller.account_id) continue;
        if (page.size() == n) {
          truncated = true;
          break;
        }
        page.push_back(std::move(r));
      }
      if (truncated || rows.size() < 256) break;
    }
    w.StartObject();
    w.Key("Keys");
    w.StartArray();
    for (const auto& r : page) {
      w.StartObject();
      w.Key("KeyId"); w.String(r.key_id);
      w.Key("KeyArn"); w.String(r.arn);
      w.EndObject();
    }
    w.EndArray();
    w.Key("Truncated");
    w.Bool(truncated);
    if (truncated) {
      w.Key("NextMarker");
      w.String(page.back().key_id);
    }
    w.EndObject();
    return Status::Ok();
  }

  Status EnableKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
      r.state = key_state::kEnabled;
      return Status::Ok();
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status DisableKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
      r.state = key_state::kDisabled;
      return Status::Ok();
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status UpdateKeyDescription(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto description, req.OptString("Description", 0, 8192));
    if (!description) return MissingMemberError("description");
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
      r.description = *description;
      return Status::Ok();
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status ScheduleKeyDeletion(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto days, req.OptInt("PendingWindowInDays", 7, 30));
    const int window = static_cast<int>(days.value_or(30));
    int64_t deletion_ms = 0;
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
      r.state = key_state::kPendingDeletion;
      r.pending_window_days = window;
      r.deletion_ms = clock_.NowMillis() + window * kMsPerDay;
      deletion_ms = r.deletion_ms;
      return Status::Ok();
    }));
    w.StartObject();
    w.Key("KeyId"); w.String(arn);
    w.Key("DeletionDate"); WriteTimestamp(w, deletion_ms);
    w.Key("KeyState"); w.String(key_state::kPendingDeletion);
    w.Key("PendingWindowInDays"); w.Int(window);
    w.EndObject();
    return Status::Ok();
  }

  Status CancelKeyDeletion(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [](KeyRecord& r, storage::Transaction&) {
      if (r.state != key_state::kPendingDeletion)
        return err::InvalidState(r.arn + " is not pending deletion.");
      r.state = key_state::kDisabled;
      r.deletion_ms = 0;
      r.pending_window_days = 0;
      return Status::Ok();
    }));
    w.StartObject();
    w.Key("KeyId"); w.String(arn);
    w.EndObject();
    return Status::Ok();
  }

  Status Encrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto plaintext, req.RequiredBlob("Plaintext", 1, 4096));
    crypto::SecureBytes guard(plaintext);
    crypto::Cleanse(plaintext);
    MERIDIAN_ASSIGN_OR_RETURN(auto ctx, ReadContext(req, "EncryptionContext"));
    MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "EncryptionAlgorithm"));
    MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
    MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", true, caller));
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
    if (dry_run.value_or(false)) return err::DryRun();
    MERIDIAN_ASSIGN_OR_RETURN(auto blob, Seal(*key, guard.view(), ctx));
    w.StartObject();
    w.Key("CiphertextBlob"); w.String(Base64Encode(blob));
    w.Key("KeyId"); w.String(key->record.arn);
    w.Key("EncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
    w.EndObject();
    return Status::Ok();
  }

  Status Decrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "EncryptionAlgorithm"));
    MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
    MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
    if (req.Has("Recipient")) return err::Unsupported("Recipient (Nitro Enclaves attestation) is not supported.");
    MERIDIAN_ASSIGN_OR_RETURN(auto opened, Open(req, "CiphertextBlob", "EncryptionContext", "KeyId", caller));
    if (dry_run.value_or(false)) return err::DryRun();
    std::string b64 = Base64Encode(opened.plaintext.view());
    w.StartObject();
    w.Key("KeyId"); w.String(opened.key->record.arn);
    w.Key("Plaintext"); w.String(b64);
    w.Key("EncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
    w.EndObject();
    crypto::Cleanse(b64);
    return Status::Ok();
  }

  Status ReEncrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "SourceEncryptionAlgorithm"));
    MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "DestinationEncryptionAlgorithm"));
    MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
    MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
    MERIDIAN_ASSIGN_OR_RETURN(auto dest_ctx, ReadContext(req, "DestinationEncryptionContext"));
    MERIDIAN_ASSIGN_OR_RETURN(auto dest, LoadKey(req, "DestinationKeyId", true, caller));
    MERIDIAN_ASSIGN_OR_RETURN(auto opened, Open(req, "CiphertextBlob", "SourceEncryptionContext", "SourceKeyId", caller));
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(dest->record));
    if (dry_run.value_or(false)) return err::DryRun();
    MERIDIAN_ASSIGN_OR_RETURN(auto blob, Seal(*dest, opened.plaintext.view(), dest_ctx));
    w.StartObject();
    w.Key("CiphertextBlob"); w.String(Base64Encode(blob));
    w.Key("SourceKeyId"); w.String(opened.key->record.arn);
    w.Key("KeyId"); w.String(dest->record.arn);
    w.Key("SourceEncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
    w.Key("DestinationEncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
    w.EndObject();
    return Status::Ok();
  }

  Status GenerateDataKeyImpl(const JsonRequest& req, const Caller& caller, JsonWriter& w, bool with_plaintext) {
    MERIDIAN_ASSIGN_OR_RETURN(auto spec, req.OptEnum("KeySpec", {"AES_256", "AES_128"}));
    MERIDIAN_ASSIGN_OR_RETURN(auto nbytes, req.OptInt("NumberOfBytes", 1, 1024));
    MERIDIAN_ASSIGN_OR_RETURN(auto ctx, ReadContext(req, "EncryptionContext"));
    MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
    MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
    if (with_plaintext && req.Has("Recipient"))
      return err::Unsupported("Recipient (Nitro Enclaves attestation) is not supported.");
    if (spec && nbytes)
      return errors::Validation("Please specify either KeySpec or NumberOfBytes, not both.");
    if (!spec && !nbytes) return errors::Validation("Please specify either KeySpec or NumberOfBytes.");
    const size_t n = nbytes ? static_cast<size_t>(*nbytes) : (*spec == "AES_256" ? 32 : 16);
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", true, caller));
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
    if (dry_run.value_or(false)) return err::DryRun();
    crypto::SecureBytes data_key = crypto::RandomSecret(n);
    MERIDIAN_ASSIGN_OR_RETURN(auto blob, Seal(*key, data_key.view(), ctx));
    w.StartObject();
    w.Key("CiphertextBlob"); w.String(Base64Encode(blob));
    if (with_plaintext) {
      std::string b64 = Base64Encode(data_key.view());
      w.Key("Plaintext"); w.String(b64);
      crypto::Cleanse(b64);
    }
    w.Key("KeyId"); w.String(key->record.arn);
    w.EndObject();
    return Status::Ok();
  }
  Status GenerateDataKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    return GenerateDataKeyImpl(req, caller, w, true);
  }
  Status GenerateDataKeyWithoutPlaintext(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    return GenerateDataKeyImpl(req, caller, w, false);
  }

  Status GenerateRandom(const JsonRequest& req, const Caller&, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto n, req.OptInt("NumberOfBytes", 1, 1024));
    if (req.Has("CustomKeyStoreId")) return err::Unsupported("Custom key stores are not supported.");
    if (req.Has("Recipient")) return err::Unsupported("Recipient (Nitro Enclaves attestation) is not supported.");
    if (!n) return errors::Validation("NumberOfBytes is required: ask for 1 to 1024 random bytes.");
    crypto::SecureBytes r = crypto::RandomSecret(static_cast<size_t>(*n));
    w.StartObject();
    w.Key("Plaintext"); w.String(Base64Encode(r.view()));
    w.EndObject();
    return Status::Ok();
  }

  // ---- aliases --------------------------------------------------------------------------------
  // Alias names: "alias/" + [a-zA-Z0-9/_-]+; "alias/aws/" is reserved for AWS managed keys.
  static Status ValidateAliasName(const std::string& name) {
    if (name.rfind("alias/", 0) != 0 || name.size() == 6)
      return ValidationError("aliasName", "Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$");
    for (char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-'))
        return errors::Validation(name + " contains invalid characters for an alias; use letters, digits, '/', '_' "
                                         "and '-'");
    if (name.rfind("alias/aws/", 0) == 0)
      return Status("NotAuthorizedException",
                    "Alias names beginning with alias/aws/ are reserved for AWS managed keys; choose another name.",
                    400);
    return Status::Ok();
  }

  static std::string AliasValue(const std::string& target, int64_t created_ms, int64_t updated_ms) {
    return "{\"target\":\"" + target + "\",\"created_ms\":" + std::to_string(created_ms) +
           ",\"updated_ms\":" + std::to_string(updated_ms) + "}";
  }

  void InvalidateAliases() {
    std::unique_lock lock(alias_mu_);
    alias_cache_.clear();
  }

  Status CreateAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("AliasName", 1, 256));
    MERIDIAN_RETURN_IF_ERROR(ValidateAliasName(name));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "TargetKeyId", false, caller));
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(key->record));
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    const int64_t now = clock_.NowMillis();
    Status st = txn->Insert(storage::tables::kAliases, AliasRowKey(caller.account_id, name),
                            AliasValue(key->record.key_id, now, now));
    if (st.type() == "ConflictException")
      return err::AlreadyExists("An alias with the name " + AliasArn(caller.account_id, name) + " already exists");
    MERIDIAN_RETURN_IF_ERROR(st);
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    InvalidateAliases();
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status UpdateAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("AliasName", 1, 256));
    MERIDIAN_RETURN_IF_ERROR(ValidateAliasName(name));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "TargetKeyId", false, caller));
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(key->record));
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    const std::string row = AliasRowKey(caller.account_id, name);
    MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kAliases, row));
    if (!existing) return err::NotFound("Alias " + AliasArn(caller.account_id, name) + " is not found.");
    rapidjson::Document d;
    d.Parse(existing->data(), existing->size());
    int64_t created = d.IsObject() && d.HasMember("created_ms") && d["created_ms"].IsInt64() ? d["created_ms"].GetInt64() : 0;
    MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kAliases, row, AliasValue(key->record.key_id, created, clock_.NowMillis())));
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    InvalidateAliases();
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status DeleteAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("AliasName", 1, 256));
    MERIDIAN_RETURN_IF_ERROR(ValidateAliasName(name));
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    bool existed = false;
    MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kAliases, AliasRowKey(caller.account_id, name), &existed));
    if (!existed) return err::NotFound("Alias " + AliasArn(caller.account_id, name) + " is not found.");
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    InvalidateAliases();
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status ListAliases(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    std::optional<std::string> key_filter;
    if (req.Has("KeyId")) {
      MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
      key_filter = key->record.key_id;
    }
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kAliases, caller.account_id + "/"));
    struct Alias {
      std::string name, target;
      int64_t created, updated;
    };
    std::vector<Alias> aliases;
    for (const auto& row : rows) {
      rapidjson::Document d;
      d.Parse(row.value.data(), row.value.size());
      if (d.HasParseError() || !d.IsObject() || !d.HasMember("target")) return errors::Internal("a stored alias is corrupt");
      Alias a{row.key.substr(caller.account_id.size() + 1), d["target"].GetString(), d["created_ms"].GetInt64(),
              d["updated_ms"].GetInt64()};
      if (key_filter && a.target != *key_filter) continue;
      aliases.push_back(std::move(a));
    }
    MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, aliases.size(), 100, 50));
    w.StartObject();
    w.Key("Aliases");
    w.StartArray();
    for (size_t i = page.begin; i < page.end; ++i) {
      const auto& a = aliases[i];
      w.StartObject();
      w.Key("AliasName"); w.String(a.name);
      w.Key("AliasArn"); w.String(AliasArn(caller.account_id, a.name));
      w.Key("TargetKeyId"); w.String(a.target);
      w.Key("CreationDate"); WriteTimestamp(w, a.created);
      w.Key("LastUpdatedDate"); WriteTimestamp(w, a.updated);
      w.EndObject();
    }
    w.EndArray();
    WritePageEnd(w, page);
    w.EndObject();
    return Status::Ok();
  }

  // ---- tags -----------------------------------------------------------------------------------
  Status TagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    if (!req.Has("Tags")) return MissingMemberError("tags");
    MERIDIAN_ASSIGN_OR_RETURN(auto tags, ParseTags(req));
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
      return MergeTags(r.tags, tags);
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status UntagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto keys, req.OptStringList("TagKeys", 50, 128));
    if (!keys) return MissingMemberError("tagKeys");
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
      std::erase_if(r.tags, [&](const auto& t) { return std::find(keys->begin(), keys->end(), t.first) != keys->end(); });
      return Status::Ok();
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status ListResourceTags(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
    const auto& tags = key->record.tags;
    MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, tags.size(), 50, 50));
    w.StartObject();
    w.Key("Tags");
    w.StartArray();
    for (size_t i = page.begin; i < page.end; ++i) {
      w.StartObject();
      w.Key("TagKey"); w.String(tags[i].first);
      w.Key("TagValue"); w.String(tags[i].second);
      w.EndObject();
    }
    w.EndArray();
    WritePageEnd(w, page);
    w.EndObject();
    return Status::Ok();
  }

  // ---- rotation -------------------------------------------------------------------------------
  static Status RequireRotatable(const KeyRecord& r) {
    MERIDIAN_RETURN_IF_ERROR(RequireUsable(r));
    if (r.key_spec != "SYMMETRIC_DEFAULT" || r.origin != "AWS_KMS")
      return err::Unsupported("Only symmetric encryption keys with AWS_KMS key material can be rotated.");
    return Status::Ok();
  }

  Status EnableKeyRotation(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto period, req.OptInt("RotationPeriodInDays", 90, 2560));
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireRotatable(r));
      const int days = static_cast<int>(period.value_or(r.rotation_enabled ? r.rotation_period_days : 365));
      if (!r.rotation_enabled || days != r.rotation_period_days) {
        r.rotation_period_days = days;
        r.next_rotation_ms = clock_.NowMillis() + days * kMsPerDay;
      }
      r.rotation_enabled = true;
      return Status::Ok();
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status DisableKeyRotation(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
      MERIDIAN_RETURN_IF_ERROR(RequireRotatable(r));
      r.rotation_enabled = false;
      r.next_rotation_ms = 0;
      return Status::Ok();
    }));
    (void)arn;
    w.StartObject();
    w.EndObject();
    return Status::Ok();
  }

  Status GetKeyRotationStatus(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
    const KeyRecord& r = key->record;
    w.StartObject();
    w.Key("KeyRotationEnabled"); w.Bool(r.rotation_enabled);
    w.Key("KeyId"); w.String(r.arn);
    if (r.rotation_enabled) {
      w.Key("RotationPeriodInDays"); w.Int(r.rotation_period_days);
      w.Key("NextRotationDate"); WriteTimestamp(w, r.next_rotation_ms);
    }
    if (r.on_demand_rotation_start_ms) {
      w.Key("OnDemandRotationStartDate"); WriteTimestamp(w, r.on_demand_rotation_start_ms);
    }
    w.EndObject();
    return Status::Ok();
  }

  Status RotateKeyOnDemand(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction& txn) {
      MERIDIAN_RETURN_IF_ERROR(RequireRotatable(r));
      int on_demand = static_cast<int>(std::count_if(r.versions.begin(), r.versions.end(),
                                                     [](const auto& v) { return v.rotation_type == "ON_DEMAND"; }));
      if (on_demand >= kMaxOnDemandRotations)
        return err::LimitExceeded("This key has reached the limit of " + std::to_string(kMaxOnDemandRotations) +
                                  " on-demand rotations.");
      return AddBackingVersion(r, txn, "ON_DEMAND");
    }));
    w.StartObject();
    w.Key("KeyId"); w.String(arn);
    w.EndObject();
    return Status::Ok();
  }

  Status ListKeyRotations(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
    const KeyRecord& r = key->record;
    const size_t rotations = r.versions.size() - 1;
    MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, rotations, 1000, 100));
    w.StartObject();
    w.Key("Rotations");
    w.StartArray();
    for (size_t i = page.begin; i < page.end; ++i) {
      const auto& v = r.versions[i + 1];
      w.StartObject();
      w.Key("KeyId"); w.String(r.arn);
      w.Key("RotationDate"); WriteTimestamp(w, v.created_ms);
      w.Key("RotationType"); w.String(v.rotation_type);
      w.EndObject();
    }
    w.EndArray();
    WritePageEnd(w, page);
    w.EndObject();
    return Status::Ok();
  }

  // ---- key policies ---------------------------------------------------------------------------
  static Status CheckPolicyName(const JsonRequest& req, bool required) {
    MERIDIAN_ASSIGN_OR_RETURN(auto name, req.OptString("PolicyName", 1, 128));
    if (!name && required) return MissingMemberError("policyName");
    if (name && *name != "default")
      return err::NotFound("Policy " + *name + " does not exist: a KMS key has one policy, named default.");
    return Status::Ok();
  }

  Status GetKeyPolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
    MERIDIAN_RETURN_IF_ERROR(CheckPolicyName(req, false));
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
    w.StartObject();
    w.Key("Policy"); w.String(key->record.policy);
    w.Key("PolicyName"); w.String("default");
    w.EndObject();
    return Status::Ok();
  }

  Status PutKeyPolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
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

  Status ListKeyPolicies(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
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

  KmsOptions opts_;
  storage::Storage& storage_;
  KeyStore keys_;
  const Clock& clock_;
  std::shared_mutex alias_mu_;
  std::unordered_map<std::string, std::string> alias_cache_;  // "<account>/<alias>" -> key id
  std::mutex managed_key_mu_;  // serializes creation of AWS managed keys
};

Result<int> KmsService::Impl::RunDueMaintenance() {
  const int64_t now = clock_.NowMillis();
  std::vector<std::string> due;
  {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
    std::string after;
    while (true) {
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kKeys, "", after, 512));
      for (const auto& row : rows) {
        after = row.key;
        MERIDIAN_ASSIGN_OR_RETURN(auto r, KeyRecord::Parse(row.value));
        if (r.region != opts_.region) continue;
        if ((r.state == key_state::kPendingDeletion && r.deletion_ms <= now) ||
            (r.rotation_enabled && r.state == key_state::kEnabled && r.next_rotation_ms <= now))
          due.push_back(r.key_id);
      }
      if (rows.size() < 512) break;
    }
  }
  int changed = 0;
  for (const auto& key_id : due) {
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    MERIDIAN_ASSIGN_OR_RETURN(auto record, KeyStore::ReadRecord(*txn, key_id));
    if (!record) continue;
    KeyRecord& r = *record;
    if (r.state == key_state::kPendingDeletion && r.deletion_ms <= now) {
      // Destroy the key, its material and every alias that points at it.
      MERIDIAN_ASSIGN_OR_RETURN(auto aliases, txn->Scan(storage::tables::kAliases, r.account_id + "/"));
      for (const auto& a : aliases) {
        rapidjson::Document d;
        d.Parse(a.value.data(), a.value.size());
        if (d.IsObject() && d.HasMember("target") && d["target"].IsString() && r.key_id == d["target"].GetString())
          MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kAliases, a.key));
      }
      MERIDIAN_RETURN_IF_ERROR(KeyStore::Destroy(*txn, r));
    } else if (r.rotation_enabled && r.state == key_state::kEnabled && r.next_rotation_ms <= now) {
      MERIDIAN_RETURN_IF_ERROR(AddBackingVersion(r, *txn, "AUTOMATIC"));
      while (r.next_rotation_ms <= now) r.next_rotation_ms += r.rotation_period_days * kMsPerDay;
      MERIDIAN_RETURN_IF_ERROR(KeyStore::WriteRecord(*txn, r));
    } else {
      continue;
    }
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    keys_.Invalidate(key_id);
    InvalidateAliases();
    ++changed;
  }
  return changed;
}

KmsService::KmsService(KmsOptions options, storage::Storage& storage, const crypto::RootKey& root_key,
                       const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), storage, root_key, clock)) {}

KmsService::~KmsService() = default;

bool KmsService::Knows(std::string_view operation) { return Impl::Ops().count(operation) > 0; }

Status KmsService::Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                          JsonWriter& out) {
  auto it = Impl::Ops().find(operation);
  if (it == Impl::Ops().end())
    return Status("UnknownOperationException", "KMS has no operation named " + std::string(operation) + ".", 400);
  JsonRequest req(request);
  return (impl_.get()->*(it->second))(req, caller, out);
}

Result<int> KmsService::RunDueMaintenance() { return impl_->RunDueMaintenance(); }

Result<KmsService::DataKey> KmsService::GenerateDataKeyFor(const Caller& caller, const std::string& key_id,
                                                           const Context& context, size_t number_of_bytes) {
  return impl_->GenerateDataKeyFor(caller, key_id, context, number_of_bytes);
}

Result<crypto::SecureBytes> KmsService::DecryptFor(const Caller& caller, ByteView ciphertext_blob,
                                                   const Context& context, std::string* key_arn) {
  return impl_->DecryptFor(caller, ciphertext_blob, context, key_arn);
}

Result<std::string> KmsService::EnsureAwsManagedKey(const Caller& caller, const std::string& alias,
                                                    const std::string& description) {
  return impl_->EnsureAwsManagedKey(caller, alias, description);
}

}  // namespace meridian::kms
