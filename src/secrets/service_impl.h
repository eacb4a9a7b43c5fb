// SecretsService::Impl: the Secrets Manager service's private implementation, shared by the files
// that implement its operations (one file per group: secrets, values and versions, tags and
// policies, rotation; maintenance). Not a public header.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/aws_json.h"
#include "secrets/errors.h"
#include "secrets/naming.h"
#include "secrets/sealed_value.h"
#include "secrets/secret_record.h"
#include "secrets/secrets.h"
#include "secrets/version_stages.h"

namespace meridian::secrets {

constexpr int64_t kMsPerDay = 86400LL * 1000;
constexpr size_t kMaxSecretIdLength = 2048;
constexpr size_t kMaxTagsPerSecret = 50;
constexpr int64_t kRotationRetryMs = 3600LL * 1000;  // a failed rotation is reattempted after this
constexpr int64_t kReplicaRetryMs = 60LL * 1000;         // a Failed replica is first retried after this,
constexpr int64_t kReplicaRetryMaxMs = 3600LL * 1000;    // then ever more slowly, up to this

// A new VersionId when the request has no ClientRequestToken: a random UUID (version 4).
std::string NewVersionId();

// The Tags member ([{Key, Value}]) with AWS's constraints.
Result<TagList> ParseTags(const JsonRequest& req);
// Adds or replaces `add` in `tags`; at most kMaxTagsPerSecret.
Status MergeTags(TagList& tags, const TagList& add);

// The payload naming a secret in a replication message: its account, name and primary's ARN.
std::string SecretRefPayload(const std::string& account_id, const std::string& name, const std::string& primary_arn);

// Offset-based paging with an opaque NextToken.
struct Page {
  size_t begin = 0, end = 0;
  bool more = false;
};
Result<Page> Paginate(const JsonRequest& req, size_t total, size_t page_size);
void WriteNextToken(JsonWriter& w, const Page& page);

class SecretsService::Impl {
 public:
  Impl(SecretsOptions options, storage::Storage& storage, kms::KmsService& kms, const Clock& clock)
      : opts_(std::move(options)), storage_(storage), sealer_(kms), clock_(clock) {}
  // Waits for the rotation thread to finish the rotation it is running; drops queued ones (they
  // are reattempted by maintenance after a restart: their AWSPENDING version stays).
  ~Impl();

  // Every operation has this signature; Ops() maps X-Amz-Target names to them.
  using Op = Status (Impl::*)(const JsonRequest&, const Caller&, JsonWriter&);
  static const std::unordered_map<std::string_view, Op>& Ops();
  Result<int> RunDueMaintenance();
  // The secret `secret_id` names in the caller's account, read in its own transaction.
  Result<SecretRecord> FindNow(std::string_view secret_id, const Caller& caller);

  // ---- replication (secret_replication.cpp) ------------------------------------------
  // InvalidParameterException when `operation` would change the replica secret the request
  // names (replicas change only through their primary); OK otherwise.
  Status RefuseReplicaWrite(std::string_view operation, const JsonRequest& req, const Caller& caller);
  Status ApplyReplicated(storage::Transaction& txn, std::string_view source, const replication::WireEntry& entry);
  void AfterReplicatedCommit(const replication::WireEntry& entry);
  Result<std::string> ExpandForWire(const replication::Message& message);

 private:
  class RotationSession;  // the RotationContext of one rotation (rotation_ops.cpp)

  // ---- lookup ------------------------------------------------------------------------
  SecretLocation Here(const Caller& caller) const { return {opts_.partition, opts_.region, caller.account_id}; }
  static Result<std::string> RequiredSecretId(const JsonRequest& req);
  // The secret `secret_id` names in the caller's account (ResourceNotFoundException if none).
  Result<SecretRecord> Find(storage::Transaction& txn, std::string_view secret_id, const Caller& caller) const;
  static Status WriteRecord(storage::Transaction& txn, const SecretRecord& record);
  // Read-modify-write of one secret in a write transaction: `mutate(record, txn)` may also write
  // other rows. A change the replicas share is published to them in the same transaction.
  // Returns the record as committed. Modify refuses replica secrets (they change only through
  // their primary); ModifyAny, for this region's own bookkeeping, does not.
  using Mutation = std::function<Status(SecretRecord&, storage::Transaction&)>;
  Result<SecretRecord> Modify(std::string_view secret_id, const Caller& caller, const Mutation& mutate);
  Result<SecretRecord> ModifyAny(std::string_view secret_id, const Caller& caller, const Mutation& mutate);
  // Removes a secret and all its versions.
  static Status Destroy(storage::Transaction& txn, const SecretRecord& record);

