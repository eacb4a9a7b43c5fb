// AuditLog: one region's append-only, hash-chained, group-committed audit trail.
//
// Records (audit/record.h) are appended to JSON-lines files in one directory (layout and line
// format: audit/log_format.h). Each line carries its sequence number and the SHA-256 of the
// previous line, so the records form one chain per region across files. Files rotate by size and
// age; every process start begins a new file.
//
// Group commit: Append/AppendAsync serialize the record on the caller's thread and queue it; one
// writer thread takes everything queued, assigns sequence numbers, writes the batch with one
// write(2) and makes it durable with one fdatasync(2), then completes every record of the batch.
// A record is reported written only once it is durable (by default: synced; see Durability), and
// records complete in sequence order.
// Under load a batch holds every record that arrived during the previous fsync, so the cost of
// durability is shared (stats().batches counts the fsyncs).
//
// Digests (audit/digest.h) are written every `digest_interval_ms`, on WriteDigestNow(), and at
// Close(), covering every record made durable since the previous digest; a digest is written only
// after the records it names are durable. The signing key is loaded or created in the directory
// (audit/signing_key.h), wrapped under the region's root key.
//
// Failure policy: kFailClosed (the default) reports a record that could not be made durable as an
// error so that the caller refuses the request; kBestEffort reports success anyway (sequence 0,
// counted in stats().records_dropped) so that requests go on while the audit trail is broken.
// After a failed batch the file is truncated back to its last durable record and the next batch
// starts a new file, so the chain on disk stays consistent.
//
// Thread safety: all public methods may be called from any thread. Completions run on the writer
// thread: they must be short and must not call Append (post to your own executor instead).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/digest.h"
#include "audit/log_format.h"
#include "audit/record.h"
#include "audit/signing_key.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/unique_function.h"
#include "crypto/root_key.h"

namespace meridian::audit {

enum class FailurePolicy {
  kFailClosed,  // a record that cannot be written fails its request (default)
  kBestEffort,  // requests proceed; lost records are counted and logged
};

// When a record counts as written (and its Append returns / its completion runs).
enum class Durability {
  kSynced,   // after the batch's fdatasync: survives power loss and OS crashes (default)
  kWritten,  // after the batch's write(2): survives the process being killed (kill -9, crash)
             // but not power loss for up to sync_interval_ms; the file is fdatasync'ed every
             // sync_interval_ms, when idle, and before any digest, rotation or close, so digests
             // only sign synced records. Latency no longer includes an fsync.
};

struct AuditLogOptions {
  std::string directory;  // created (0700) if missing; one directory per region
  std::string region;     // stamped into records that leave awsRegion empty, and into digests
  FailurePolicy failure_policy = FailurePolicy::kFailClosed;
  Durability durability = Durability::kSynced;
  int64_t sync_interval_ms = 10;  // kWritten only: the longest a written record stays unsynced
  uint64_t max_file_bytes = 64ull << 20;     // rotate when a file reaches this size
  int64_t max_file_age_ms = 60 * 60 * 1000;  // ... or this age
  int64_t digest_interval_ms = 5 * 60 * 1000;
  size_t max_batch_records = 8192;   // records per write+fsync at most
  size_t max_queue_records = 65536;  // fail-closed: appenders wait; best-effort: records dropped
  const Clock* clock = &SystemClock::Instance();
};

struct AuditLogStats {
  uint64_t records_written = 0;  // durable records
  uint64_t batches = 0;          // successful write rounds (kSynced: one fdatasync each)
  uint64_t syncs = 0;            // fdatasync calls on log files
  uint64_t largest_batch = 0;
  uint64_t bytes_written = 0;
  uint64_t records_failed = 0;   // reported as errors (fail-closed)
  uint64_t records_dropped = 0;  // lost but reported as success (best-effort)
  uint64_t digests_written = 0;
  uint64_t digest_failures = 0;
  uint64_t last_sequence = 0;    // the chain head's sequence number
};

// The error a fail-closed log reports; the caller answers the request with it (AWS's common
// "InternalFailure", HTTP 500).
Status AuditUnavailable(std::string detail);

class AuditLog {
 public:
  // status OK: the record is durable as `sequence` (best-effort: sequence 0 if it was lost).
  // Move-only (common/unique_function.h): it may own the response it releases.
  using Completion = UniqueFunction<void(const Status& status, uint64_t sequence)>;

