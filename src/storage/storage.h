// Storage: the one interface every durable component writes through.
//
// The model is a set of named tables, each an ordered map from a text key to a byte value,
// with ACID transactions. Values are opaque to storage (components store JSON or binary
// records). Key material and secret values are wrapped by their owners before they get here:
// storage never sees plaintext.
//
// Invariants:
//  - Commit() returns OK only once the transaction is durable: it survives kill -9 of the
//    process (and, with the default synchronous mode, power loss).
//  - A Transaction destroyed without a successful Commit() is rolled back; nothing partial is
//    ever visible.
//  - Tables are declared in schema.h; using an undeclared table is an error.
//
// Backends: SQLite in WAL mode (the embedded default, sqlite_storage.cpp) and PostgreSQL
// (postgres_storage.cpp; several frontends of one region may share one database). Both give the
// same answers to the same calls; storage_test.cpp runs one test suite against each.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/change_feed.h"
#include "storage/leadership.h"
#include "storage/schema.h"

namespace meridian::storage {

struct Row {
  std::string key;
  std::string value;
};

class Transaction {
 public:
  virtual ~Transaction() = default;

  // nullopt when the key is absent.
  virtual Result<std::optional<std::string>> Get(std::string_view table, std::string_view key) = 0;
  // Inserts or replaces.
  virtual Status Put(std::string_view table, std::string_view key, std::string_view value) = 0;
  // Inserts only; returns a "ConflictException" Status if the key exists.
  virtual Status Insert(std::string_view table, std::string_view key, std::string_view value) = 0;
  // Removes the key if present; `existed` (optional) tells whether it was.
  virtual Status Delete(std::string_view table, std::string_view key, bool* existed = nullptr) = 0;
  // Rows whose key starts with `prefix` and sorts strictly after `start_after` (empty: from the
  // beginning), in ascending key order, at most `limit` rows (0: no limit).
  virtual Result<std::vector<Row>> Scan(std::string_view table, std::string_view prefix,
                                        std::string_view start_after = {}, size_t limit = 0) = 0;

  // Makes the writes durable and visible. After Commit (successful or not) the transaction is
  // finished.
  virtual Status Commit() = 0;
};

// A Storage may be used from many threads at once; a Transaction by one thread at a time. A
// Transaction keeps what it needs alive, so it may outlive its Storage. Writers wait for each
// other until the running one commits or is destroyed; BeginWrite fails after a few seconds of
// waiting (so a thread that begins a second write transaction gets an error, not a deadlock).
class Storage {
 public:
  virtual ~Storage() = default;

  // A read-only transaction sees a consistent snapshot; a write transaction is serialized with
  // the other writers of this region.
  virtual Result<std::unique_ptr<Transaction>> BeginRead() = 0;
  virtual Result<std::unique_ptr<Transaction>> BeginWrite() = 0;

  // The schema version the store is at (see schema.h).
  virtual int SchemaVersion() const = 0;

  // Coordination of the processes sharing this database (change_feed.h, leadership.h), owned by
  // the Storage and valid while it lives. nullptr from a Storage that offers none (e.g. a test
  // wrapper): it announces no changes, and its user is the only process (always the leader).
  virtual ChangeFeed* change_feed() { return nullptr; }
  virtual Leadership* leadership() { return nullptr; }
};

// Whether this process should run the region's background duties now: `storage`'s leadership,
// or true when it has none.
inline bool IsLeader(Storage& storage) {
  Leadership* leadership = storage.leadership();
  return leadership == nullptr || leadership->IsLeader();
}

// Opens (creating if needed) a SQLite database at `path`, in WAL mode, and migrates it to the
// current schema version.
Result<std::unique_ptr<Storage>> OpenSqlite(const std::string& path);

// As OpenSqlite, but migrating with `migrations` instead of schema.h's kMigrations: for tests
// and tools that exercise schema upgrades. The steps must be numbered 1, 2, 3, ... in order.
Result<std::unique_ptr<Storage>> OpenSqliteWithMigrations(const std::string& path,
                                                          std::span<const Migration> migrations);

// Connects to PostgreSQL with a libpq `conninfo` ("host=... dbname=..." or a postgresql:// URI;
// multi-host lists with target_session_attrs=read-write follow a failover) and migrates the
// session's current schema (the first in its search_path) to the current version. Any number of
// Storage handles, in any number of processes, may share one database: their writers are
// serialized by a transaction-level advisory lock, their readers read MVCC snapshots. The
// conninfo may carry a password; it never appears in a Status message.
Result<std::unique_ptr<Storage>> OpenPostgres(const std::string& conninfo);

// As OpenPostgres, migrating with `migrations` (see OpenSqliteWithMigrations).
Result<std::unique_ptr<Storage>> OpenPostgresWithMigrations(const std::string& conninfo,
                                                            std::span<const Migration> migrations);

}  // namespace meridian::storage
