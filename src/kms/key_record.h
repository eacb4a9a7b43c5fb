// KeyRecord: the persistent metadata of one KMS key (everything but its material), with its
// storage encoding and its rendering as AWS's KeyMetadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/aws_json.h"
#include "common/status.h"

namespace meridian::kms {

namespace key_state {
inline constexpr char kEnabled[] = "Enabled";
inline constexpr char kDisabled[] = "Disabled";
inline constexpr char kPendingDeletion[] = "PendingDeletion";
// A multi-Region primary scheduled for deletion while replicas remain: it waits for them.
inline constexpr char kPendingReplicaDeletion[] = "PendingReplicaDeletion";
}  // namespace key_state

// One version of a key's backing material. The first is the material the key was created with;
// each rotation appends one.
struct BackingKeyVersion {
  std::string id_hex;        // 16 random bytes, hex; names the version in ciphertext blobs
  int64_t created_ms = 0;
  std::string rotation_type;  // "" for the original material, else AUTOMATIC or ON_DEMAND
};

struct KeyRecord {
  std::string key_id;
  std::string account_id;
  std::string region;
  std::string arn;
  std::string description;
  std::string key_usage = "ENCRYPT_DECRYPT";
  std::string key_spec = "SYMMETRIC_DEFAULT";
  std::string origin = "AWS_KMS";
  std::string key_manager = "CUSTOMER";
  std::string state = key_state::kEnabled;
  int64_t creation_ms = 0;
  int64_t deletion_ms = 0;  // when PendingDeletion: the moment the key is destroyed
  int pending_window_days = 0;
  std::string policy;
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key
  bool rotation_enabled = false;
  int rotation_period_days = 365;
  int64_t next_rotation_ms = 0;  // when rotation_enabled
  int64_t on_demand_rotation_start_ms = 0;
  std::vector<BackingKeyVersion> versions;  // oldest first; back() is current

  // Multi-Region keys (key ids "mrk-..."): the same id and material in several regions. Each
  // region's record holds its own view of the configuration, kept in sync by replication.
  bool multi_region = false;
  std::string primary_region;                // the region of the primary key
  std::vector<std::string> replica_regions;  // sorted
  bool is_primary() const { return multi_region && primary_region == region; }
  bool is_replica() const { return multi_region && primary_region != region; }

  const BackingKeyVersion& current_version() const { return versions.back(); }

  std::string Serialize() const;
  static Result<KeyRecord> Parse(std::string_view json);

  // Writes the KeyMetadata object (as DescribeKey returns it). `partition` builds the ARNs of
  // the other regions' keys in MultiRegionConfiguration.
  void WriteMetadata(JsonWriter& w, std::string_view partition = "aws") const;
  // The ARN of this key in another region.
  std::string ArnInRegion(std::string_view partition, std::string_view other_region) const;
};

// Epoch milliseconds as AWS JSON timestamps (epoch seconds, fractional).
inline void WriteTimestamp(JsonWriter& w, int64_t ms) { w.Double(static_cast<double>(ms) / 1000.0); }

}  // namespace meridian::kms
