// PostgresStandby: a streaming-replication hot standby of a running LocalPostgres, in a directory
// of its own, for the global-database example and the DR drill (region B's copy of region A's
// database).
//
// Start() creates a replication role on the primary (LOGIN REPLICATION, a fresh random password
// kept in directory/replication-password, 0600), takes a base backup of the primary with
// `pg_basebackup -R` into directory/data (as the postgres user when this process is root; WAL
// streamed during the backup; a physical replication slot of its own on the primary so the
// primary keeps the WAL the standby has not received yet), then starts it as a LocalPostgres
// (same rules: 127.0.0.1 only, scram passwords; the superuser password is the primary's, since
// the backup copies the cluster) and waits until its WAL receiver streams from the primary.
//
// The standby is read-only until Promote(), which makes it a primary of its own (pg_promote) and
// waits until it accepts writes. A promoted standby stays promoted across Stop/Restart.
//
// Start on a directory that already holds a standby's data (a previous run) starts it again
// without a new base backup. The destructor stops the server (fast) and leaves the files; the
// caller owns the directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/postgres_cluster.h"

namespace meridian::storage {

class PostgresStandby {
 public:
  struct Options {
    std::string directory;  // must exist; the standby lives in directory/data
    uint16_t port = 0;      // 0: a free loopback port
    // The primary's replication slot for this standby ([a-z0-9_]+); created if missing.
    std::string slot_name = "meridian_standby";
    std::chrono::seconds streaming_timeout{60};  // how long Start waits for streaming
    // false only for throwaway test standbys: the base backup is not synced to disk. (The
    // server's own fsync setting is the primary's: the backup copies postgresql.conf.)
    bool fsync = true;
  };

  // `primary` must be running; it is only used during Start (the standby keeps no pointer to it).
  static Result<std::unique_ptr<PostgresStandby>> Start(const LocalPostgres& primary, Options options);

  ~PostgresStandby();
  PostgresStandby(const PostgresStandby&) = delete;
  PostgresStandby& operator=(const PostgresStandby&) = delete;

  // Promotes the standby to a read-write primary (no-op when already promoted) and waits, up to
  // `timeout`, until it accepts writes.
  Status Promote(std::chrono::seconds timeout = std::chrono::seconds(60));
  // True once promoted (asks the server: pg_is_in_recovery() is false).
  Result<bool> IsPromoted() const;

  // WAL positions as byte offsets (pg_lsn as a 64-bit number). ReceiveLsn: the last WAL position
  // received from the primary and flushed (pg_last_wal_receive_lsn, 0 if none yet); ReplayLsn:
  // the last position replayed, i.e. visible to queries (pg_last_wal_replay_lsn).
  Result<uint64_t> ReceiveLsn() const;
  Result<uint64_t> ReplayLsn() const;
  // The primary's current WAL write position (pg_current_wal_lsn), for lag = primary - replay.
  static Result<uint64_t> CurrentLsn(const LocalPostgres& primary);
  // Waits until the standby has replayed everything up to `lsn` (e.g. CurrentLsn(primary) after a
  // write), or `timeout` passes (an error saying how far it got).
  Status WaitForReplay(uint64_t lsn, std::chrono::milliseconds timeout) const;

  // Stops the server; `immediate` is a crash stop. Restart starts it again on the same port (as a
  // standby if not promoted: it resumes streaming when the primary is reachable).
  Status Stop(bool immediate = false);
  Status Restart();
  // See LocalPostgres::StopWhenThisProcessDies.
  Status StopWhenThisProcessDies();

  uint16_t port() const { return server_->port(); }
  const std::string& directory() const { return directory_; }
  // libpq conninfo for `dbname` as the superuser over loopback TCP (holds the password).
  std::string Conninfo(std::string_view dbname = "postgres") const { return server_->Conninfo(dbname); }
  // The underlying server (Execute, EnsureDatabase: writes fail until promoted).
  LocalPostgres& server() { return *server_; }
  const LocalPostgres& server() const { return *server_; }

 private:
  PostgresStandby(std::string directory, std::unique_ptr<LocalPostgres> server)
      : directory_(std::move(directory)), server_(std::move(server)) {}

  std::string directory_;
  std::unique_ptr<LocalPostgres> server_;
};

// Parses a pg_lsn text ("16/B374D848") into a byte offset.
Result<uint64_t> ParsePgLsn(std::string_view text);

}  // namespace meridian::storage
