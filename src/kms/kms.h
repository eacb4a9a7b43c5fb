// The KMS service: AWS KMS semantics for symmetric keys, acting through storage and crypto.
//
// KmsService::Handle executes one AWS KMS operation (the X-Amz-Target suffix, e.g. "Encrypt") on
// an already authenticated and authorized request, and writes the JSON response. It owns no
// transport: the server parses, authenticates and authorizes; this component decides only by
// key state and input validity.
//
// Invariants:
//  - Key material exists in plaintext only in memory (wiped on eviction); at rest it is wrapped
//    under the region's root key with AAD naming the key and backing-key version.
//  - Every state change is one storage transaction; a failed request changes nothing.
//  - Ciphertext blobs are self-describing (see docs/ciphertext-format.md and ciphertext_blob.h);
//    any altered byte fails authentication.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/caller.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "iam/authorizer.h"
#include "iam/policy/policy.h"
#include "replication/peer_link.h"
#include "replication/replication.h"
#include "storage/storage.h"

namespace meridian::kms {

using Caller = meridian::Caller;

struct KmsOptions {
  std::string region;      // e.g. "us-east-1"
  std::string account_id;  // the account whose keys this service holds
  std::string partition = "aws";
  // Multi-Region keys. `regions` lists every region of the deployment (this one included):
  // ReplicateKey may target the others. `outbox` carries replicated changes to them (null in a
  // single-region deployment); `replication_enqueued` runs after a commit that enqueued any
  // (it wakes the peer links).
  std::vector<std::string> regions;
  replication::Outbox* outbox = nullptr;
  std::function<void()> replication_enqueued;
  // When set, the in-process API (GenerateDataKeyFor, DecryptFor) authorizes each call as a
  // direct call would be, with kms:ViaService = "secretsmanager.<region>.amazonaws.com"; a denial
  // is AccessDeniedException. Not owned; must outlive the service.
  const iam::Authorizer* authorizer = nullptr;

  // A single-region service.
  static KmsOptions SingleRegion(std::string region, std::string account_id) {
    KmsOptions o;
    o.region = std::move(region);
    o.account_id = std::move(account_id);
    o.regions = {o.region};
    return o;
  }
};

class KmsService {
 public:
  KmsService(KmsOptions options, storage::Storage& storage, const crypto::RootKey& root_key,
             const Clock& clock = SystemClock::Instance());
  ~KmsService();
  KmsService(const KmsService&) = delete;
  KmsService& operator=(const KmsService&) = delete;

  // True if `operation` is a KMS operation this service implements.
  static bool Knows(std::string_view operation);

  // Runs `operation`. On success the response object has been written to `out` and OK is
  // returned; on failure the AWS-shaped error is returned and whatever was written to `out`
  // must be discarded by the caller (no state has changed).
  Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                JsonWriter& out);

  // ---- In-process API for Meridian's own services (e.g. Secrets Manager) acting on behalf of
  // `caller`. Same key resolution, state checks and errors as the wire operations, and, with
  // KmsOptions::authorizer, the same authorization (key policy, grants, kms:CallerAccount,
  // encryption context keys) plus kms:ViaService. `context` is the encryption context (bound as
  // AAD), as (key, value) pairs in any order.
  struct DataKey {
    crypto::SecureBytes plaintext;
    Bytes ciphertext_blob;
    std::string key_arn;
  };
  using Context = std::vector<std::pair<std::string, std::string>>;
  Result<DataKey> GenerateDataKeyFor(const Caller& caller, const std::string& key_id, const Context& context,
                                     size_t number_of_bytes = 32);
  // Returns the plaintext and sets *key_arn (if given) to the key that decrypted it.
  Result<crypto::SecureBytes> DecryptFor(const Caller& caller, ByteView ciphertext_blob, const Context& context,
                                         std::string* key_arn = nullptr);
  // The AWS managed key behind `alias` ("alias/aws/<service>") in the caller's account, created
  // (KeyManager AWS, rotation on) on first use with AWS's policy for such keys: principals of the
  // account may use it only through the service (kms:ViaService, kms:CallerAccount); the account
  // may view it and revoke grants. Not itself an authorized call. Returns the key ARN.
  Result<std::string> EnsureAwsManagedKey(const Caller& caller, const std::string& alias,
                                          const std::string& description);

  // ---- Authorization. The key a request acts on, for the authorizer: its ARN, owner, compiled
  // key policy, the request's KMS condition keys (kms:EncryptionContext:<k>,
  // kms:EncryptionContextKeys, kms:CallerAccount; for CreateGrant kms:GranteePrincipal,
  // kms:RetiringPrincipal, kms:GrantOperations, kms:GrantConstraintType,
  // kms:GrantIsForAWSResource), and allowing_grant_id when one of the key's grants allows the
  // request (see grant_set.h). RetireGrant is decided by the grant and the account, not the key
  // policy (its resource carries no policy). Empty when the request names no existing key (the
  // operation then answers with its own error).
  using AuthorizationResource = iam::AuthorizationResource;
  std::optional<AuthorizationResource> ResourceFor(std::string_view operation, const rapidjson::Value& request,
                                                   const Caller& caller);

  // ---- Read-only enumeration for analysis tools (`meridian analyze blast-radius`): the ARNs of
  // every key `account_id` holds in this region, whatever its state, in key-id order. Runs the
  // service's own ListKeys page by page; reads only, changes nothing, and is not itself an
  // authorized call (the caller of the tool was authorized for its own operation).
  Result<std::vector<std::string>> KeyArnsForAnalysis(const std::string& account_id);

  // ---- Multi-Region replication. Registers the handlers that apply other regions' changes
  // (replicas created, material added by rotation, shared properties, configuration,
  // replicas deleted) on `inbox`; the expander adds key material to outgoing messages at send
  // time (the outbox itself never holds material).
  void RegisterReplicationHandlers(replication::Inbox& inbox);
  replication::Expander ReplicationExpander();

  // Background duties that are due at the clock's current time: destroys keys whose deletion
  // date has passed and rotates keys whose automatic rotation is due. Idempotent; call
  // periodically. Returns the number of keys changed.
  Result<int> RunDueMaintenance();

  // Drops what this process cached from row `row_key` of `table` (kms_keys, kms_key_material,
  // kms_grants, kms_aliases; other tables are ignored), or everything cached from the table when
  // nullopt. For changes committed by another frontend sharing the storage
  // (storage/change_feed.h); this process's own writes invalidate as they commit.
  void DropCached(std::string_view table, const std::optional<std::string>& row_key);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::kms
