// The Secrets Manager service of one region: AWS Secrets Manager semantics, acting through
// storage and the region's KMS.
//
// SecretsService::Handle executes one operation (the X-Amz-Target suffix after "secretsmanager.",
// e.g. "GetSecretValue") on an already authenticated and authorized request and writes the JSON
// response. It owns no transport: the server parses, authenticates and authorizes.
//
// Invariants:
//  - Secret values exist in plaintext only in memory (SecureBytes, wiped after use) and in the
//    response being written; at rest every version is envelope-encrypted under a KMS data key
//    (sealed_value.h), bound to the secret ARN and version id.
//  - KMS is used on behalf of the caller: a key the caller may not use makes the value
//    unreadable (DecryptionFailure) or unwritable (EncryptionFailure).
//  - Every state change is one storage transaction; a failed request changes nothing, with one
//    documented exception: when a rotator step fails, RotateSecret reports the failure but the
//    rotation configuration and the AWSPENDING version stay, so the rotation is reattempted (as
//    AWS does). KMS calls and rotator steps run outside storage transactions.
//  - Version stages follow AWS's rules (version_stages.h); rotation follows rotator.h.
//  - Replication to other regions follows secret_replication.h: a replica is read-only in its
//    region, and its values are sealed under that region's KMS only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/clock.h"
#include "common/status.h"
#include "kms/kms.h"
#include "replication/peer_link.h"
#include "replication/replication.h"
#include "secrets/rotator.h"
#include "storage/storage.h"

namespace meridian::secrets {

// A rotation's service event, as CloudTrail records them for Secrets Manager (eventType
// AwsServiceEvent): RotationStarted, RotationSucceeded, RotationFailed (with the failed step and
// why; the error never quotes a secret value).
struct RotationEvent {
  std::string name;
  std::string account_id;
  std::string secret_arn;
  std::string token;        // the rotation's ClientRequestToken (the pending VersionId)
  std::string function_id;  // RotationLambdaARN
  std::string failed_step;  // RotationFailed only
  std::string error;        // RotationFailed only
};

struct SecretsOptions {
  std::string region;  // e.g. "us-east-1"
  std::string partition = "aws";
  // Finds the built-in or external rotator for a rotation function id; may be empty.
  RotatorResolver rotators;
  // Replication (secret_replication.h). `regions` lists every region of the deployment (this
  // one included); `outbox` carries changes to the others (null in a single-region deployment);
  // `replication_enqueued` runs after a commit that enqueued any (it wakes the peer links).
  std::vector<std::string> regions;
  replication::Outbox* outbox = nullptr;
  std::function<void()> replication_enqueued;
  // Receives every rotation event (e.g. for the audit trail); may be empty. Called from the
  // thread running the rotation, with no storage transaction held.
  std::function<void(const RotationEvent&)> rotation_events;
};

class SecretsService {
 public:
  // `kms` is the same region's KMS; both it and `storage` must outlive the service.
  SecretsService(SecretsOptions options, storage::Storage& storage, kms::KmsService& kms,
                 const Clock& clock = SystemClock::Instance());
  ~SecretsService();
  SecretsService(const SecretsService&) = delete;
  SecretsService& operator=(const SecretsService&) = delete;

  // True if `operation` is a Secrets Manager operation this service implements.
  static bool Knows(std::string_view operation);

  // Runs `operation`. On success the response object has been written to `out` and OK is
  // returned; on failure the AWS-shaped error is returned and whatever was written to `out`
  // must be discarded by the caller (no state has changed).
  Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                JsonWriter& out);

  // Background duties due at the clock's current time: destroys secrets whose recovery window
  // has ended, and runs rotations that are scheduled or need reattempting when a rotator is
  // available for them. Idempotent; call periodically. Returns the number of secrets changed.
  Result<int> RunDueMaintenance();

  // The secret a request names (SecretId) with its resource policy, for the authorizer and the
  // audit trail; empty when the request names no existing secret.
  std::optional<iam::AuthorizationResource> ResourceFor(std::string_view operation,
                                                                    const rapidjson::Value& request,
                                                                    const Caller& caller);

  // ---- Read-only enumeration for analysis tools (`meridian analyze blast-radius`): the ARNs of
  // every secret `account_id` holds in this region, those scheduled for deletion included. Runs
  // the service's own ListSecrets page by page; reads only, changes nothing, and is not itself an
  // authorized call. Each secret's resource policy comes from ResourceFor, as for a request.
  Result<std::vector<std::string>> SecretArnsForAnalysis(const std::string& account_id);

  // ---- Replication to other regions (secret_replication.h). Registers the handlers that apply
  // the other regions' "secrets." messages on `inbox`; the expander adds the values of new
  // versions to outgoing messages at send time (the outbox never holds a value).
  void RegisterReplicationHandlers(replication::Inbox& inbox);
  replication::Expander ReplicationExpander();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::secrets
