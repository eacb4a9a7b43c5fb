// KmsService::Impl: the KMS service's private implementation, shared by the files that
// implement its operations (one file per group: key lifecycle, cryptographic operations,
// aliases, tags, rotation, key policies; maintenance; the in-process API). Not a public header.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/aws_json.h"
#include "crypto/crypto.h"
#include "kms/ciphertext_blob.h"
#include "kms/errors.h"
#include "kms/grant.h"
#include "kms/key_record.h"
#include "kms/key_store.h"
#include "kms/kms.h"

namespace meridian::kms {

inline constexpr int64_t kMsPerDay = 86400LL * 1000;
inline constexpr size_t kMaxTags = 50;
inline constexpr int kMaxOnDemandRotations = 25;
inline constexpr size_t kMaxKeyIdInput = 2048;
// Grant quotas. AWS allows 50,000 grants per key and 500 per grantee principal per key; every
// grant of a key is cached with the key (and re-read when one changes), so Meridian keeps the
// per-key total lower.
inline constexpr size_t kMaxGrantsPerKey = 10000;
inline constexpr size_t kMaxGrantsPerGranteePerKey = 500;

// Key ids: UUID v4 for single-Region keys.
std::string NewKeyId();
// Multi-Region key ids: "mrk-" + 32 hex digits, the same in every region.
std::string NewMultiRegionKeyId();
bool LooksLikeKeyId(std::string_view s);
// Per-message key: HMAC-SHA256(material, "meridian-kms-v1" || nonce) (docs/ciphertext-format.md).
crypto::SecureBytes DeriveMessageKey(const crypto::SecureBytes& material, ByteView nonce);
// The policy AWS gives a key created without one: the account root may do everything, which
// delegates access control to IAM policies.
std::string DefaultKeyPolicy(const std::string& partition, const std::string& account);
// The policy of an AWS managed key ("auto-<service>-2", e.g. alias/aws/secretsmanager): every
// principal of the account may use it for cryptography only through `service`
// (kms:ViaService "<service>.<region>.amazonaws.com" and kms:CallerAccount); the account root
// may Describe*/Get*/List* and RevokeGrant directly.
std::string AwsManagedKeyPolicy(const std::string& partition, const std::string& account, const std::string& region,
                                const std::string& service);
// Structural validation of a key policy; the IAM engine compiles and enforces it.
Status ValidatePolicyDocument(const std::string& policy);

using TagList = std::vector<std::pair<std::string, std::string>>;
// The Tags member ([{TagKey, TagValue}]) with AWS's constraints.
Result<TagList> ParseTags(const JsonRequest& req);
// Merges `add` into `tags` (later values win), keeping them sorted; at most kMaxTags.
Status MergeTags(TagList& tags, const TagList& add);

// Paging over a sorted list with an index marker (Limit / Marker / Truncated / NextMarker).
struct Page {
  size_t begin = 0, end = 0;
  bool truncated = false;
};
Result<Page> Paginate(const JsonRequest& req, size_t total, int64_t max_limit, int64_t default_limit);
void WritePageEnd(JsonWriter& w, const Page& p);

class KmsService::Impl {
 public:
  Impl(KmsOptions options, storage::Storage& storage, const crypto::RootKey& root_key, const Clock& clock)
      : opts_(std::move(options)), storage_(storage), keys_(storage, root_key), clock_(clock) {}

  // Every operation has this signature; Ops() maps X-Amz-Target names to them.
  using Op = Status (Impl::*)(const JsonRequest&, const Caller&, JsonWriter&);
  static const std::unordered_map<std::string_view, Op>& Ops();
  Result<int> RunDueMaintenance();
  Result<KmsService::DataKey> GenerateDataKeyFor(const Caller& caller, const std::string& key_input,
                                                 const KmsService::Context& context, size_t n);
  Result<crypto::SecureBytes> DecryptFor(const Caller& caller, ByteView blob, const KmsService::Context& context,
                                         std::string* key_arn);
  Result<std::string> EnsureAwsManagedKey(const Caller& caller, const std::string& alias,
                                          const std::string& description);
  std::optional<KmsService::AuthorizationResource> ResourceFor(std::string_view operation,
                                                               const rapidjson::Value& request, const Caller& caller);

