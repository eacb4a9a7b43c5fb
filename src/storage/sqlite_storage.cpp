// The SQLite backend of storage.h.
//
// Layout: one table per declared name, (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID, plus
// schema_version (one row). Keys compare bytewise (BINARY collation), as std::string does.
//
// Concurrency: one write connection behind a WriteGate (writers of this process take turns; BEGIN
// IMMEDIATE plus the busy timeout serializes them with other processes), and a small pool of
// query-only read connections, each read transaction pinning a WAL snapshot at BeginRead.
// Every connection is used by one thread at a time, so connections are opened without their
// own mutex (SQLITE_OPEN_NOMUTEX).
//
// Change feed (change_feed.h): a write transaction records the rows it writes and, once COMMIT
// succeeded, queues them for the Storage's delivery thread. The database belongs to one process,
// so announcements stay in process, and that process is always the leader (leadership.h).
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/backend_common.h"
#include "storage/change_hub.h"
#include "storage/storage.h"

namespace meridian::storage {
namespace {

using internal::kVersionTable;
using internal::Quoted;
using internal::StorageError;

constexpr int kBusyTimeoutMs = internal::kWriteWaitMs;
constexpr size_t kMaxIdleReaders = 4;

// A prepared statement in use: bound, stepped, then reset and unbound when this goes out of
// scope so that it can be reused from the cache. A failed bind is remembered and returned by
// Step(), so callers check one code.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)), rc_(other.rc_) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Binds a string_view as TEXT or BLOB; an empty view is bound as an empty value, never NULL.
  void BindText(int index, std::string_view text) {
    Check(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(), SQLITE_STATIC,
                              SQLITE_UTF8));
  }
  void BindBlob(int index, std::string_view blob) {
    Check(blob.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                       : sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_STATIC));
  }
  void BindInt64(int index, int64_t value) { Check(sqlite3_bind_int64(stmt_, index, value)); }

  // SQLITE_ROW, SQLITE_DONE, or an error code (a failed bind included).
  int Step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(stmt_); }

  // Column `index` of the current row, as bytes (TEXT or BLOB alike).
  std::string Column(int index) const {
    const void* data = sqlite3_column_blob(stmt_, index);
    int size = sqlite3_column_bytes(stmt_, index);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
  }
  int64_t ColumnInt64(int index) const { return sqlite3_column_int64(stmt_, index); }

 private:
  void Check(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
  }

  sqlite3_stmt* stmt_;
  int rc_ = SQLITE_OK;
};

// One SQLite connection and its prepared-statement cache. Used by one thread at a time.
class Connection {
 public:
  enum class Role { kWriter, kReader };

  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Role role) {
    // A writer may create the file; a reader only joins a database the writer has set up.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (role == Role::kWriter ? SQLITE_OPEN_CREATE : 0);
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    std::unique_ptr<Connection> conn(new Connection(db, path));  // owns db even on failure
    if (rc != SQLITE_OK) return conn->Error("cannot open the database", rc);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    MERIDIAN_RETURN_IF_ERROR(conn->Exec("PRAGMA trusted_schema = OFF"));
    if (role == Role::kWriter) {
      // journal_mode is persistent in the file; it answers the mode now in effect.
      MERIDIAN_ASSIGN_OR_RETURN(Statement wal, conn->Prepare("PRAGMA journal_mode = WAL"));
      rc = wal.Step();
      if (rc != SQLITE_ROW) return conn->Error("cannot switch to WAL mode", rc);
      if (wal.Column(0) != "wal") {
        return StorageError("storage: " + path + " cannot use WAL mode (journal mode is " + wal.Column(0) + ")");
      }
    } else {
      MERIDIAN_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only = ON"));
    }
    MERIDIAN_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = FULL"));
    return conn;
  }

  ~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);  // accepts nullptr
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The cached statement for `sql` (one SQL statement), ready to bind.
  Result<Statement> Prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT,
                                  &stmt, nullptr);
      if (rc != SQLITE_OK) return Error("cannot prepare \"" + sql + "\"", rc);
      it = statements_.emplace(sql, stmt).first;
    }
    return Statement(it->second);
  }

  // Runs a statement that takes no parameters, ignoring any rows it returns.
  Status Exec(const std::string& sql) {
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
    }
    return rc == SQLITE_DONE ? Status::Ok() : Error(sql + " failed", rc);
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_); }

  // A StorageException for a failure of `what` with result code `rc`.
  Status Error(const std::string& what, int rc) const {
    // SQLite's message for the last call is more specific than the generic text for rc.
    const char* detail = (db_ != nullptr && sqlite3_extended_errcode(db_) == rc) ? sqlite3_errmsg(db_)
                                                                                  : sqlite3_errstr(rc);
    return StorageError("storage: " + what + ": " + detail + " (" + path_ + ")");
  }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// Admits one write transaction of this process at a time. Unlike a plain mutex, waiting is
