// The PostgreSQL backend of storage.h.
//
// Layout: in the session's current schema (the first of its search_path), one table per declared
// name, (k bytea PRIMARY KEY, v bytea NOT NULL), plus schema_version (one row). Keys are bytea,
// not text: the storage contract allows any bytes in a key (NUL and invalid UTF-8 included),
// which a PostgreSQL text column cannot hold. bytea compares bytewise (memcmp, then length), as
// SQLite's BINARY collation and std::string do, so Scan returns the same order on both backends
// with no collation to configure.
//
// Isolation (the choice, documented in docs/storage-postgres.md):
//  - A read transaction is REPEATABLE READ READ ONLY; BeginRead runs a first statement so the
//    snapshot is the database at BeginRead, as with SQLite.
//  - A write transaction is READ COMMITTED and takes a transaction-level advisory lock
//    (pg_advisory_xact_lock) on a key derived from the schema name before anything else; COMMIT or
//    ROLLBACK releases it. Every writer of the region, on every frontend sharing the database,
//    thus runs alone, and each statement sees everything committed before it: no lost update,
//    no serialization failure for callers to retry (the interface has no retry). SERIALIZABLE
//    would let disjoint writers overlap but would surface 40001 errors to every caller; a
//    region's write rate is bounded by one commit's WAL flush either way. Readers never wait
//    for writers (MVCC). lock_timeout bounds BeginWrite's wait, like SQLite's busy timeout.
//  - Migrations take the same lock, so frontends starting together migrate once.
//
// Durability: every session runs with synchronous_commit = on, so Commit returns once the commit
// record is flushed (and, where the server has synchronous standbys, replicated).
//
// Connections: a pool of idle libpq connections; each connection is used by one thread at a
// time. A pooled connection found broken when a transaction begins (the server restarted, or
// failed over) is dropped with the rest of the idle pool, and the begin is retried on a fresh
// connection; libpq's multi-host conninfo with target_session_attrs=read-write then finds the
// current primary. (A server does not turn from primary into standby without a restart, so a
// pooled connection never finds itself on a read-only server.) A connection that breaks inside
// a transaction fails that transaction (if the answer to COMMIT is what was lost, the commit may
// or may not have happened, as with any database client).
//
// Values travel as binary parameters and results and never appear in error messages.
//
// Change feed and leadership (change_feed.h, leadership.h): a write transaction records the rows
// it writes and sends them with its COMMIT, in one round trip: "SELECT pg_notify(<channel of the
// schema>, <rows>); COMMIT". PostgreSQL delivers a notification only if (and once) its transaction
// commits. A PostgresListener (postgres_listener.h), started by the first Subscribe or
// leadership() call, LISTENs on the channel and holds the leader's advisory lock.
#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <cstring>
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
#include "storage/postgres_listener.h"
#include "storage/storage.h"

namespace meridian::storage {
namespace {

using internal::kVersionTable;
using internal::Quoted;
using internal::StorageError;

constexpr size_t kMaxIdleConnections = 8;
constexpr const char* kDefaultConnectTimeoutSeconds = "10";
constexpr std::string_view kLockNotAvailableSqlState = "55P03";

// Settings of every session: durable commits, no NOTICE chatter on stderr, bounded lock waits,
// and no bind parameter (a value) ever copied into the server log on an error.
const std::string kSessionSetup = "SET synchronous_commit = on; SET client_min_messages = warning; "
                                  "SET lock_timeout = '" + std::to_string(internal::kWriteWaitMs) + "ms'; "
                                  "SET log_parameter_max_length_on_error = 0";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// One statement parameter: bytes sent in binary (bytea), text (numbers), or SQL NULL.
struct Param {
  enum class Kind { kBinary, kText, kNull };
  static Param Binary(std::string_view bytes) { return {Kind::kBinary, bytes}; }
  static Param Text(std::string_view text) { return {Kind::kText, text}; }
  static Param Null() { return {Kind::kNull, {}}; }
  Kind kind;
  std::string_view data;
};

std::string TrimmedMessage(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// One libpq connection, with its session set up, and its prepared-statement cache. Used by one
// thread at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo) {
    // The conninfo is expanded in place of "dbname"; its own settings override the defaults
    // listed before it.
    const char* const keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
    const char* const values[] = {kDefaultConnectTimeoutSeconds, "meridian", conninfo.c_str(), nullptr};
    std::unique_ptr<Connection> conn(new Connection(PQconnectdbParams(keywords, values, /*expand_dbname=*/1)));
    if (conn->conn_ == nullptr) return StorageError("storage: cannot connect to PostgreSQL: out of memory");
    if (PQstatus(conn->conn_) != CONNECTION_OK) {
      return StorageError("storage: cannot connect to PostgreSQL: " + TrimmedMessage(PQerrorMessage(conn->conn_)));
    }
    // Server notices (and the warning a server sends as it shuts down) are not printed.
    PQsetNoticeProcessor(conn->conn_, [](void*, const char*) {}, nullptr);
    MERIDIAN_RETURN_IF_ERROR(conn->Exec(kSessionSetup, "set up the session"));
    return conn;
  }