 private:
  // ---- naming ------------------------------------------------------------------------
  std::string KeyArn(const std::string& account, const std::string& key_id) const;
  std::string AliasArn(const std::string& account, const std::string& alias) const;
  static std::string AliasRowKey(const std::string& account, const std::string& alias);
  // Resolves a KeyId member (key id, key ARN, and, when allowed, alias name or alias ARN) to a
  // key id in the caller's account. Existence is not checked here.
  Result<std::string> ResolveKeyId(const std::string& input, bool allow_alias, const Caller& caller);
  Result<std::string> ResolveAlias(const std::string& account, const std::string& alias, const std::string& input);
  // The key named by the request member `member`, which must exist in the caller's account.
  Result<std::shared_ptr<const LoadedKey>> LoadKey(const JsonRequest& req, const char* member, bool allow_alias,
                                                   const Caller& caller);
  static Status RequireUsable(const KeyRecord& r);
  static Status RequireNotPendingDeletion(const KeyRecord& r);
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
    NotifyReplication();
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
  // Adds a new version of key material (creation or rotation); a multi-Region primary sends it
  // to its replicas.
  Status AddBackingVersion(KeyRecord& r, storage::Transaction& txn, const std::string& rotation_type);
  static Result<EncryptionContext> ReadContext(const JsonRequest& req, const char* member);
  static Status CheckAlgorithm(const JsonRequest& req, const char* member);
  // GrantTokens: at most 10, each a well-formed grant token (InvalidGrantTokenException). A token
  // adds no permission: grants are usable as soon as CreateGrant commits.
  static Status CheckGrantTokens(const JsonRequest& req);
  // Encrypts under the key's current material.
  Result<Bytes> Seal(const LoadedKey& key, ByteView plaintext, const EncryptionContext& ctx);
  struct Opened {
    std::shared_ptr<const LoadedKey> key;
    crypto::SecureBytes plaintext;
  };
  // Decrypts a blob under the caller's account; `expected_key_id`, when set, must be the key the
  // blob names (IncorrectKeyException otherwise).
  Result<Opened> OpenBlob(ByteView blob, const EncryptionContext& ctx, const std::optional<std::string>& expected_key_id,
                          const Caller& caller);
  // Decrypts the blob in request member `blob_member`; if `expected_key_member` is present in the
  // request it must name the key the blob was encrypted under.
  Result<Opened> Open(const JsonRequest& req, const char* blob_member, const char* context_member,
                      const char* expected_key_member, const Caller& caller);