  // ---- values ------------------------------------------------------------------------
  // SecretString / SecretBinary: at most one (InvalidParameterException for both).
  static Result<std::optional<SecretValue>> ReadValue(const JsonRequest& req);
  static Result<std::string> ReadToken(const JsonRequest& req);
  // The value of `version` (which must have one), opened through KMS.
  Result<SecretValue> OpenVersion(const Caller& caller, const SecretRecord& secret, const SecretVersion& version);
  // The version GetSecretValue means by VersionId / VersionStage (either may be empty).
  static Result<const SecretVersion*> SelectVersion(const SecretRecord& secret, const std::string& version_id,
                                                    const std::string& version_stage);
  // Reads one version's value as GetSecretValue does (the secret must not be pending deletion)
  // and records the access.
  struct ReadResult {
    SecretRecord secret;
    std::string version_id;
    SecretValue value;
  };
  Result<ReadResult> ReadSecretValue(std::string_view secret_id, const std::string& version_id,
                                     const std::string& version_stage, const Caller& caller);
  // Writes ARN, Name, VersionId, SecretString|SecretBinary, VersionStages, CreatedDate.
  static void WriteSecretValue(JsonWriter& w, const SecretRecord& secret, const std::string& version_id,
                               const SecretValue& value);
  // Sets LastAccessedDate (day resolution) on the secret and version, when the day changed.
  void RecordAccess(const SecretRecord& secret, const std::string& version_id);

  // Adds version `token` holding `value` to a secret (or fills the empty version `token` that a
  // rotation created), with `stages` (default: AWSCURRENT moves to it; the first version always
  // gets AWSCURRENT). The same token with the same value is a no-op; with another value,
  // ResourceExistsException. `mutate`, if set, changes the record in the same transaction, and
  // `kms_key_id`, if set, overrides the secret's key for this version.
  struct VersionChange {
    std::string token;
    std::optional<std::vector<std::string>> stages;
    std::optional<std::string> kms_key_id;
    std::function<void(SecretRecord&)> mutate;
  };
  struct VersionOutcome {
    SecretRecord secret;
    bool created = false;  // false: the idempotent no-op
  };
  Result<VersionOutcome> AddVersion(std::string_view secret_id, const SecretValue& value, const VersionChange& change,
                                    const Caller& caller);
  // Re-encrypts the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions under the secret's current
  // key, where the old key still opens them (best effort, as AWS does on a KmsKeyId change).
  Status ReencryptLabeledVersions(const SecretRecord& secret, const Caller& caller);

  // ---- rotation ----------------------------------------------------------------------
  // Inside a Modify: starts a rotation by adding the empty version `token` labelled AWSPENDING
  // (moving the label off the current version, where a finished rotation may have left it).
  static Status AddPendingVersion(SecretRecord& s, storage::Transaction& txn, const std::string& token, int64_t now);
  // Runs the four steps for `token` with the secret's rotator. On failure the pending version
  // stays, and the rotation is retried by maintenance after kRotationRetryMs.
  Status RunRotation(const Caller& caller, const std::string& arn, const std::string& token, Rotator& rotator);
  // Runs only TestSecret against a pending copy of the current value, then deprecates the copy.
  Status TestRotation(const Caller& caller, const std::string& arn, const std::string& token, Rotator& rotator);
  std::shared_ptr<Rotator> ResolveRotator(const std::string& function_id) const;
  // Runs RunRotation on the rotation thread (started on first use), for asynchronous rotators.
  void RunRotationLater(const Caller& caller, const std::string& arn, const std::string& token,
                        std::shared_ptr<Rotator> rotator);
  void EmitRotationEvent(RotationEvent event) const;
  // Starts (or reattempts) a rotation from maintenance. Returns true if it changed the secret.
  Result<bool> RotateIfDue(const SecretRecord& secret, int64_t now);
  // From maintenance, on a primary: replicates again to each replica region whose status is
  // Failed (ReplicaCreated + every value, as ReplicateSecretToRegions does), with a backoff per
  // replica from kReplicaRetryMs doubling to kReplicaRetryMaxMs; the status stays Failed until
  // the replica region reports InSync. Returns the number of replicas retried.
  Result<int> RetryFailedReplicas(const SecretRecord& secret, int64_t now);