  ~Connection() { PQfinish(conn_); }  // accepts nullptr
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` as a simple query (one or more statements, no parameters, results discarded).
  Status Exec(const std::string& sql, const std::string& what) { return Command(sql, what).status(); }

  // As Exec, answering the command tag of the last statement (e.g. "COMMIT").
  Result<std::string> Command(const std::string& sql, const std::string& what) {
    PgResult result(PQexec(conn_, sql.c_str()));
    MERIDIAN_RETURN_IF_ERROR(Check(result, what));
    return std::string(PQcmdStatus(result.get()));
  }

  // Runs `sql` (one statement, parameters $1, $2, ...) as a cached prepared statement; results
  // come back in binary when `binary_results`, else as text.
  Result<PgResult> Run(const std::string& sql, std::initializer_list<Param> params, const std::string& what,
                       bool binary_results = true) {
    MERIDIAN_ASSIGN_OR_RETURN(const std::string* name, Prepared(sql, what));
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<std::string> texts;  // libpq reads text parameters up to a NUL: copies with one
    texts.reserve(params.size());    // (reserved: the c_str() pointers stay valid)
    for (const Param& p : params) {
      if (p.data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        return StorageError("storage: " + what + ": parameter too large");
      }
      switch (p.kind) {
        case Param::Kind::kNull: values.push_back(nullptr); break;
        case Param::Kind::kText: values.push_back(texts.emplace_back(p.data).c_str()); break;
        // A non-null pointer for every non-NULL parameter, empty ones included.
        case Param::Kind::kBinary: values.push_back(p.data.data() == nullptr ? "" : p.data.data()); break;
      }
      lengths.push_back(static_cast<int>(p.data.size()));
      formats.push_back(p.kind == Param::Kind::kBinary ? 1 : 0);
    }
    PgResult result(PQexecPrepared(conn_, name->c_str(), static_cast<int>(values.size()), values.data(),
                                   lengths.data(), formats.data(), binary_results ? 1 : 0));
    MERIDIAN_RETURN_IF_ERROR(Check(result, what));
    return result;
  }

  // The connection was lost (or never made); it cannot be used again.
  bool Broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  bool InTransaction() const {
    PGTransactionStatusType status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }
  // The SQLSTATE of the last failure Check() reported ("" if none or unknown).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}

  Result<const std::string*> Prepared(const std::string& sql, const std::string& what) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return &it->second;
    std::string name = "meridian_" + std::to_string(statements_.size() + 1);
    PgResult result(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    MERIDIAN_RETURN_IF_ERROR(Check(result, what + " (prepare)"));
    return &statements_.emplace(sql, std::move(name)).first->second;
  }

  // OK for a successful result, else a StorageException with the server's primary message and
  // SQLSTATE (never the DETAIL, which may quote row values).
  Status Check(const PgResult& result, const std::string& what) {
    ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      last_sqlstate_.clear();
      return Status::Ok();
    }
    const char* sqlstate = result == nullptr ? nullptr : PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    const char* primary = result == nullptr ? nullptr : PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
    last_sqlstate_ = sqlstate == nullptr ? "" : sqlstate;
    std::string message = primary != nullptr ? TrimmedMessage(primary) : TrimmedMessage(PQerrorMessage(conn_));
    if (!last_sqlstate_.empty()) message += " (SQLSTATE " + last_sqlstate_ + ")";
    return StorageError("storage: " + what + ": " + message + Where());
  }

  std::string Where() const {
    if (Broken()) return " (PostgreSQL connection lost)";
    const char* host = PQhost(conn_);
    const char* port = PQport(conn_);
    const char* db = PQdb(conn_);
    return std::string(" (PostgreSQL ") + (host ? host : "?") + ":" + (port ? port : "?") + "/" + (db ? db : "?") + ")";
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> statements_;  // SQL text -> prepared statement name
  std::string last_sqlstate_;
};

std::string Bytes(const PGresult* result, int row, int column) {
  return std::string(PQgetvalue(result, row, column), static_cast<size_t>(PQgetlength(result, row, column)));
}

// What the Storage and its transactions share; a transaction keeps it alive.
struct Shared {
  std::string conninfo;  // may hold a password: never put in a message
  int version = 0;
  internal::TableSet tables;
  std::string lock_writers_sql;  // "SELECT pg_advisory_xact_lock(<key of this schema>)"
  std::string channel;           // the schema's NOTIFY channel (an identifier: [a-z0-9_])
  int64_t leader_lock_key = 0;   // the schema's leadership advisory lock

  // The change feed's subscribers; the listener is made on first use (it then keeps a
  // connection and a thread).
  std::shared_ptr<internal::ChangeHub> changes =
      std::make_shared<internal::ChangeHub>([this] { Listener().Start(); });
  std::mutex listener_mu;
  std::unique_ptr<internal::PostgresListener> listener;  // guarded by listener_mu

  internal::PostgresListener& Listener() {
    std::lock_guard<std::mutex> lock(listener_mu);
    if (listener == nullptr)
      listener = std::make_unique<internal::PostgresListener>(conninfo, channel, leader_lock_key, changes);
    return *listener;
  }

  std::mutex pool_mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by pool_mu

  std::unique_ptr<Connection> TakeIdle() {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (idle.empty()) return nullptr;
    auto conn = std::move(idle.back());
    idle.pop_back();
    return conn;
  }
  void ReturnIdle(std::unique_ptr<Connection> conn) {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(conn));
  }
  void DropIdle() {
    std::vector<std::unique_ptr<Connection>> dropped;
    std::lock_guard<std::mutex> lock(pool_mu);
    dropped.swap(idle);
  }

  // A connection on which `begin_sql` (which opens a transaction) succeeded. A pooled connection
  // that turns out broken is dropped, with the rest of the pool, and a fresh one tried.
  Result<std::unique_ptr<Connection>> Begin(const std::string& begin_sql, const std::string& what) {
    for (;;) {
      std::unique_ptr<Connection> conn = TakeIdle();
      const bool fresh = conn == nullptr;
      if (fresh) {
        MERIDIAN_ASSIGN_OR_RETURN(conn, Connection::Open(conninfo));
      }
      Status begun = conn->Exec(begin_sql, what);
      if (begun.ok()) return conn;
      if (conn->Broken()) {
        DropIdle();  // a server restart or failover broke all of them
        if (!fresh) continue;
        return begun;
      }
      // The server answered (e.g. the lock wait timed out); end the aborted transaction and keep
      // the connection.
      if (conn->last_sqlstate() == kLockNotAvailableSqlState) {
        begun = StorageError("storage: timed out waiting for the write lock; is a write transaction left open?");
      }
      if (conn->Exec("ROLLBACK", "roll back").ok()) ReturnIdle(std::move(conn));
      return begun;
    }
  }
};

class PostgresTransaction final : public Transaction {
 public:
  PostgresTransaction(std::shared_ptr<Shared> shared, std::unique_ptr<Connection> conn, bool write)
      : shared_(std::move(shared)), conn_(std::move(conn)), write_(write) {}

  ~PostgresTransaction() override {
    if (conn_ == nullptr) return;
    bool healthy = state_ == State::kFinished || End("ROLLBACK").ok();
    if (healthy && !conn_->Broken() && !conn_->InTransaction()) shared_->ReturnIdle(std::move(conn_));
  }

  Result<std::optional<std::string>> Get(std::string_view table, std::string_view key) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/false));
    MERIDIAN_ASSIGN_OR_RETURN(PgResult result, Run("SELECT v FROM " + Quoted(table) + " WHERE k = $1",
                                                   {Param::Binary(key)}, "get from " + std::string(table)));
    if (PQntuples(result.get()) == 0) return std::optional<std::string>();
    return std::optional<std::string>(Bytes(result.get(), 0, 0));
  }

  Status Put(std::string_view table, std::string_view key, std::string_view value) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/true));
    MERIDIAN_RETURN_IF_ERROR(
        Run("INSERT INTO " + Quoted(table) + " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            {Param::Binary(key), Param::Binary(value)}, "put into " + std::string(table))
            .status());
    changes_.Add(table, key);
    return Status::Ok();
  }

  Status Insert(std::string_view table, std::string_view key, std::string_view value) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/true));
    MERIDIAN_ASSIGN_OR_RETURN(PgResult result,
                              Run("INSERT INTO " + Quoted(table) + " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING",
                                  {Param::Binary(key), Param::Binary(value)}, "insert into " + std::string(table)));
    if (RowsChanged(result) == 0) {
      return Status("ConflictException", "key '" + std::string(key) + "' already exists in " + std::string(table));
    }
    changes_.Add(table, key);
    return Status::Ok();
  }

  Status Delete(std::string_view table, std::string_view key, bool* existed) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/true));
    MERIDIAN_ASSIGN_OR_RETURN(PgResult result, Run("DELETE FROM " + Quoted(table) + " WHERE k = $1",
                                                   {Param::Binary(key)}, "delete from " + std::string(table)));
    if (RowsChanged(result) > 0) changes_.Add(table, key);
    if (existed != nullptr) *existed = RowsChanged(result) > 0;
    return Status::Ok();
  }

  Result<std::vector<Row>> Scan(std::string_view table, std::string_view prefix, std::string_view start_after,
                                size_t limit) override {
    MERIDIAN_RETURN_IF_ERROR(CheckUsable(table, /*write=*/false));
    // Keys in [prefix, successor), and past start_after when that lies beyond the prefix.
    bool after = !start_after.empty() && start_after >= prefix;
    std::optional<std::string> end = internal::PrefixSuccessor(prefix);
    std::string sql = "SELECT k, v FROM " + Quoted(table) + (after ? " WHERE k > $1" : " WHERE k >= $1") +
                      (end ? " AND k < $2" : " AND $2::bytea IS NULL") + " ORDER BY k LIMIT $3::bigint";
    bool unlimited = limit == 0 || limit > static_cast<size_t>(std::numeric_limits<int64_t>::max());
    std::string limit_text = std::to_string(limit);
    MERIDIAN_ASSIGN_OR_RETURN(
        PgResult result,
        Run(sql,
            {Param::Binary(after ? start_after : prefix), end ? Param::Binary(*end) : Param::Null(),
             unlimited ? Param::Null() : Param::Text(limit_text)},
            "scan of " + std::string(table)));
    std::vector<Row> rows;
    const int count = PQntuples(result.get());
    rows.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) rows.push_back(Row{Bytes(result.get(), i, 0), Bytes(result.get(), i, 1)});
    return rows;
  }

  Status Commit() override {
    if (state_ == State::kFinished) return StorageError("storage: Commit on a finished transaction");
    if (state_ == State::kFailed) {
      Status rolled_back = End("ROLLBACK");
      if (!rolled_back.ok()) return rolled_back;
      return StorageError("storage: transaction not committed: an earlier operation in it failed");
    }
    // The rows written are announced by NOTIFYs sent with the COMMIT (delivered only if it commits).
    std::string sql;
    for (const std::string& payload : changes_.Encode()) {
      sql += "SELECT pg_notify('" + shared_->channel + "', '" + payload + "'); ";  // both [a-z0-9_ *\n]
    }
    changes_.clear();
    return End(sql + "COMMIT");
  }

 private:
  enum class State { kOpen, kFailed, kFinished };

  Status CheckUsable(std::string_view table, bool write) const {
    if (state_ == State::kFinished) return StorageError("storage: use of a finished transaction");
    if (state_ == State::kFailed) {
      return StorageError("storage: transaction aborted by an earlier error; it can only be destroyed");
    }
    if (write && !write_) return StorageError("storage: write in a read-only transaction");
    if (!shared_->tables.contains(table)) {
      return StorageError("storage: unknown table '" + std::string(table) + "' (not declared in storage/schema.h)");
    }
    return Status::Ok();
  }

  // Any failure aborts a PostgreSQL transaction, so none continues past it.
  Result<PgResult> Run(const std::string& sql, std::initializer_list<Param> params, const std::string& what) {
    auto result = conn_->Run(sql, params, what);
    if (!result.ok()) state_ = State::kFailed;
    return result;
  }

  static int64_t RowsChanged(const PgResult& result) {
    const char* count = PQcmdTuples(result.get());
    return count == nullptr || *count == '\0' ? 0 : std::stoll(count);
  }

  // Runs COMMIT or ROLLBACK. The transaction is finished once it has run, successfully or not: a
  // failed COMMIT leaves nothing to roll back, and a failed ROLLBACK means the connection is gone,
  // which ends the transaction on the server.
  Status End(const std::string& sql) {
    state_ = State::kFinished;
    const bool commit = sql != "ROLLBACK";
    MERIDIAN_ASSIGN_OR_RETURN(std::string tag, conn_->Command(sql, commit ? "commit" : "roll back"));
    // COMMIT of a transaction the server had aborted answers "ROLLBACK" without an error.
    if (commit && tag != "COMMIT") return StorageError("storage: transaction was rolled back by the server");
    return Status::Ok();
  }

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Connection> conn_;
  const bool write_;
  State state_ = State::kOpen;
  internal::ChangeSet changes_;  // rows written, announced with the COMMIT
};

class ListenerLeadership final : public Leadership {
 public:
  explicit ListenerLeadership(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  bool IsLeader() override {
    internal::PostgresListener& listener = shared_->Listener();
    if (!campaigning_.exchange(true)) listener.Campaign();
    return listener.IsLeader();
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::atomic<bool> campaigning_{false};
};

class PostgresStorage final : public Storage {
 public:
  explicit PostgresStorage(std::shared_ptr<Shared> shared) : shared_(std::move(shared)), leadership_(shared_) {}
  // Stops the listener (closing its session gives up leadership at once); transactions that
  // outlive the Storage still commit and announce.
  ~PostgresStorage() override {
    std::lock_guard<std::mutex> lock(shared_->listener_mu);
    if (shared_->listener != nullptr) shared_->listener->Stop();
  }

  Result<std::unique_ptr<Transaction>> BeginRead() override {
    // The first SELECT takes the snapshot, so it is the database as of BeginRead.
    MERIDIAN_ASSIGN_OR_RETURN(auto conn,
                              shared_->Begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1", "begin a read"));
    return std::unique_ptr<Transaction>(std::make_unique<PostgresTransaction>(shared_, std::move(conn), false));
  }

  Result<std::unique_ptr<Transaction>> BeginWrite() override {
    // READ WRITE: on a read-only server (a standby the conninfo named without
    // target_session_attrs=read-write) the error comes here, not at the first write.
    MERIDIAN_ASSIGN_OR_RETURN(auto conn, shared_->Begin("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; " +
                                                            shared_->lock_writers_sql,
                                                        "begin a write"));
    return std::unique_ptr<Transaction>(std::make_unique<PostgresTransaction>(shared_, std::move(conn), true));
  }

  int SchemaVersion() const override { return shared_->version; }
  ChangeFeed* change_feed() override { return shared_->changes.get(); }
  Leadership* leadership() override { return &leadership_; }

 private:
  std::shared_ptr<Shared> shared_;
  ListenerLeadership leadership_;
};

// FNV-1a of a fixed label and the schema name: advisory lock keys and channel names per schema,
// so regions kept in different schemas of one database do not wait for (or hear) each other.
uint64_t SchemaHash(std::string_view label, std::string_view schema) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : std::string(label) + "/" + std::string(schema)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}
int64_t WriterLockKey(std::string_view schema) {
  return static_cast<int64_t>(SchemaHash("meridian.storage.writers", schema));
}
int64_t LeaderLockKey(std::string_view schema) {
  return static_cast<int64_t>(SchemaHash("meridian.storage.leader", schema));
}
std::string ChannelName(std::string_view schema) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hash = SchemaHash("meridian.storage.changes", schema);
  std::string name = "meridian_changes_";
  for (int shift = 60; shift >= 0; shift -= 4) name.push_back(kHex[(hash >> shift) & 0xf]);
  return name;
}

// The body of Migrate, inside its transaction (which holds the writers' lock).
Result<int> ApplyMigrations(Connection& conn, std::span<const Migration> migrations, const std::string& where) {
  MERIDIAN_RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS " + std::string(kVersionTable) +
                                         " (id integer PRIMARY KEY CHECK (id = 0), version bigint NOT NULL)",
                                     "create the schema version table"));
  MERIDIAN_ASSIGN_OR_RETURN(PgResult found, conn.Run("SELECT version::text FROM " + std::string(kVersionTable) +
                                                         " WHERE id = 0",
                                                     {}, "read the schema version", /*binary_results=*/false));
  long long version = PQntuples(found.get()) == 0 ? 0 : std::stoll(PQgetvalue(found.get(), 0, 0));
  const int latest = internal::LatestVersion(migrations);
  if (version > latest || version < 0) return internal::UnusableVersionError(where, version, latest);
  if (version == latest) return latest;

  for (const Migration& step : migrations) {
    if (step.version <= version) continue;
    for (std::string_view table : step.creates) {
      MERIDIAN_RETURN_IF_ERROR(conn.Exec("CREATE TABLE " + Quoted(table) + " (k bytea PRIMARY KEY, v bytea NOT NULL)",
                                         "create table " + std::string(table)));
    }
  }
  std::string latest_text = std::to_string(latest);
  MERIDIAN_RETURN_IF_ERROR(conn.Run("INSERT INTO " + std::string(kVersionTable) +
                                        " (id, version) VALUES (0, $1::bigint)"
                                        " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                                    {Param::Text(latest_text)}, "record the schema version")
                               .status());
  return latest;
}

// Brings the database to the last version of `migrations`, all steps in one transaction holding
// the writers' lock, and returns that version. Refuses a database newer than the list.
Result<int> Migrate(Connection& conn, const Shared& shared, std::span<const Migration> migrations,
                    const std::string& where) {
  MERIDIAN_RETURN_IF_ERROR(conn.Exec("BEGIN; " + shared.lock_writers_sql, "begin the migration"));
  Result<int> version = ApplyMigrations(conn, migrations, where);
  Status committed = version.ok() ? conn.Exec("COMMIT", "commit the migration") : version.status();
  if (!committed.ok()) {
    if (conn.InTransaction()) conn.Exec("ROLLBACK", "roll back the migration");
    return committed;
  }
  return version;
}

}  // namespace

Result<std::unique_ptr<Storage>> OpenPostgresWithMigrations(const std::string& conninfo,
                                                            std::span<const Migration> migrations) {
  if (PQisthreadsafe() == 0) return StorageError("storage: the libpq library was built without thread support");
  auto shared = std::make_shared<Shared>();
  shared->conninfo = conninfo;
  MERIDIAN_ASSIGN_OR_RETURN(shared->tables, internal::DeclaredTables(migrations));
  MERIDIAN_ASSIGN_OR_RETURN(auto conn, Connection::Open(conninfo));
  MERIDIAN_ASSIGN_OR_RETURN(PgResult schema, conn->Run("SELECT current_schema()::text", {}, "find the current schema",
                                                       /*binary_results=*/false));
  if (PQntuples(schema.get()) != 1 || PQgetisnull(schema.get(), 0, 0)) {
    return StorageError("storage: the PostgreSQL session has no schema to create tables in (check search_path)");
  }
  const std::string schema_name = PQgetvalue(schema.get(), 0, 0);
  shared->lock_writers_sql = "SELECT pg_advisory_xact_lock(" + std::to_string(WriterLockKey(schema_name)) + ")";
  shared->channel = ChannelName(schema_name);
  shared->leader_lock_key = LeaderLockKey(schema_name);
  MERIDIAN_ASSIGN_OR_RETURN(shared->version, Migrate(*conn, *shared, migrations, "PostgreSQL schema " + schema_name));
  shared->ReturnIdle(std::move(conn));
  return std::unique_ptr<Storage>(std::make_unique<PostgresStorage>(std::move(shared)));
}

Result<std::unique_ptr<Storage>> OpenPostgres(const std::string& conninfo) {
  return OpenPostgresWithMigrations(conninfo, kMigrations);
}

}  // namespace meridian::storage