  // ---- operations --------------------------------------------------------------------
  Status CreateKey(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DescribeKey(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListKeys(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status EnableKey(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DisableKey(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UpdateKeyDescription(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ScheduleKeyDeletion(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status CancelKeyDeletion(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status Encrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status Decrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ReEncrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status GenerateDataKeyImpl(const JsonRequest& req, const Caller& caller, JsonWriter& w, bool with_plaintext);
  Status GenerateDataKey(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status GenerateDataKeyWithoutPlaintext(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status GenerateRandom(const JsonRequest& req, const Caller&, JsonWriter& w);

  // ---- aliases -----------------------------------------------------------------------
  // Alias names: "alias/" + [a-zA-Z0-9/_-]+; "alias/aws/" is reserved for AWS managed keys.
  static Status ValidateAliasName(const std::string& name);
  static std::string AliasValue(const std::string& target, int64_t created_ms, int64_t updated_ms);
  void InvalidateAliases();
  Status CreateAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UpdateAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DeleteAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListAliases(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  // ---- tags --------------------------------------------------------------------------
  Status TagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UntagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListResourceTags(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  // ---- rotation ----------------------------------------------------------------------
  static Status RequireRotatable(const KeyRecord& r);
  // A multi-Region primary tells its replicas its rotation settings.
  Status PublishSharedProperties(storage::Transaction& txn, const KeyRecord& r);
  Status EnableKeyRotation(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DisableKeyRotation(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status GetKeyRotationStatus(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status RotateKeyOnDemand(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListKeyRotations(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  // ---- multi-Region keys ----------------------------------------------------------------
  Status ReplicateKey(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UpdatePrimaryRegion(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  // Enqueues a replicated change for `peer` inside `txn`; no-op without an outbox.
  Status Publish(storage::Transaction& txn, const std::string& peer, std::string_view kind, std::string payload);
  // Tells every other region of the key its current primary and replicas.
  Status PublishConfiguration(storage::Transaction& txn, const KeyRecord& r, const std::string& except_region = "");
  // Runs after a commit that may have enqueued replicated changes.
  void NotifyReplication();
  // Receiving side (replication_handlers.cpp).
 public:
  Status ApplyReplicated(storage::Transaction& txn, std::string_view source, const replication::WireEntry& entry);
  void AfterReplicatedCommit(const replication::WireEntry& entry);
  Result<std::string> ExpandForWire(const replication::Message& message);
  // See KmsService::DropCached.
  void DropCached(std::string_view table, const std::optional<std::string>& row_key);

 private:
  // ---- grants (grant_ops.cpp) ---------------------------------------------------------
  // The Operations and Constraints members of a CreateGrant request, validated.
  static Result<GrantOps> ReadGrantOperations(const JsonRequest& req);
  static Result<GrantConstraint> ReadGrantConstraints(const JsonRequest& req);
  // GranteePrincipal / RetiringPrincipal syntax (ValidationException) and form (InvalidArnException).
  static Status CheckPrincipal(const std::string& principal, std::string_view member);
  Status CreateGrant(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListGrants(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListRetirableGrants(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status RetireGrant(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status RevokeGrant(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  // Deletes one grant of a key (RetireGrant, RevokeGrant); NotFoundException if it is not there.
  Status DeleteGrant(const LoadedKey& key, const std::string& grant_id, bool dry_run);

  // ---- authorization (authorization.cpp) ----------------------------------------------
  // The id of a grant of `key` that allows `operation` (a KMS operation name) for the caller with
  // the request's encryption context, or "" (see GrantSet for the matching rules).
  // The authorization resource for one key of a request; `operation` names the grant operation
  // (ReEncryptFrom / ReEncryptTo for the two keys of a ReEncrypt).
  std::optional<KmsService::AuthorizationResource> ResourceForKey(const std::string& key_id,
                                                                  std::string_view operation, const JsonRequest& req,
                                                                  const Caller& caller);
  static std::string AllowingGrantId(const LoadedKey& key, std::string_view operation, const JsonRequest& req,
                                     const Caller& caller);
  // For the in-process API: authorizes `action` on `key` for `caller` as a direct call would be,
  // with kms:ViaService set to this region's Secrets Manager. OK when no authorizer is configured.
  Status AuthorizeInternal(const Caller& caller, const LoadedKey& key, std::string_view action, GrantOps op,
                           const EncryptionContext& context) const;

  // ---- key policies ------------------------------------------------------------------
  static Status CheckPolicyName(const JsonRequest& req, bool required);
  // The key policy lockout safety check (CreateKey, PutKeyPolicy, ReplicateKey without
  // BypassPolicyLockoutSafetyCheck): `policy` must still let `caller` call PutKeyPolicy on the key
  // `key_arn`, as the authorizer decides with that policy in place; otherwise
  // MalformedPolicyDocumentException. No-op without an authorizer.
  Status CheckPolicyLockout(const std::string& policy, const std::string& key_arn, const Caller& caller) const;
  Status GetKeyPolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status PutKeyPolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListKeyPolicies(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  KmsOptions opts_;
  storage::Storage& storage_;
  KeyStore keys_;
  const Clock& clock_;
  std::shared_mutex alias_mu_;
  std::unordered_map<std::string, std::string> alias_cache_;  // "<account>/<alias>" -> key id
  uint64_t alias_generation_ = 0;  // guarded by alias_mu_; a resolution read before a change is not cached
  std::mutex managed_key_mu_;  // serializes creation of AWS managed keys
};

}  // namespace meridian::kms
