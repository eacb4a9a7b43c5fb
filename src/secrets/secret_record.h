// SecretRecord: the persistent metadata of one secret — everything but its values — with its
// storage encoding and its rendering as DescribeSecret / ListSecrets entries.
//
// A secret's versions and their staging labels live here; each version's value is a separate
// row (sealed_value.h), so moving a label rewrites only this record. Invariants kept by the code
// that changes records (version_stages.h): a label is on at most one version; a version holds at
// most kMaxStagesPerVersion labels and the secret at most kMaxLabelsPerSecret distinct labels;
// the secret keeps at most kMaxVersions versions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/aws_json.h"
#include "common/status.h"
#include "secrets/rotation_schedule.h"

namespace meridian::secrets {

using TagList = std::vector<std::pair<std::string, std::string>>;

struct SecretVersion {
  std::string id;  // the ClientRequestToken that created it
  int64_t created_ms = 0;
  int64_t last_accessed_ms = 0;  // day resolution (midnight UTC); 0 when never read
  std::vector<std::string> stages;
  bool has_value = false;      // false for the empty AWSPENDING version a rotation starts with
  std::string kms_key_arn;     // the KMS key that protects the value
  bool default_key = false;    // that key is the account's aws/secretsmanager key

  bool HasStage(std::string_view stage) const;
};

struct RotationConfig {
  bool configured = false;       // RotateSecret was called at least once
  bool enabled = false;          // automatic rotation on (CancelRotateSecret turns it off)
  std::string function_id;       // RotationLambdaARN: names the rotator
  RotationRules rules;
  int64_t last_rotated_ms = 0;
  int64_t next_rotation_ms = 0;  // start of the next window; 0 when none
};

// One replica of a primary secret, as the primary region tracks it (ReplicationStatus).
struct ReplicaInfo {
  std::string region;
  std::string kms_key_id;        // as the caller gave it; empty: that region's aws/secretsmanager key
  std::string status;            // replica_status::k*
  std::string status_message;
  int64_t last_accessed_ms = 0;  // day resolution, as the replica region reported it; 0 when never read
};

namespace replica_status {
inline constexpr char kInProgress[] = "InProgress";
inline constexpr char kInSync[] = "InSync";
inline constexpr char kFailed[] = "Failed";
}  // namespace replica_status

struct SecretRecord {
  std::string account_id;
  std::string name;
  std::string arn;
  std::optional<std::string> description;
  std::string kms_key_id;  // as the caller gave it; empty: the account's aws/secretsmanager key
  std::string type;        // the Type member (external secret partner), opaque
  int64_t created_ms = 0;
  int64_t last_changed_ms = 0;
  int64_t last_accessed_ms = 0;  // day resolution; 0 when never read
  int64_t deletion_ms = 0;       // when scheduled for deletion: the moment it is destroyed; else 0
  TagList tags;                  // in the order they were added
  std::string resource_policy;   // empty when none
  RotationConfig rotation;
  TagList external_rotation_metadata;
  std::string external_rotation_role_arn;
  std::vector<SecretVersion> versions;  // oldest first

  // Replication (replication.h). On a primary: its replicas. On a replica: the primary's region
  // (non-empty exactly when this secret is a replica) and this replica's own status, which it
  // reports to the primary when it changes.
  std::vector<ReplicaInfo> replicas;
  std::string primary_region;
  std::string replica_status;
  std::string replica_status_message;

  bool pending_deletion() const { return deletion_ms != 0; }
  bool is_replica() const { return !primary_region.empty(); }
  ReplicaInfo* FindReplica(std::string_view region);
  const ReplicaInfo* FindReplica(std::string_view region) const;
  SecretVersion* FindVersion(std::string_view id);
  const SecretVersion* FindVersion(std::string_view id) const;
  SecretVersion* VersionWithStage(std::string_view stage);
  const SecretVersion* VersionWithStage(std::string_view stage) const;

  std::string Serialize() const;
  static Result<SecretRecord> Parse(std::string_view json);

  // What a primary shares with its replicas: the record without what is local to a region
  // (access dates, KMS keys protecting the values, the replication bookkeeping). Two records
  // with equal shared views need no replication message.
  SecretRecord SharedView() const;

  // The members DescribeSecret returns (without the enclosing braces). `versions_member` is
  // "VersionIdsToStages" for DescribeSecret and "SecretVersionsToStages" for ListSecrets;
  // ReplicationStatus is written only for DescribeSecret (ListSecrets entries have none).
  void WriteDescription(JsonWriter& w, const char* versions_member) const;
  // The ReplicationStatus list of a primary.
  void WriteReplicationStatus(JsonWriter& w) const;
};

// Storage keys. Names cannot contain '|', so a secret's version rows share a prefix no other
// secret's rows start with.
std::string SecretRowKey(const std::string& account_id, const std::string& name);
std::string VersionRowKey(const std::string& account_id, const std::string& name, const std::string& version_id);
std::string VersionRowPrefix(const std::string& account_id, const std::string& name);

// Epoch milliseconds as AWS JSON timestamps (epoch seconds, fractional).
inline void WriteTimestamp(JsonWriter& w, int64_t ms) { w.Double(static_cast<double>(ms) / 1000.0); }
// Midnight UTC of the day holding `ms` (AWS reports LastAccessedDate at day resolution).
inline int64_t DayStart(int64_t ms) {
  constexpr int64_t kDay = 86400LL * 1000;
  return ms - ((ms % kDay) + kDay) % kDay;
}

}  // namespace meridian::secrets
