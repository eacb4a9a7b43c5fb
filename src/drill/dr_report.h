// What a DR drill measured, per key strategy, and how it is shown: a table for people, JSON for
// tools (`meridian dr-drill --json`), and the RPO computation these figures come from.
//
// Everything here is pure (no processes, no clocks), so it is unit-tested directly.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drill/timeline.h"

namespace meridian::drill {

// A write region A's database acknowledged to the application.
struct AcknowledgedWrite {
  int64_t record_id = 0;
  int64_t acknowledged_at_us = 0;  // Timeline microseconds
};

struct RpoFigures {
  size_t acknowledged = 0;              // writes acknowledged in A
  size_t lost = 0;                      // of those, missing in B after promotion
  int64_t window_ms = 0;                // kill time minus the oldest lost acknowledgement (0: none lost)
  std::vector<int64_t> lost_record_ids;  // sorted; at most kMaxListedLostIds of them
  static constexpr size_t kMaxListedLostIds = 50;
};

// RPO: which acknowledged writes B does not have. `killed_at_us` is when region A was killed.
RpoFigures ComputeRpo(const std::vector<AcknowledgedWrite>& acknowledged, const std::set<int64_t>& present_in_b,
                      int64_t killed_at_us);

// Decrypt attempts of records written in A, made in region B.
struct DecryptCheck {
  size_t checked = 0;
  size_t decrypted = 0;
  std::string first_error;  // of the first failure, if any
  bool all() const { return checked > 0 && decrypted == checked; }
};

// A secret rotation started (AWSPENDING staged, not yet promoted) before the failure: could the
// application still read the database password from B's replica, and did the rotation finish there?
struct SecretRotationCheck {
  bool attempted = false;
  bool current_readable_in_b = false;    // GetSecretValue AWSCURRENT in B after the failure
  bool current_unchanged = false;        // ... and it is the value from before the rotation began
  bool rotation_completed_in_b = false;  // the rotation finished against B after failover
  std::string note;
};

struct StrategyResult {
  int strategy = 0;
  std::string name;
  bool completed = false;  // the drill ran through (figures below are meaningful)
  std::string error;       // why it did not, if it did not

  RpoFigures rpo;
  int64_t promotion_ms = -1;  // pg promote until the standby accepted writes
  // From the kill until B served both reads and writes (promotion included); -1: never.
  int64_t rto_ms = -1;
  bool recovered_without_region_a = false;
  // Strategy 3: when region A's Meridian process was started again, after the kill; -1: not restarted.
  int64_t region_a_restored_at_ms = -1;
  DecryptCheck decrypt_while_a_down;      // in B after failover, region A still dead
  DecryptCheck decrypt_after_a_restored;  // in B once region A is back (checked: 0 when not restarted)
  // Strategy 3's recovery once A is back: records written in A re-encrypted for B's key.
  size_t reencrypted_records = 0;
  int64_t reencrypt_ms = -1;
  std::string reencrypt_error;
  SecretRotationCheck secret_rotation;
  int64_t longest_outage_ms = 0;
  uint64_t requests = 0;  // workload requests, all outcomes
  std::vector<TimelineBucket> timeline;
};

struct DrillReport {
  std::vector<std::string> regions;  // [0] is region A (killed), [1] is region B (takes over)
  double duration_s = 0;             // workload before the failure
  int64_t bucket_ms = 100;
  std::vector<StrategyResult> strategies;
};

// A fixed-width table, one row per strategy, with a legend.
std::string RenderTable(const DrillReport& report);
// The report as a JSON document (the format `meridian dr-drill --json` writes; see dr_report.cpp).
std::string RenderJson(const DrillReport& report);

}  // namespace meridian::drill
