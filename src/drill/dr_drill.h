// The DR drill (`meridian dr-drill`): region A fails for real, region B takes over, and the drill
// measures what each key strategy (drill/key_strategies.h) costs.
//
// Per strategy, in a directory of its own:
//   1. Meridian region processes (RegionProcesses, started by the caller's launcher), a
//      PostgreSQL primary "in region A" and a streaming standby of it "in region B"
//      (storage::LocalPostgres, storage::PostgresStandby; both stopped by watchdogs should this
//      process die), the strategy's keys and keyrings.
//   2. A workload at a steady rate: a writer inserts customer records sealed with A's keyring
//      into A's database; a reader in B opens records written in A from B's database with the
//      keyring B reads with ((1), (2): B's KMS only; (3): B's key, else A's key through A's KMS).
//      Every request lands in a Timeline.
//   3. After `duration`, the kill: SIGKILL of region A's Meridian process and an immediate stop
//      of A's PostgreSQL. The drill promotes the standby and moves the writer to B (B's database,
//      EncryptInB). For (3) region A stays down for `region_a_down`, then its region process is
//      started again and every record written in A is re-encrypted for B (ReEncryptRecordForB).
//   4. Figures (drill/dr_report.h): RPO from the acknowledged writes B lacks, RTO from the
//      timeline, decrypt checks of every record written in A, in B, while A is down and (3) once
//      A is back.
// Everything started is stopped before RunDrill returns, whatever happened.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "drill/dr_report.h"
#include "drill/key_strategies.h"
#include "sigv4/signer.h"

namespace meridian::drill {

// Meridian's region processes for one strategy's run. The destructor stops every process.
class RegionProcesses {
 public:
  virtual ~RegionProcesses() = default;
  virtual std::string account_id() const = 0;
  virtual std::string Endpoint(const std::string& region) const = 0;  // "http://127.0.0.1:port"
  virtual sigv4::Credentials AdminCredentials() const = 0;
  // SIGKILL of the region's process; returns once it is gone.
  virtual Status Kill(const std::string& region) = 0;
  // Starts the region's process again on its data; returns once it accepts connections.
  virtual Status Restart(const std::string& region) = 0;
};

// Starts the regions (regions[0] is A) with their data under `directory` (created by the caller).
using RegionLauncher = std::function<Result<std::unique_ptr<RegionProcesses>>(
    const std::string& directory, const std::vector<std::string>& regions)>;

struct DrillOptions {
  std::vector<KeyStrategy> strategies = {KeyStrategy::kMultiRegionKey, KeyStrategy::kPerRegionMultiKeyring,
                                         KeyStrategy::kRegionAOnlyReEncrypt};
  std::vector<std::string> regions = {"us-east-1", "us-west-2"};  // A, B[, more: they just run]
  std::string data_dir;  // must exist; each strategy runs in data_dir/strategy-<n>
  std::chrono::milliseconds duration{4000};       // workload before the kill
  std::chrono::milliseconds observe{1500};        // workload after recovery, for the timeline
  std::chrono::milliseconds region_a_down{2500};  // (3): how long A stays down before its restart
  std::chrono::milliseconds recovery_timeout{30000};
  double rate = 40;  // writes per second, and as many reads per second
  int64_t bucket_ms = 100;
  // The database password lives in Secrets Manager and is mid-rotation when A fails
  // (drill/dr_secret_rotation.h): does the application in B still log in, and can B finish it?
  bool secret_rotation = true;
  bool keep = false;  // keep each strategy's directory (databases, logs) after the run
  std::ostream* progress = nullptr;  // one line per step, when set
};

// Runs every strategy in order; a strategy that fails is reported (completed = false, error) and
// the next one still runs. Fails only for options that cannot work (no strategy, < 2 regions).
Result<DrillReport> RunDrill(const DrillOptions& options, const RegionLauncher& launch_regions);

// The record the workload writes as `id` (a pure function of the id, so that every read can be
// compared with what was written).
CustomerRecord DrillRecord(int64_t id);

}  // namespace meridian::drill