  // Opens the directory: loads or creates the signing key (wrapped under `root_key`), finds the
  // chain head (the last complete line; a torn last line from a crash is left in place as
  // evidence and the chain continues from the record before it) and the last digest. Fails if the
  // last digest does not verify or names records the log no longer has.
  static Result<std::unique_ptr<AuditLog>> Open(AuditLogOptions options, const crypto::RootKey& root_key);

  ~AuditLog();  // Close()
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Stamps eventTime (if 0), eventID (if empty) and awsRegion (if empty), then blocks until the
  // record is durable or has failed. Returns OK (and the sequence number) once durable; a
  // fail-closed log returns AuditUnavailable(...) when the record could not be written.
  Status Append(AuditRecord record, uint64_t* sequence = nullptr);
  // The same without blocking: `done` runs (on the writer thread) once the record is durable or
  // has failed. With a fail-closed log and a full queue this call waits for space.
  void AppendAsync(AuditRecord record, Completion done);

  // Writes a digest now for every record made durable so far (none if there is nothing new).
  Status WriteDigestNow();
  // Drains the queue, writes the final digest and stops the writer. Appends after Close fail
  // (fail-closed) or are dropped (best-effort). Idempotent.
  Status Close();

  // Not OK while the last write failed (a fail-closed pipeline may refuse requests up front).
  Status Health() const;
  AuditLogStats stats() const;
  const AuditPublicKey& public_key() const { return signing_key_.public_key(); }
  const AuditLogOptions& options() const { return options_; }

 private:
  struct Pending {
    std::string body;  // SerializeRecord output
    int64_t event_time_ms;
    Completion done;
  };

  AuditLog(AuditLogOptions options, AuditSigningKey signing_key);
  Status Recover();
  void Run();
  void WriteBatch(std::vector<Pending>& batch);
  Status EnsureFile();
  Status SyncFile();  // kWritten: fdatasync what was written since the last sync
  bool SyncDue() const;
  Status WriteDigest();
  void Fail(std::vector<Pending>& batch, const Status& error);

  const AuditLogOptions options_;
  const AuditSigningKey signing_key_;

  // Shared between appenders and the writer, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // writer waits for records / requests
  std::condition_variable space_cv_;  // fail-closed appenders wait for queue space
  std::condition_variable digest_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool closed_ = false;
  uint64_t digest_requested_ = 0;
  uint64_t digest_completed_ = 0;
  Status digest_status_;
  Status final_status_;
  std::thread writer_;

  std::atomic<bool> healthy_{true};
  std::atomic<uint64_t> records_written_{0}, batches_{0}, largest_batch_{0}, bytes_written_{0},
      records_failed_{0}, records_dropped_{0}, digests_written_{0}, digest_failures_{0}, last_sequence_{0},
      syncs_{0};

  // Writer-thread state (also touched by Open before the thread starts).
  int fd_ = -1;
  bool poisoned_ = false;  // a failed batch could not be truncated away: stop writing
  uint32_t file_number_ = 0;
  std::string file_name_;  // LogFileName(file_number_) of the open file
  uint64_t file_size_ = 0;
  int64_t file_opened_ms_ = 0;
  uint64_t next_sequence_ = 1;
  ChainHash head_hash_{};
  int64_t last_event_time_ms_ = 0;
  // The range not yet covered by a digest.
  uint64_t first_undigested_ = 1;
  int64_t first_undigested_time_ms_ = 0;
  std::vector<DigestFileRange> undigested_files_;
  uint64_t digest_sequence_ = 0;  // of the last digest written
  std::string last_digest_signature_;
  int64_t next_digest_due_ms_ = 0;
  bool unsynced_ = false;  // kWritten: bytes written (and acknowledged) but not yet synced
  std::chrono::steady_clock::time_point last_sync_{};
  std::string batch_buffer_;  // the lines of the batch being written, reused across batches
};

}  // namespace meridian::audit