// bounded, and the pass can be handed back before the transaction object is destroyed.
class WriteGate {
 public:
  // A pass: the gate stays closed to others until it is released or destroyed.
  class Pass {
   public:
    Pass() = default;
    explicit Pass(WriteGate* gate) : gate_(gate) {}
    Pass(Pass&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Pass& operator=(Pass&&) = delete;
    ~Pass() { Release(); }
    void Release() {
      if (gate_ != nullptr) std::exchange(gate_, nullptr)->Leave();
    }

   private:
    WriteGate* gate_ = nullptr;
  };

  // A pass, or nullopt if the gate stayed closed for `timeout`.
  std::optional<Pass> Enter(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!open_.wait_for(lock, timeout, [this] { return !busy_; })) return std::nullopt;
    busy_ = true;
    return std::optional<Pass>(std::in_place, this);
  }

 private:
  void Leave() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
    open_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable open_;
  bool busy_ = false;  // guarded by mu_
};

// What the Storage and its transactions share; a transaction keeps it alive.
struct Shared {
  std::string path;
  int version = 0;
  internal::TableSet tables;  // declared table names

  WriteGate write_gate;
  std::unique_ptr<Connection> writer;  // used only with a pass; null after a failed rollback

  std::mutex pool_mu;
  std::vector<std::unique_ptr<Connection>> idle_readers;  // guarded by pool_mu

  // The change feed: subscribers, and the thread that delivers committed ChangeSets to them
  // (started by the first Subscribe).
  std::shared_ptr<internal::ChangeHub> changes =
      std::make_shared<internal::ChangeHub>([this] { delivery.Start(); });
  internal::AsyncChangeDelivery delivery{changes};
};

class SqliteTransaction final : public Transaction {
 public:
  // A write transaction on `shared->writer`, holding `pass`.
  SqliteTransaction(std::shared_ptr<Shared> shared, WriteGate::Pass pass)
      : shared_(std::move(shared)), write_pass_(std::move(pass)), conn_(shared_->writer.get()) {}
  // A read transaction on a pooled connection, returned to the pool at the end.
  SqliteTransaction(std::shared_ptr<Shared> shared, std::unique_ptr<Connection> reader)
      : shared_(std::move(shared)), reader_(std::move(reader)), conn_(reader_.get()) {}

  ~SqliteTransaction() override {
    bool healthy = state_ == State::kFinished || End("ROLLBACK").ok();
    if (reader_ != nullptr) {
      if (!healthy) return;  // drop a connection left in an unknown state
      std::lock_guard<std::mutex> lock(shared_->pool_mu);
      if (shared_->idle_readers.size() < kMaxIdleReaders) shared_->idle_readers.push_back(std::move(reader_));
    } else if (!healthy) {
      shared_->writer.reset();  // still holding the pass; the next BeginWrite reopens it
    }
  }