  // ---- operations --------------------------------------------------------------------
  Status CreateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DescribeSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UpdateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListSecrets(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DeleteSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status RestoreSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  Status GetSecretValue(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status BatchGetSecretValue(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status PutSecretValue(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UpdateSecretVersionStage(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ListSecretVersionIds(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status GetRandomPassword(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  Status TagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status UntagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status PutResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status GetResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status DeleteResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status ValidateResourcePolicy(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  Status RotateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status CancelRotateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  Status ReplicateSecretToRegions(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status RemoveRegionsFromReplication(const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Status StopReplicationToReplica(const JsonRequest& req, const Caller& caller, JsonWriter& w);

  // ---- replication (replication_ops.cpp, secret_replication.cpp) -----------------------
  // The AddReplicaRegions member: regions of this deployment other than this one, each once
  // and not already a working replica of `existing` (which may be null).
  Result<std::vector<ReplicaInfo>> ParseReplicaRegions(const JsonRequest& req, const SecretRecord* existing) const;
  // Inside the transaction that adds `added` to `s.replicas`: creates the replicas (their
  // records, then every version with a value).
  Status StartReplicas(storage::Transaction& txn, const SecretRecord& s, const std::vector<ReplicaInfo>& added,
                       bool force_overwrite);
  // Inside the transaction that changed `before` into `after`: sends the shared view of `after`
  // to every replica when it changed, with the values of the versions that gained one.
  Status PublishChange(storage::Transaction& txn, const SecretRecord& before, const SecretRecord& after);
  // Enqueues one message for `region` inside `txn`; a no-op without an outbox.
  Status Publish(storage::Transaction& txn, const std::string& region, std::string_view kind, std::string payload);
  // Wakes the peer links after a commit that may have enqueued messages.
  void NotifyReplication();
  // A replica reports its status (and when it was last read here) to its primary; with
  // `key_changed`, also its KmsKeyId (UpdateSecret in the replica's region changed it).
  Status ReportReplicaStatus(storage::Transaction& txn, const SecretRecord& replica, bool key_changed = false);
  // UpdateSecret on a replica: only its KmsKeyId may change.
  Status UpdateReplicaKey(const SecretRecord& before, const JsonRequest& req, const Caller& caller, JsonWriter& w);
  Result<SecretRecord> ModifyChecked(std::string_view secret_id, const Caller& caller, const Mutation& mutate,
                                     bool allow_replica);
  // The receiving side, one per message kind (secret_replication.h), inside the inbox's
  // transaction. `payload` names the secret: account, name and the primary's ARN.
  Status ApplyReplicaCreated(storage::Transaction& txn, std::string_view source, const rapidjson::Value& payload);
  Status ApplySecretChanged(storage::Transaction& txn, std::string_view source, const rapidjson::Value& payload);
  Status ApplyReplicaRemoved(storage::Transaction& txn, std::string_view source, const rapidjson::Value& payload);
  Status ApplyReplicaStatus(storage::Transaction& txn, std::string_view source, const rapidjson::Value& payload);
  Status ApplyReplicaPromoted(storage::Transaction& txn, std::string_view source, const rapidjson::Value& payload);

  SecretsOptions opts_;
  // The rotation thread and its queue (RunRotationLater).
  std::mutex rotation_mu_;
  std::condition_variable rotation_cv_;
  std::deque<std::function<void()>> rotation_queue_;
  bool rotation_stopping_ = false;
  std::thread rotation_thread_;
  // Failed replicas' retry schedule: "<primary ARN> <region>" -> (next retry ms, current delay).
  std::mutex replica_retry_mu_;
  std::map<std::string, std::pair<int64_t, int64_t>> replica_retry_;
  storage::Storage& storage_;
  ValueSealer sealer_;
  const Clock& clock_;
};

// Writes {"ARN": ..., "Name": ...} members.
inline void WriteArnAndName(JsonWriter& w, const SecretRecord& s) {
  w.Key("ARN"); w.String(s.arn);
  w.Key("Name"); w.String(s.name);
}

}  // namespace meridian::secrets