  Result<std::optional<std::string>> Get(std::string_view table, std::string_view key) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/false));
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, Prepare("SELECT v FROM " + Quoted(table) + " WHERE k = ?1"));
    stmt.BindText(1, key);
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return Fail("get from " + std::string(table), rc);
    return std::optional<std::string>(stmt.Column(0));
  }

  Status Put(std::string_view table, std::string_view key, std::string_view value) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/true));
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, Prepare("INSERT INTO " + Quoted(table) +
                                                      " (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v"));
    stmt.BindText(1, key);
    stmt.BindBlob(2, value);
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) return Fail("put into " + std::string(table), rc);
    changes_.Add(table, key);
    return Status::Ok();
  }

  Status Insert(std::string_view table, std::string_view key, std::string_view value) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/true));
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, Prepare("INSERT INTO " + Quoted(table) +
                                                      " (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO NOTHING"));
    stmt.BindText(1, key);
    stmt.BindBlob(2, value);
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) return Fail("insert into " + std::string(table), rc);
    if (Changes() == 0) {
      return Status("ConflictException", "key '" + std::string(key) + "' already exists in " + std::string(table));
    }
    changes_.Add(table, key);
    return Status::Ok();
  }

  Status Delete(std::string_view table, std::string_view key, bool* existed) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/true));
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, Prepare("DELETE FROM " + Quoted(table) + " WHERE k = ?1"));
    stmt.BindText(1, key);
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) return Fail("delete from " + std::string(table), rc);
    if (Changes() > 0) changes_.Add(table, key);
    if (existed != nullptr) *existed = Changes() > 0;
    return Status::Ok();
  }

  Result<std::vector<Row>> Scan(std::string_view table, std::string_view prefix, std::string_view start_after,
                                size_t limit) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/false));
    // Keys in [prefix, successor), and past start_after when that lies beyond the prefix.
    bool after = !start_after.empty() && start_after >= prefix;
    std::optional<std::string> end = internal::PrefixSuccessor(prefix);
    std::string sql = "SELECT k, v FROM " + Quoted(table) + (after ? " WHERE k > ?1" : " WHERE k >= ?1") +
                      (end ? " AND k < ?2" : "") + " ORDER BY k LIMIT ?3";
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
    stmt.BindText(1, after ? start_after : prefix);
    if (end) stmt.BindText(2, *end);
    bool unlimited = limit == 0 || limit > static_cast<size_t>(std::numeric_limits<int64_t>::max());
    stmt.BindInt64(3, unlimited ? -1 : static_cast<int64_t>(limit));

    std::vector<Row> rows;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) rows.push_back(Row{stmt.Column(0), stmt.Column(1)});
    if (rc != SQLITE_DONE) return Fail("scan of " + std::string(table), rc);
    return rows;
  }

  Status Commit() override {
    if (state_ == State::kFinished) return StorageError("storage: Commit on a finished transaction");
    if (state_ == State::kFailed) {
      Status rolled_back = End("ROLLBACK");
      if (!rolled_back.ok()) return rolled_back;
      return StorageError("storage: transaction not committed: an earlier operation in it failed");
    }
    Status committed = End("COMMIT");
    if (!committed.ok() && !End("ROLLBACK").ok()) {
      state_ = State::kFailed;  // the destructor retries, then drops the connection
    }
    if (committed.ok()) shared_->delivery.Publish(std::move(changes_));
    changes_.clear();
    return committed;
  }

 private:
  enum class State { kOpen, kFailed, kFinished };

  Status CheckUsable(std::string_view table, bool write) const {
    if (state_ == State::kFinished) return StorageError("storage: use of a finished transaction");
    if (state_ == State::kFailed) {
      return StorageError("storage: transaction aborted by an earlier error; it can only be destroyed");
    }
    if (write && reader_ != nullptr) return StorageError("storage: write in a read-only transaction");
    if (!shared_->tables.contains(table)) {
      return StorageError("storage: unknown table '" + std::string(table) + "' (not declared in storage/schema.h)");
    }
    return Status::Ok();
  }

  Result<Statement> Prepare(const std::string& sql) {
    auto stmt = conn_->Prepare(sql);
    if (!stmt.ok()) state_ = State::kFailed;
    return stmt;
  }

  // Any SQLite failure may have rolled the transaction back already, so none continues past it.
  Status Fail(const std::string& what, int rc) {
    state_ = State::kFailed;
    return conn_->Error(what, rc);
  }

  // Runs COMMIT or ROLLBACK; once it succeeds the transaction is finished and a writer lets the
  // next one in.
  Status End(const std::string& sql) {
    Status status;
    if (conn_->InTransaction()) {
      status = conn_->Exec(sql);
      if (!status.ok()) return status;
    } else if (sql == "COMMIT") {
      status = StorageError("storage: transaction was rolled back by an earlier error");
    }
    state_ = State::kFinished;
    write_pass_.Release();
    return status;
  }

  int64_t Changes() const { return conn_->Changes(); }

  std::shared_ptr<Shared> shared_;
  internal::ChangeSet changes_;  // rows written, announced after a successful commit
  WriteGate::Pass write_pass_;          // a write transaction's, until it finishes
  std::unique_ptr<Connection> reader_;  // a read transaction's pooled connection
  Connection* conn_;
  State state_ = State::kOpen;
};

// The only process using the database leads it.
class SoleLeader final : public Leadership {
 public:
  bool IsLeader() override { return true; }
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  // Delivers what is queued and stops the delivery thread (transactions may outlive the Storage;
  // what they commit afterwards is not announced).
  ~SqliteStorage() override { shared_->delivery.Stop(); }

  Result<std::unique_ptr<Transaction>> BeginRead() override {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(shared_->pool_mu);
      if (!shared_->idle_readers.empty()) {
        conn = std::move(shared_->idle_readers.back());
        shared_->idle_readers.pop_back();
      }
    }
    if (conn == nullptr) {
      MERIDIAN_ASSIGN_OR_RETURN(conn, Connection::Open(shared_->path, Connection::Role::kReader));
    }
    MERIDIAN_RETURN_IF_ERROR(conn->Exec("BEGIN"));
    // A deferred transaction takes its snapshot at its first read: read now, so the snapshot is
    // the state at BeginRead. (On failure the connection is closed, which ends the transaction.)
    MERIDIAN_RETURN_IF_ERROR(conn->Exec("SELECT version FROM " + std::string(kVersionTable)));
    return std::unique_ptr<Transaction>(std::make_unique<SqliteTransaction>(shared_, std::move(conn)));
  }

  Result<std::unique_ptr<Transaction>> BeginWrite() override {
    // Bounded like SQLite's own wait for other processes, so a thread that begins a second
    // write transaction while holding one gets an error rather than a deadlock.
    std::optional<WriteGate::Pass> pass = shared_->write_gate.Enter(std::chrono::milliseconds(kBusyTimeoutMs));
    if (!pass) {
      return StorageError("storage: timed out waiting for the write lock (" + shared_->path +
                          "); is a write transaction left open?");
    }
    if (shared_->writer == nullptr) {
      MERIDIAN_ASSIGN_OR_RETURN(shared_->writer, Connection::Open(shared_->path, Connection::Role::kWriter));
    }
    // IMMEDIATE takes the database's write lock now (waiting up to the busy timeout for other
    // processes), so the transaction reads the latest state and its commit cannot conflict.
    MERIDIAN_RETURN_IF_ERROR(shared_->writer->Exec("BEGIN IMMEDIATE"));
    return std::unique_ptr<Transaction>(std::make_unique<SqliteTransaction>(shared_, std::move(*pass)));
  }

  int SchemaVersion() const override { return shared_->version; }
  ChangeFeed* change_feed() override { return shared_->changes.get(); }
  Leadership* leadership() override { return &leader_; }

 private:
  std::shared_ptr<Shared> shared_;
  SoleLeader leader_;
};

// The body of Migrate, inside its transaction.
Result<int> ApplyMigrations(Connection& conn, std::span<const Migration> migrations, const std::string& path) {
  MERIDIAN_RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS " + std::string(kVersionTable) +
                                     " (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL)"));
  int64_t version = 0;  // a database without the row is new
  {
    MERIDIAN_ASSIGN_OR_RETURN(Statement stmt,
                              conn.Prepare("SELECT version FROM " + std::string(kVersionTable) + " WHERE id = 0"));
    int rc = stmt.Step();
    if (rc == SQLITE_ROW) {
      version = stmt.ColumnInt64(0);
    } else if (rc != SQLITE_DONE) {
      return conn.Error("cannot read the schema version", rc);
    }
  }
  const int latest = internal::LatestVersion(migrations);
  if (version > latest || version < 0) return internal::UnusableVersionError(path, version, latest);
  if (version == latest) return latest;

  for (const Migration& step : migrations) {
    if (step.version <= version) continue;
    for (std::string_view table : step.creates) {
      MERIDIAN_RETURN_IF_ERROR(
          conn.Exec("CREATE TABLE " + Quoted(table) + " (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"));
    }
  }
  MERIDIAN_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("INSERT INTO " + std::string(kVersionTable) +
                                                         " (id, version) VALUES (0, ?1)"
                                                         " ON CONFLICT (id) DO UPDATE SET version = excluded.version"));
  stmt.BindInt64(1, latest);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn.Error("cannot record the schema version", rc);
  return latest;
}

// Brings the database to the last version of `migrations`, all steps in one transaction, and
// returns that version. Refuses a database newer than the list.
Result<int> Migrate(Connection& conn, std::span<const Migration> migrations, const std::string& path) {
  MERIDIAN_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  Result<int> version = ApplyMigrations(conn, migrations, path);
  Status committed = version.ok() ? conn.Exec("COMMIT") : version.status();
  if (!committed.ok()) {
    if (conn.InTransaction()) conn.Exec("ROLLBACK");
    return committed;
  }
  return version;
}

}  // namespace

Result<std::unique_ptr<Storage>> OpenSqliteWithMigrations(const std::string& path,
                                                          std::span<const Migration> migrations) {
  if (sqlite3_threadsafe() == 0) return StorageError("storage: the SQLite library was built without thread support");
  auto shared = std::make_shared<Shared>();
  shared->path = path;
  MERIDIAN_ASSIGN_OR_RETURN(shared->tables, internal::DeclaredTables(migrations));
  MERIDIAN_ASSIGN_OR_RETURN(shared->writer, Connection::Open(path, Connection::Role::kWriter));
  MERIDIAN_ASSIGN_OR_RETURN(shared->version, Migrate(*shared->writer, migrations, path));
  return std::unique_ptr<Storage>(std::make_unique<SqliteStorage>(std::move(shared)));
}

Result<std::unique_ptr<Storage>> OpenSqlite(const std::string& path) {
  return OpenSqliteWithMigrations(path, kMigrations);
}

}  // namespace meridian::storage
