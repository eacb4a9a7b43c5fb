#include "storage/storage.h"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "storage/change_hub.h"
#include "storage/postgres_cluster.h"
#include "storage/storage_copy.h"
#include "storage/storage_spec.h"

namespace meridian::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTable = tables::kMeta;

enum class Backend { kSqlite, kPostgres };

void PrintTo(Backend backend, std::ostream* out) { *out << (backend == Backend::kSqlite ? "sqlite" : "postgres"); }
std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return ::testing::PrintToString(info.param); }

// The PostgreSQL server the tests of this binary share: $MERIDIAN_TEST_POSTGRES (a superuser
// conninfo) if set, else a throwaway cluster started on first use and stopped at exit. Each test
// gets a schema of its own in it.
class TestPostgres {
 public:
  static TestPostgres& Get() {
    static TestPostgres instance;
    return instance;
  }

  bool available() const { return !conninfo_.empty(); }
  const std::string& why_not() const { return why_not_; }
  // The cluster this binary started (null when the server is external).
  LocalPostgres* cluster() { return cluster_.get(); }
  const std::string& conninfo() const { return conninfo_; }

  // A new, empty schema.
  std::string NewSchema() {
    std::string schema = "test_" + std::to_string(getpid()) + "_" + std::to_string(++schemas_);
    Status created = Execute("CREATE SCHEMA " + schema);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return schema;
  }
  // The server's conninfo, for sessions working in `schema`.
  std::string Conninfo(const std::string& schema) const { return conninfo_ + " options=-csearch_path=" + schema; }

  Status Execute(const std::string& sql) {
    if (cluster_ != nullptr) return cluster_->Execute(sql);
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    PGresult* result = PQexec(conn, sql.c_str());
    Status status = PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK
                        ? Status::Ok()
                        : Status("PostgresError", PQerrorMessage(conn));
    PQclear(result);
    PQfinish(conn);
    return status;
  }

 private:
  TestPostgres() {
    if (const char* external = std::getenv("MERIDIAN_TEST_POSTGRES"); external != nullptr && *external != '\0') {
      conninfo_ = external;
      return;
    }
    std::string tmpl = (fs::temp_directory_path() / "meridian-pg-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      why_not_ = "cannot create a temporary directory";
      return;
    }
    dir_ = tmpl;
    auto cluster = LocalPostgres::Start({.directory = dir_.string(), .port = 0, .fsync = false});
    if (!cluster.ok()) {
      why_not_ = cluster.status().message();
      return;
    }
    cluster_ = std::move(cluster).value();
    conninfo_ = cluster_->Conninfo();
  }
  ~TestPostgres() {
    cluster_.reset();  // stops the server
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<LocalPostgres> cluster_;
  std::string conninfo_;
  std::string why_not_;
  int schemas_ = 0;
};

// Per test: a fresh directory (SQLite) or a fresh schema (PostgreSQL), so the same tests run
// unchanged against both backends.
class StorageTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "meridian-storage-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "meridian.db").string();
    if (GetParam() == Backend::kPostgres) {
      if (!TestPostgres::Get().available()) {
        GTEST_SKIP() << "PostgreSQL tests skipped: no server (" << TestPostgres::Get().why_not()
                     << "); scripts/install-deps.sh installs one, or set MERIDIAN_TEST_POSTGRES to a conninfo";
      }
      schema_ = TestPostgres::Get().NewSchema();
      conninfo_ = TestPostgres::Get().Conninfo(schema_);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<std::unique_ptr<Storage>> OpenWith(std::span<const Migration> migrations) {
    return GetParam() == Backend::kSqlite ? OpenSqliteWithMigrations(path_, migrations)
                                          : OpenPostgresWithMigrations(conninfo_, migrations);
  }

  std::unique_ptr<Storage> Open() {
    auto storage = OpenWith(kMigrations);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  fs::path dir_;
  std::string path_;      // SQLite
  std::string schema_;    // PostgreSQL
  std::string conninfo_;  // PostgreSQL
};

// Tests of SQLite's files, and of PostgreSQL's server and connections.
class SqliteStorageTest : public StorageTest {};
class PostgresStorageTest : public StorageTest {};

std::unique_ptr<Transaction> Write(Storage& storage) {
  auto txn = storage.BeginWrite();
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  return std::move(txn).value();
}

std::unique_ptr<Transaction> Read(Storage& storage) {
  auto txn = storage.BeginRead();
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  return std::move(txn).value();
}

std::optional<std::string> GetOrDie(Transaction& txn, std::string_view table, std::string_view key) {
  auto value = txn.Get(table, key);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : std::nullopt;
}

std::vector<std::string> Keys(const Result<std::vector<Row>>& rows) {
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> keys;
  if (rows.ok()) {
    for (const Row& row : *rows) keys.push_back(row.key);
  }
  return keys;
}

TEST_P(StorageTest, FreshDatabaseIsAtCurrentVersion) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->SchemaVersion(), kCurrentSchemaVersion);
}

TEST_P(StorageTest, PutGetDelete) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto txn = Write(*storage);
  EXPECT_EQ(GetOrDie(*txn, kTable, "a"), std::nullopt);
  ASSERT_TRUE(txn->Put(kTable, "a", "one").ok());
  EXPECT_EQ(GetOrDie(*txn, kTable, "a"), "one");  // a transaction sees its own writes
  ASSERT_TRUE(txn->Put(kTable, "a", "two").ok());  // replaces
  ASSERT_TRUE(txn->Put(tables::kAccounts, "a", "other table").ok());
  ASSERT_TRUE(txn->Commit().ok());

  txn = Write(*storage);
  EXPECT_EQ(GetOrDie(*txn, kTable, "a"), "two");
  EXPECT_EQ(GetOrDie(*txn, tables::kAccounts, "a"), "other table");
  bool existed = false;
  ASSERT_TRUE(txn->Delete(kTable, "a", &existed).ok());
  EXPECT_TRUE(existed);
  ASSERT_TRUE(txn->Delete(kTable, "a", &existed).ok());
  EXPECT_FALSE(existed);
  ASSERT_TRUE(txn->Delete(kTable, "never").ok());
  ASSERT_TRUE(txn->Commit().ok());

  auto reader = Read(*storage);
  EXPECT_EQ(GetOrDie(*reader, kTable, "a"), std::nullopt);
  EXPECT_EQ(GetOrDie(*reader, tables::kAccounts, "a"), "other table");
}

TEST_P(StorageTest, BinaryKeysAndValuesRoundTrip) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  const std::string key("k\0\xff\x80%_", 7);
  const std::string value("\0\x01\xfe\xff\0", 5);
  auto txn = Write(*storage);
  ASSERT_TRUE(txn->Put(kTable, key, value).ok());
  ASSERT_TRUE(txn->Put(kTable, "", "empty key").ok());
  ASSERT_TRUE(txn->Put(kTable, "empty value", "").ok());
  ASSERT_TRUE(txn->Put(kTable, std::string_view(), std::string_view()).ok());  // null data pointers
  ASSERT_TRUE(txn->Commit().ok());

  auto reader = Read(*storage);
  EXPECT_EQ(GetOrDie(*reader, kTable, key), value);
  EXPECT_EQ(GetOrDie(*reader, kTable, std::string_view("k\0", 2)), std::nullopt);
  EXPECT_EQ(GetOrDie(*reader, kTable, ""), "");  // the second Put replaced it
  EXPECT_EQ(GetOrDie(*reader, kTable, "empty value"), "");
}

TEST_P(StorageTest, InsertConflictsOnExistingKey) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto txn = Write(*storage);
  ASSERT_TRUE(txn->Insert(kTable, "k", "first").ok());
  Status again = txn->Insert(kTable, "k", "second");
  EXPECT_EQ(again.type(), "ConflictException") << again.ToString();
  // A conflict is an answer, not a failure: the transaction goes on.
  ASSERT_TRUE(txn->Insert(kTable, "k2", "x").ok());
  ASSERT_TRUE(txn->Commit().ok());

  txn = Write(*storage);
  EXPECT_EQ(txn->Insert(kTable, "k", "third").type(), "ConflictException");
  EXPECT_EQ(GetOrDie(*txn, kTable, "k"), "first");
  EXPECT_EQ(GetOrDie(*txn, kTable, "k2"), "x");
}

TEST_P(StorageTest, UndeclaredTablesAreRejected) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto txn = Write(*storage);
  for (std::string_view table : {"nope", "schema_version", "sqlite_schema", "meta\"; DROP TABLE meta; --", ""}) {
    EXPECT_EQ(txn->Put(table, "k", "v").type(), "StorageException") << table;
    EXPECT_FALSE(txn->Get(table, "k").ok()) << table;
    EXPECT_FALSE(txn->Scan(table, "").ok()) << table;
  }
  // Rejecting a name touches no SQL, so the transaction is still usable.
  ASSERT_TRUE(txn->Put(kTable, "k", "v").ok());
  ASSERT_TRUE(txn->Commit().ok());
}

TEST_P(StorageTest, ScanPrefixesAndPaging) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto txn = Write(*storage);
  for (std::string_view key : {"alias/a", "alias/b", "alias/c", "alias0", "alia", "b", "alias/%", "alias/_x"}) {
    ASSERT_TRUE(txn->Put(kTable, key, std::string("v:") + std::string(key)).ok());
  }
  ASSERT_TRUE(txn->Commit().ok());

  auto reader = Read(*storage);
  using V = std::vector<std::string>;
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/")), (V{"alias/%", "alias/_x", "alias/a", "alias/b", "alias/c"}));
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/%")), (V{"alias/%"}));  // no LIKE wildcards
  EXPECT_EQ(Keys(reader->Scan(kTable, "")).size(), 8u);
  EXPECT_EQ(Keys(reader->Scan(kTable, "zzz")), V{});
  // Paging: each page starts after the last key of the previous one.
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/", "", 2)), (V{"alias/%", "alias/_x"}));
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/", "alias/_x", 2)), (V{"alias/a", "alias/b"}));
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/", "alias/b", 2)), (V{"alias/c"}));
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/", "alias/c", 2)), V{});
  // start_after outside the prefix range: before it (ignored) and beyond it (nothing).
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/", "a", 1)), (V{"alias/%"}));
  EXPECT_EQ(Keys(reader->Scan(kTable, "alias/", "alias0")), V{});
  auto rows = reader->Scan(kTable, "b");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].value, "v:b");
}

// Scan against a std::map model, over keys made of the bytes that trip up naive prefix
// handling: NUL, 0x7f/0x80 (signedness), 0xff (no successor), and LIKE wildcards.
TEST_P(StorageTest, ScanMatchesModelForAnyBytes) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  const std::string alphabet("\x00" "a%_\x7f\x80\xff", 7);
  std::mt19937 rng(42);
  auto random_string = [&](size_t max_len) {
    std::string s(rng() % (max_len + 1), '\0');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  std::map<std::string, std::string> model;
  auto txn = Write(*storage);
  for (int i = 0; i < 400; ++i) {
    std::string key = random_string(4);
    model[key] = std::to_string(i);
    ASSERT_TRUE(txn->Put(kTable, key, model[key]).ok());
  }
  ASSERT_TRUE(txn->Commit().ok());

  std::vector<std::string> prefixes = {""};
  for (char a : alphabet) {
    prefixes.push_back(std::string(1, a));
    for (char b : alphabet) prefixes.push_back(std::string{a, b});
  }
  auto reader = Read(*storage);
  for (const std::string& prefix : prefixes) {
    for (int trial = 0; trial < 6; ++trial) {
      std::string start_after = trial == 0 ? "" : random_string(3);
      size_t limit = trial % 2 == 0 ? 0 : 1 + rng() % 5;
      std::vector<Row> expected;  // brute force over the model
      for (const auto& [key, value] : model) {
        if (!start_after.empty() && key <= start_after) continue;
        if (!key.starts_with(prefix)) continue;
        expected.push_back(Row{key, value});
        if (limit != 0 && expected.size() == limit) break;
      }
      auto rows = reader->Scan(kTable, prefix, start_after, limit);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      ASSERT_EQ(rows->size(), expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ((*rows)[i].key, expected[i].key);
        EXPECT_EQ((*rows)[i].value, expected[i].value);
      }
    }
  }
}

TEST_P(StorageTest, TransactionDestroyedWithoutCommitRollsBack) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  {
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(kTable, "keep", "1").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  {
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(kTable, "lost", "1").ok());
    ASSERT_TRUE(txn->Delete(kTable, "keep").ok());
  }  // destroyed without Commit
  auto reader = Read(*storage);
  EXPECT_EQ(GetOrDie(*reader, kTable, "lost"), std::nullopt);
  EXPECT_EQ(GetOrDie(*reader, kTable, "keep"), "1");
  // The write connection is free again.
  auto txn = Write(*storage);
  EXPECT_EQ(GetOrDie(*txn, kTable, "lost"), std::nullopt);
}

TEST_P(StorageTest, FinishedTransactionRefusesFurtherUse) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto txn = Write(*storage);
  ASSERT_TRUE(txn->Put(kTable, "k", "v").ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(txn->Put(kTable, "k2", "v").type(), "StorageException");
  EXPECT_FALSE(txn->Get(kTable, "k").ok());
  EXPECT_FALSE(txn->Commit().ok());
  txn.reset();
  auto reader = Read(*storage);
  EXPECT_EQ(GetOrDie(*reader, kTable, "k2"), std::nullopt);
}

TEST_P(StorageTest, SecondWriteTransactionOnOneThreadIsAnErrorNotADeadlock) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto first = Write(*storage);
  ASSERT_TRUE(first->Put(kTable, "k", "v").ok());
  auto second = storage->BeginWrite();  // waits for the bounded timeout, then gives up
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().type(), "StorageException");
  EXPECT_NE(second.status().message().find("timed out"), std::string::npos) << second.status().ToString();
  ASSERT_TRUE(first->Commit().ok());
  auto third = Write(*storage);  // Commit let the next writer in
  EXPECT_EQ(GetOrDie(*third, kTable, "k"), "v");
}

TEST_P(StorageTest, ReadTransactionRefusesWrites) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto reader = Read(*storage);
  EXPECT_EQ(reader->Put(kTable, "k", "v").type(), "StorageException");
  EXPECT_EQ(reader->Insert(kTable, "k", "v").type(), "StorageException");
  EXPECT_EQ(reader->Delete(kTable, "k").type(), "StorageException");
  EXPECT_TRUE(reader->Commit().ok());
  auto check = Read(*storage);
  EXPECT_EQ(GetOrDie(*check, kTable, "k"), std::nullopt);
}

TEST_P(StorageTest, TransactionMayOutliveStorage) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto txn = Write(*storage);
  storage.reset();
  ASSERT_TRUE(txn->Put(kTable, "k", "v").ok());
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  storage = Open();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(GetOrDie(*Read(*storage), kTable, "k"), "v");
}

TEST_P(StorageTest, ReadTransactionSeesSnapshotFromItsBeginning) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  {
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(kTable, "counter", "0").ok());
    ASSERT_TRUE(txn->Put(kTable, "row/1", "x").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto before = Read(*storage);  // reads nothing yet: the snapshot must still be pinned here
  auto before_after_read = Read(*storage);
  EXPECT_EQ(GetOrDie(*before_after_read, kTable, "counter"), "0");

  // The writer commits from another thread while both readers stay open.
  std::thread writer([&] {
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(kTable, "counter", "1").ok());
    ASSERT_TRUE(txn->Put(kTable, "row/2", "y").ok());
    ASSERT_TRUE(txn->Delete(kTable, "row/1").ok());
    ASSERT_TRUE(txn->Commit().ok());
  });
  writer.join();

  for (Transaction* reader : {before.get(), before_after_read.get()}) {
    EXPECT_EQ(GetOrDie(*reader, kTable, "counter"), "0");
    EXPECT_EQ(Keys(reader->Scan(kTable, "row/")), std::vector<std::string>{"row/1"});
  }
  auto after = Read(*storage);
  EXPECT_EQ(GetOrDie(*after, kTable, "counter"), "1");
  EXPECT_EQ(Keys(after->Scan(kTable, "row/")), std::vector<std::string>{"row/2"});
}

// Writers on several threads, through two Storage handles on the same file (as two processes
// would be), each incrementing a counter: serialized writers lose no update. Readers running at
// the same time see the counter only grow.
TEST_P(StorageTest, ConcurrentWritersLoseNoUpdate) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::atomic<int> failures = 0;
  std::atomic<bool> writing = true;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Storage& storage = t % 2 == 0 ? *first : *second;
    threads.emplace_back([&storage, &failures] {
      for (int i = 0; i < kIncrements; ++i) {
        auto txn = storage.BeginWrite();
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        auto value = (*txn)->Get(kTable, "counter");
        int counter = value.ok() && value->has_value() ? std::stoi(**value) : 0;
        if (!value.ok() || !(*txn)->Put(kTable, "counter", std::to_string(counter + 1)).ok() ||
            !(*txn)->Commit().ok()) {
          ++failures;
        }
      }
    });
  }
  std::thread reader([&] {
    int last = 0;
    while (writing) {
      auto txn = second->BeginRead();
      if (!txn.ok()) {
        ++failures;
        continue;
      }
      auto value = (*txn)->Get(kTable, "counter");
      int counter = value.ok() && value->has_value() ? std::stoi(**value) : 0;
      if (!value.ok() || counter < last) ++failures;
      last = counter;
    }
  });
  for (auto& thread : threads) thread.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failures, 0);
  EXPECT_EQ(GetOrDie(*Read(*first), kTable, "counter"), std::to_string(kThreads * kIncrements));
}

TEST_P(StorageTest, DataPersistsAcrossReopen) {
  {
    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(tables::kKeys, "key-1", "metadata").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(GetOrDie(*Read(*storage), tables::kKeys, "key-1"), "metadata");
}

constexpr std::string_view kWidgetTables[] = {"widgets"};
constexpr int kNextVersion = kCurrentSchemaVersion + 1;
// schema.h's list extended by one step that adds the "widgets" table.
constexpr auto kNextMigrations = [] {
  std::array<Migration, std::size(kMigrations) + 1> next{};
  for (size_t i = 0; i < std::size(kMigrations); ++i) next[i] = kMigrations[i];
  next.back() = {kNextVersion, kWidgetTables};
  return next;
}();

TEST_P(StorageTest, OpeningAnOlderDatabaseMigratesItAndKeepsData) {
  {
    auto old = Open();  // a database written by this build, at kCurrentSchemaVersion
    ASSERT_NE(old, nullptr);
    auto txn = Write(*old);
    ASSERT_TRUE(txn->Put(tables::kAliases, "alias/x", "key-1").ok());
    ASSERT_TRUE(txn->Commit().ok());
    // This build does not know the table the next version adds.
    EXPECT_EQ(Write(*old)->Put("widgets", "w", "1").type(), "StorageException");
  }
  auto upgraded = OpenWith(kNextMigrations);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ((*upgraded)->SchemaVersion(), kNextVersion);
  auto txn = Write(**upgraded);
  EXPECT_EQ(GetOrDie(*txn, tables::kAliases, "alias/x"), "key-1");
  ASSERT_TRUE(txn->Put("widgets", "w", "1").ok());
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  upgraded = Status("x", "close");  // reopening at the next version again applies nothing
  upgraded = OpenWith(kNextMigrations);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ(GetOrDie(*Read(**upgraded), "widgets", "w"), "1");
}

// A database made by a build that knew only the first step, opened by this build.
TEST_P(StorageTest, OpeningAVersion1DatabaseMigratesItToCurrent) {
  {
    auto v1 = OpenWith(std::span(kMigrations).first(1));
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    EXPECT_EQ((*v1)->SchemaVersion(), 1);
    auto txn = Write(**v1);
    ASSERT_TRUE(txn->Put(tables::kKeys, "key-1", "metadata").ok());
    for (const Migration& later : std::span(kMigrations).subspan(1)) {
      for (std::string_view table : later.creates) EXPECT_FALSE(txn->Put(table, "k", "v").ok()) << table;
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->SchemaVersion(), kCurrentSchemaVersion);
  auto txn = Write(*storage);
  EXPECT_EQ(GetOrDie(*txn, tables::kKeys, "key-1"), "metadata");
  for (const Migration& step : kMigrations) {
    for (std::string_view table : step.creates) EXPECT_TRUE(txn->Put(table, "k", "v").ok()) << table;
  }
  ASSERT_TRUE(txn->Commit().ok());
}

TEST_P(StorageTest, NewerDatabaseIsRefused) {
  {
    auto future = OpenWith(kNextMigrations);
    ASSERT_TRUE(future.ok()) << future.status().ToString();
  }
  auto storage = OpenWith(kMigrations);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().type(), "StorageException");
  EXPECT_NE(storage.status().message().find("schema version " + std::to_string(kNextVersion)), std::string::npos) << storage.status().ToString();
  EXPECT_NE(storage.status().message().find("newer"), std::string::npos) << storage.status().ToString();
}

TEST_P(SqliteStorageTest, MalformedMigrationListsAreRejected) {
  static constexpr std::string_view kBadName[] = {"bad name"};
  static constexpr std::string_view kReserved[] = {"schema_version"};
  static constexpr Migration kGap[] = {kMigrations[0], {3, kWidgetTables}};
  static constexpr Migration kTwice[] = {kMigrations[0], {2, kV1Tables}};
  static constexpr Migration kInvalid[] = {{1, kBadName}};
  static constexpr Migration kReservedName[] = {{1, kReserved}};
  for (std::span<const Migration> list : {std::span<const Migration>(kGap), std::span<const Migration>(kTwice),
                                          std::span<const Migration>(kInvalid), std::span<const Migration>(kReservedName)}) {
    auto storage = OpenWith(list);
    EXPECT_FALSE(storage.ok());
  }
  EXPECT_FALSE(fs::exists(path_));  // rejected before touching the disk
}

TEST_P(SqliteStorageTest, GarbageFileIsAnErrorNotACrash) {
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 1000; ++i) out << "this is not a database ";
  }
  auto storage = OpenSqlite(path_);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().type(), "StorageException");
  EXPECT_NE(storage.status().message().find("not a database"), std::string::npos) << storage.status().ToString();
}

TEST_P(SqliteStorageTest, CorruptedPagesAreAnErrorNotACrash) {
  {
    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    auto txn = Write(*storage);
    for (int i = 0; i < 4000; ++i) {
      ASSERT_TRUE(txn->Put(kTable, "row/" + std::to_string(i), std::string(100, 'v')).ok());
    }
    ASSERT_TRUE(txn->Commit().ok());
  }  // closing the last connection checkpoints the WAL into the file
  ASSERT_FALSE(fs::exists(path_ + "-wal"));
  // Scribble over the row pages. The first 32 pages (header, schema, every table's root page,
  // all created before any row) stay intact, so opening works and reading rows finds the damage.
  constexpr size_t kKeep = 32 * 4096;
  const auto size = fs::file_size(path_);
  ASSERT_GT(size, 2 * kKeep);
  {
    std::fstream file(path_, std::ios::binary | std::ios::in | std::ios::out);
    std::mt19937 rng(7);
    file.seekp(kKeep);
    for (auto i = kKeep; i < size; ++i) file.put(static_cast<char>(rng()));
  }
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  auto reader = Read(*storage);
  auto rows = reader->Scan(kTable, "row/");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().type(), "StorageException");
  EXPECT_NE(rows.status().message().find("malformed"), std::string::npos) << rows.status().ToString();
  // The failed read aborted the transaction; a new one reports the damage again.
  EXPECT_FALSE(reader->Get(kTable, "row/1").ok());
  reader = Read(*storage);
  auto damaged = Write(*storage);
  EXPECT_FALSE(damaged->Scan(kTable, "").ok());
}

TEST_P(SqliteStorageTest, UnopenablePathIsAnError) {
  auto storage = OpenSqlite((dir_ / "no-such-dir" / "x.db").string());
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().type(), "StorageException");
  EXPECT_NE(storage.status().message().find("no-such-dir"), std::string::npos) << storage.status().ToString();
}

// Reads one acknowledged index from the pipe; false at end of stream.
bool ReadAck(int fd, int* index) {
  char* out = reinterpret_cast<char*>(index);
  size_t got = 0;
  while (got < sizeof(*index)) {
    ssize_t n = read(fd, out + got, sizeof(*index) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

std::string RowKey(int index) {
  char key[32];
  std::snprintf(key, sizeof(key), "row/%08d", index);
  return key;
}

// The child: commits transactions first..forever, each writing its row and "last", and
// acknowledges each index on `fd` once Commit has returned OK. Never returns.
[[noreturn]] void CommitForever(const std::function<Result<std::unique_ptr<Storage>>()>& open, int first, int fd) {
  auto storage = open();
  if (!storage.ok()) _exit(2);
  for (int i = first;; ++i) {
    auto txn = (*storage)->BeginWrite();
    if (!txn.ok()) _exit(3);
    if (!(*txn)->Put(kTable, RowKey(i), std::to_string(i)).ok() ||
        !(*txn)->Put(kTable, "last", std::to_string(i)).ok() || !(*txn)->Commit().ok()) {
      _exit(4);
    }
    if (write(fd, &i, sizeof(i)) != sizeof(i)) _exit(5);
  }
}

// A child process commits and acknowledges writes and is SIGKILLed mid-stream; every
// acknowledged write must be in the reopened database, and no transaction is half there.
TEST_P(StorageTest, AcknowledgedCommitsSurviveKill9) {
  int next = 0;
  for (int kill_after : {25, 60, 140}) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      CommitForever([this] { return OpenWith(kMigrations); }, next, fds[1]);
    }
    close(fds[1]);
    int acked = -1;
    int index;
    for (int received = 0; received < kill_after && ReadAck(fds[0], &index); ++received) acked = index;
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child exited early: " << wstatus;
    while (ReadAck(fds[0], &index)) acked = index;  // acks written before the kill
    close(fds[0]);
    ASSERT_GE(acked, next + kill_after - 1);

    auto storage = Open();
    ASSERT_NE(storage, nullptr);
    auto reader = Read(*storage);
    auto last_value = GetOrDie(*reader, kTable, "last");
    ASSERT_TRUE(last_value.has_value());
    int last = std::stoi(*last_value);
    EXPECT_GE(last, acked);  // at most the in-flight commit beyond the last ack
    EXPECT_LE(last, acked + 1);
    auto rows = reader->Scan(kTable, "row/");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), static_cast<size_t>(last + 1));  // rows 0..last, nothing beyond
    for (int i = 0; i <= last; ++i) {
      ASSERT_EQ((*rows)[i].key, RowKey(i));
      ASSERT_EQ((*rows)[i].value, std::to_string(i));
    }
    next = last + 1;
  }
}

// Every row of every table, into a SQLite store and back into a fresh store of this backend.
TEST_P(StorageTest, CopyStorageMovesEveryRowAndRefusesAFullDestination) {
  auto source = Open();
  ASSERT_NE(source, nullptr);
  std::map<std::string, std::map<std::string, std::string>> expected;  // table -> rows
  {
    auto txn = Write(*source);
    int n = 0;
    for (const Migration& step : kMigrations) {
      for (std::string_view table : step.creates) {
        for (int i = 0; i < (table == kTable ? 1100 : 3); ++i) {  // kTable spans several pages
          std::string key = "row/" + std::to_string(i) + std::string("\0\xff", 2);
          std::string value = std::string(table) + std::string("\0\x80", 2) + std::to_string(n++);
          ASSERT_TRUE(txn->Put(table, key, value).ok());
          expected[std::string(table)][key] = value;
        }
      }
    }
    ASSERT_TRUE(txn->Put(kTable, "", "empty key").ok());
    expected[std::string(kTable)][""] = "empty key";
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto middle = OpenSqlite((dir_ / "copy.db").string());
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  auto counts = CopyStorage(*source, **middle);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ((*counts)[std::string(kTable)], 1101u);
  EXPECT_EQ((*counts)[std::string(tables::kKmsGrants)], 3u);

  // Back into a fresh store of this backend.
  if (GetParam() == Backend::kSqlite) {
    path_ = (dir_ / "back.db").string();
  } else {
    schema_ = TestPostgres::Get().NewSchema();
    conninfo_ = TestPostgres::Get().Conninfo(schema_);
  }
  auto back = Open();
  ASSERT_NE(back, nullptr);
  ASSERT_TRUE(CopyStorage(**middle, *back).ok());
  auto reader = Read(*back);
  for (const auto& [table, rows] : expected) {
    auto scanned = reader->Scan(table, "");
    ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
    std::map<std::string, std::string> got;
    for (const Row& row : *scanned) got[row.key] = row.value;
    EXPECT_EQ(got, rows) << table;
  }
  auto again = CopyStorage(*source, **middle);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().type(), "FailedPreconditionException") << again.status().ToString();
  EXPECT_EQ(GetOrDie(*Read(**middle), kTable, ""), "empty key");  // nothing half-written
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StorageTest, ::testing::Values(Backend::kSqlite), BackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, StorageTest, ::testing::Values(Backend::kPostgres), BackendName);
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteStorageTest, ::testing::Values(Backend::kSqlite), BackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, PostgresStorageTest, ::testing::Values(Backend::kPostgres), BackendName);

// A loopback port where nothing listens (bound, never listening) while this object lives.
class DeadPort {
 public:
  DeadPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~DeadPort() {
    if (fd_ >= 0) close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Two frontends (Storage handles, as two processes would hold) move money between accounts and
// race to claim the same names, while readers on both check every snapshot. Serialized writers
// lose no update and double-grant no claim; every snapshot is consistent (the total never moves).
TEST_P(PostgresStorageTest, TwoFrontendsLoseNoUpdateAndReadersSeeConsistentSnapshots) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kAccounts = 8, kStart = 100, kThreads = 4, kTransfers = 40, kClaims = 30;
  {
    auto txn = Write(*first);
    for (int a = 0; a < kAccounts; ++a) ASSERT_TRUE(txn->Put(kTable, "acct/" + std::to_string(a), std::to_string(kStart)).ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  std::atomic<int> failures = 0, claims_won = 0, snapshots = 0;
  std::atomic<bool> writing = true;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Storage& storage = t % 2 == 0 ? *first : *second;
    threads.emplace_back([&storage, &failures, &claims_won, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kTransfers; ++i) {
        auto txn = storage.BeginWrite();
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        std::string from = "acct/" + std::to_string(rng() % kAccounts), to = "acct/" + std::to_string(rng() % kAccounts);
        auto a = (*txn)->Get(kTable, from);
        auto b = (*txn)->Get(kTable, to);
        auto n = (*txn)->Get(kTable, "transfers");
        if (!a.ok() || !b.ok() || !n.ok() || !a->has_value() || !b->has_value()) {
          ++failures;
          continue;
        }
        int amount = std::min<int>(std::stoi(**a), 1 + static_cast<int>(rng() % 20));
        int count = n->has_value() ? std::stoi(**n) : 0;
        if (from != to) {
          if (!(*txn)->Put(kTable, from, std::to_string(std::stoi(**a) - amount)).ok() ||
              !(*txn)->Put(kTable, to, std::to_string(std::stoi(**b) + amount)).ok()) {
            ++failures;
          }
        }
        if (!(*txn)->Put(kTable, "transfers", std::to_string(count + 1)).ok() || !(*txn)->Commit().ok()) ++failures;
      }
      for (int c = 0; c < kClaims; ++c) {  // every thread tries every claim; one may win each
        auto txn = storage.BeginWrite();
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        Status inserted = (*txn)->Insert(kTable, "claim/" + std::to_string(c), std::to_string(t));
        if (inserted.ok()) {
          if ((*txn)->Commit().ok()) ++claims_won; else ++failures;
        } else if (inserted.type() != "ConflictException") {
          ++failures;
        }
      }
    });
  }
  std::vector<std::thread> readers;
  for (Storage* storage : {first.get(), second.get()}) {
    readers.emplace_back([storage, &failures, &writing, &snapshots] {
      while (writing) {
        auto txn = storage->BeginRead();
        if (!txn.ok()) {
          ++failures;
          continue;
        }
        auto rows = (*txn)->Scan(kTable, "acct/");
        int total = 0;
        if (rows.ok()) {
          for (const Row& row : *rows) total += std::stoi(row.value);
        }
        auto again = (*txn)->Scan(kTable, "acct/");  // the same snapshot, later
        if (!rows.ok() || !again.ok() || total != kAccounts * kStart || rows->size() != again->size()) ++failures;
        for (size_t i = 0; rows.ok() && again.ok() && i < rows->size() && i < again->size(); ++i) {
          if ((*rows)[i].value != (*again)[i].value) ++failures;
        }
        ++snapshots;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  writing = false;
  for (auto& reader : readers) reader.join();

  EXPECT_EQ(failures, 0);
  EXPECT_GT(snapshots, 0);
  EXPECT_EQ(claims_won, kClaims);
  auto reader = Read(*second);
  EXPECT_EQ(GetOrDie(*reader, kTable, "transfers"), std::to_string(kThreads * kTransfers));
  EXPECT_EQ(Keys(reader->Scan(kTable, "claim/")).size(), static_cast<size_t>(kClaims));
}

// A writer on one frontend waits for the writer on another and then sees its write.
TEST_P(PostgresStorageTest, WriterOnOneFrontendWaitsForTheOtherAndSeesItsWrite) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto holder = Write(*first);
  ASSERT_TRUE(holder->Put(kTable, "n", "1").ok());
  std::atomic<bool> committed = false;
  std::optional<std::string> seen;
  bool began_after_commit = false;
  std::thread waiter([&] {
    auto txn = Write(*second);
    began_after_commit = committed.load();
    seen = GetOrDie(*txn, kTable, "n");
    ASSERT_TRUE(txn->Put(kTable, "n", std::to_string(std::stoi(seen.value_or("0")) + 1)).ok());
    ASSERT_TRUE(txn->Commit().ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  committed = true;
  ASSERT_TRUE(holder->Commit().ok());
  waiter.join();
  EXPECT_TRUE(began_after_commit);
  EXPECT_EQ(seen, "1");
  EXPECT_EQ(GetOrDie(*Read(*first), kTable, "n"), "2");
}

// A read transaction on one frontend keeps its snapshot while another frontend commits.
TEST_P(PostgresStorageTest, ReaderKeepsItsSnapshotWhileAnotherFrontendCommits) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  {
    auto txn = Write(*first);
    ASSERT_TRUE(txn->Put(kTable, "k", "old").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  auto reader = Read(*first);  // nothing read yet: the snapshot is pinned by BeginRead
  {
    auto txn = Write(*second);
    ASSERT_TRUE(txn->Put(kTable, "k", "new").ok());
    ASSERT_TRUE(txn->Put(kTable, "k2", "added").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(GetOrDie(*reader, kTable, "k"), "old");
  EXPECT_EQ(Keys(reader->Scan(kTable, "k")), std::vector<std::string>{"k"});
  EXPECT_TRUE(reader->Commit().ok());
  EXPECT_EQ(GetOrDie(*Read(*first), kTable, "k"), "new");
}

// Frontends starting at once against an empty schema: one migrates, all open at the current
// version.
TEST_P(PostgresStorageTest, FrontendsStartingTogetherMigrateOnce) {
  std::vector<std::unique_ptr<Storage>> opened(4);
  std::vector<std::thread> threads;
  for (auto& slot : opened) {
    threads.emplace_back([&slot, this] {
      auto storage = OpenWith(kMigrations);
      EXPECT_TRUE(storage.ok()) << storage.status().ToString();
      if (storage.ok()) slot = std::move(storage).value();
    });
  }
  for (auto& thread : threads) thread.join();
  for (auto& storage : opened) {
    ASSERT_NE(storage, nullptr);
    EXPECT_EQ(storage->SchemaVersion(), kCurrentSchemaVersion);
  }
  auto txn = Write(*opened[0]);
  ASSERT_TRUE(txn->Put(tables::kKmsGrants, "g", "1").ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(GetOrDie(*Read(*opened[3]), tables::kKmsGrants, "g"), "1");
}

// The server restarts (and crashes): the next transactions reconnect, nothing acknowledged is
// lost, and a transaction caught by the restart fails instead of hanging or half-committing.
TEST_P(PostgresStorageTest, ReconnectsAfterTheServerRestarts) {
  LocalPostgres* cluster = TestPostgres::Get().cluster();
  if (cluster == nullptr) GTEST_SKIP() << "needs the cluster this test binary starts (MERIDIAN_TEST_POSTGRES is set)";
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  {
    // Several transactions at once, so the pool holds several connections the restart breaks.
    auto w = Write(*storage);
    auto r1 = Read(*storage);
    auto r2 = Read(*storage);
    ASSERT_TRUE(w->Put(kTable, "before", "1").ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  auto caught = Write(*storage);
  ASSERT_TRUE(caught->Put(kTable, "caught", "1").ok());

  ASSERT_TRUE(cluster->Stop().ok());
  auto down = storage->BeginRead();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().type(), "StorageException");
  EXPECT_NE(down.status().message().find("cannot connect"), std::string::npos) << down.status().ToString();
  ASSERT_TRUE(cluster->Restart().ok());

  EXPECT_FALSE(caught->Commit().ok());
  caught.reset();
  {
    auto txn = Write(*storage);
    EXPECT_EQ(GetOrDie(*txn, kTable, "before"), "1");
    EXPECT_EQ(GetOrDie(*txn, kTable, "caught"), std::nullopt);
    ASSERT_TRUE(txn->Put(kTable, "after", "1").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  // A crash (immediate stop: no shutdown checkpoint) loses no acknowledged commit either.
  ASSERT_TRUE(cluster->Stop(/*immediate=*/true).ok());
  ASSERT_TRUE(cluster->Restart().ok());
  auto reader = Read(*storage);
  EXPECT_EQ(GetOrDie(*reader, kTable, "before"), "1");
  EXPECT_EQ(GetOrDie(*reader, kTable, "after"), "1");
}

// libpq multi-host conninfo: the first host is down, target_session_attrs=read-write picks the
// live primary; both conninfo forms.
TEST_P(PostgresStorageTest, MultiHostConninfoSkipsADeadHost) {
  LocalPostgres* cluster = TestPostgres::Get().cluster();
  if (cluster == nullptr) GTEST_SKIP() << "needs the cluster this test binary starts (MERIDIAN_TEST_POSTGRES is set)";
  DeadPort dead;
  ASSERT_NE(dead.port(), 0);
  const std::string live = std::to_string(cluster->port());
  const std::string forms[] = {
      "host=127.0.0.1,127.0.0.1 port=" + std::to_string(dead.port()) + "," + live +
          " user=postgres password=" + cluster->password() +
          " dbname=postgres target_session_attrs=read-write options=-csearch_path=" + schema_,
      "postgresql://postgres:" + cluster->password() + "@127.0.0.1:" + std::to_string(dead.port()) + ",127.0.0.1:" + live +
          "/postgres?target_session_attrs=read-write&options=-csearch_path%3D" + schema_,
  };
  int n = 0;
  for (const std::string& conninfo : forms) {
    auto spec = StorageSpec::Parse(conninfo.starts_with("postgresql://") ? conninfo : "postgres:" + conninfo, "unused");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto storage = OpenStorage(*spec);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    auto txn = Write(**storage);
    ASSERT_TRUE(txn->Put(kTable, "form/" + std::to_string(n++), "1").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  // Both wrote to this test's schema on the live server.
  EXPECT_EQ(Keys(Read(*Open())->Scan(kTable, "form/")), (std::vector<std::string>{"form/0", "form/1"}));
}

TEST_P(PostgresStorageTest, UnreachableServerIsAnErrorWithoutThePassword) {
  DeadPort dead;
  auto storage = OpenPostgres("host=127.0.0.1 port=" + std::to_string(dead.port()) +
                              " user=postgres password=hunter2-secret connect_timeout=2");
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().type(), "StorageException");
  EXPECT_NE(storage.status().message().find("cannot connect"), std::string::npos) << storage.status().ToString();
  EXPECT_EQ(storage.status().message().find("hunter2"), std::string::npos) << storage.status().ToString();
  // A malformed migration list is refused before any connection is tried.
  static constexpr Migration kGap[] = {kMigrations[0], {3, kWidgetTables}};
  auto malformed = OpenPostgresWithMigrations("host=127.0.0.1 port=" + std::to_string(dead.port()), kGap);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("migration steps"), std::string::npos) << malformed.status().ToString();
}

// The keys are bytea: ordering is bytewise, exactly as SQLite's, whatever the database's
// collation; checked here against std::string order with bytes that collations reorder.
TEST_P(PostgresStorageTest, KeysOrderBytewiseWhateverTheCollation) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  std::vector<std::string> keys = {"B", "a", "A", "b", "_", "\xc3\xa9", "e", "E", "10", "9", std::string("a\0b", 3), "a b"};
  auto txn = Write(*storage);
  for (const std::string& key : keys) ASSERT_TRUE(txn->Put(kTable, key, "v").ok());
  ASSERT_TRUE(txn->Commit().ok());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(Keys(Read(*storage)->Scan(kTable, "")), keys);
}

TEST(StorageSpecTest, ParsesEveryForm) {
  auto sqlite = StorageSpec::Parse("sqlite", "/data/meridian.db");
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(sqlite->backend, StorageSpec::Backend::kSqlite);
  EXPECT_EQ(sqlite->location, "/data/meridian.db");
  EXPECT_EQ(StorageSpec::Parse("", "/d.db")->location, "/d.db");
  auto path = StorageSpec::Parse("sqlite:/tmp/x.db", "/d.db");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->location, "/tmp/x.db");
  auto uri = StorageSpec::Parse("postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write", "/d.db");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->backend, StorageSpec::Backend::kPostgres);
  EXPECT_EQ(uri->location, "postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write");
  auto conninfo = StorageSpec::Parse("postgres:host=h dbname=d", "/d.db");
  ASSERT_TRUE(conninfo.ok());
  EXPECT_EQ(conninfo->backend, StorageSpec::Backend::kPostgres);
  EXPECT_EQ(conninfo->location, "host=h dbname=d");
  for (std::string_view bad : {"mysql://x", "sqlite:", "postgres:", "/path/without/scheme"}) {
    auto parsed = StorageSpec::Parse(bad, "/d.db");
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().type(), "ValidationException") << bad;
  }
}

TEST(StorageSpecTest, RedactedHidesPasswords) {
  auto redacted = [](std::string_view spec) { return StorageSpec::Parse(spec, "/d.db")->Redacted(); };
  EXPECT_EQ(redacted("postgres://meridian:s3cret@db1:5432,db2/m"), "postgres://meridian:***@db1:5432,db2/m");
  EXPECT_EQ(redacted("postgresql://db/m?user=u&password=s3cret&sslmode=require"),
            "postgresql://db/m?user=u&password=***&sslmode=require");
  EXPECT_EQ(redacted("postgres:host=db password=s3cret user=u"), "postgres:host=db password=*** user=u");
  EXPECT_EQ(redacted("postgres:host=db password = 'with space' user=u"), "postgres:host=db password = *** user=u");
  EXPECT_EQ(redacted("postgres://db/m"), "postgres://db/m");
  EXPECT_EQ(redacted("sqlite:/x.db"), "sqlite:/x.db");
  auto bad = StorageSpec::Parse("mysql://u:s3cret@h/x", "/d.db");
  EXPECT_EQ(bad.status().message().find("s3cret"), std::string::npos) << bad.status().ToString();
}

// ---- Change feed and leadership (change_feed.h, leadership.h) ------------------------------

// Collects what a ChangeFeed delivers; waits for a key to arrive.
class ChangeRecorder {
 public:
  ChangeHandler Handler() {
    return [this](const std::optional<std::string>& key) {
      std::lock_guard lock(mu_);
      if (key) {
        keys_.push_back(*key);
      } else {
        ++whole_table_;
      }
      cv_.notify_all();
    };
  }
  bool WaitForKey(const std::string& key, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return std::find(keys_.begin(), keys_.end(), key) != keys_.end(); });
  }
  bool WaitForWholeTable(int count, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return whole_table_ >= count; });
  }
  std::vector<std::string> keys() {
    std::lock_guard lock(mu_);
    return keys_;
  }
  int whole_table() {
    std::lock_guard lock(mu_);
    return whole_table_;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    keys_.clear();
    whole_table_ = 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> keys_;
  int whole_table_ = 0;
};

void PutAndCommit(Storage& storage, std::string_view table, const std::string& key) {
  auto txn = Write(storage);
  ASSERT_TRUE(txn->Put(table, key, "v").ok());
  ASSERT_TRUE(txn->Commit().ok());
}

// Writes a fresh sentinel row until `recorder` hears it: the feed's listener is then connected
// (on PostgreSQL a notification sent before it LISTENs is lost, by design).
void WaitUntilListening(Storage& storage, ChangeRecorder& recorder, std::string_view table) {
  for (int i = 0; i < 100; ++i) {
    const std::string sentinel = "sentinel-" + std::to_string(i);
    PutAndCommit(storage, table, sentinel);
    if (recorder.WaitForKey(sentinel, std::chrono::milliseconds(200))) return;
  }
  ADD_FAILURE() << "the change feed never delivered a sentinel";
}

TEST(ChangeSetTest, EncodesAndDecodesAnyKeysWithinThePayloadLimit) {
  internal::ChangeSet set;
  std::vector<std::string> keys = {"", "plain", std::string("nul\0byte", 8), "\xff\xfe utf-8? no", "a/b|c *"};
  for (int i = 0; i < 200; ++i) keys.push_back("key-" + std::to_string(i) + std::string(40, 'x'));
  for (const auto& key : keys) set.Add("kms_keys", key);
  set.Add("secrets", "s");
  std::vector<std::string> payloads = set.Encode();
  EXPECT_GT(payloads.size(), 1u);  // 200 keys of ~100 hex characters do not fit one payload
  internal::ChangeSet decoded;
  for (const auto& payload : payloads) {
    EXPECT_LE(payload.size(), internal::ChangeSet::kMaxPayloadBytes);
    EXPECT_EQ(payload.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_ *\n"), std::string::npos);
    decoded.Decode(payload);
  }
  std::map<std::string, std::vector<std::optional<std::string>>> seen;
  decoded.ForEach([&](const std::string& table, const std::optional<std::string>& key) { seen[table].push_back(key); });
  std::vector<std::optional<std::string>> expected(keys.begin(), keys.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(seen["kms_keys"], expected);
  EXPECT_EQ(seen["secrets"], std::vector<std::optional<std::string>>{std::string("s")});
}

TEST(ChangeSetTest, ManyKeysAndMalformedLinesAnnounceTheWholeTable) {
  internal::ChangeSet set;
  for (size_t i = 0; i <= internal::ChangeSet::kMaxKeysPerTable; ++i) set.Add("kms_grants", std::to_string(i));
  EXPECT_EQ(set.Encode(), std::vector<std::string>{"kms_grants *"});
  internal::ChangeSet decoded;
  decoded.Decode("kms_keys 6x\naccess_keys\nBAD TABLE 00\n\nsecrets 6162");
  std::vector<std::pair<std::string, std::optional<std::string>>> seen;
  decoded.ForEach([&](const std::string& t, const std::optional<std::string>& k) { seen.emplace_back(t, k); });
  std::vector<std::pair<std::string, std::optional<std::string>>> expected = {
      {"access_keys", std::nullopt}, {"kms_keys", std::nullopt}, {"secrets", std::string("ab")}};
  EXPECT_EQ(seen, expected);
}

TEST_P(StorageTest, ChangeFeedAnnouncesCommittedWritesOnly) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_NE(storage->change_feed(), nullptr);
  {
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(kTable, "to-delete", "v").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  ChangeRecorder meta, accounts;
  ChangeSubscription meta_sub = storage->change_feed()->Subscribe(kTable, meta.Handler());
  ChangeSubscription accounts_sub = storage->change_feed()->Subscribe(tables::kAccounts, accounts.Handler());
  WaitUntilListening(*storage, meta, kTable);
  const int meta_whole_table = meta.whole_table();
  meta.Clear();
  {
    auto rolled_back = Write(*storage);
    ASSERT_TRUE(rolled_back->Put(kTable, "never-committed", "v").ok());
  }  // destroyed without Commit
  {
    auto txn = Write(*storage);
    ASSERT_TRUE(txn->Put(kTable, "put", "v").ok());
    ASSERT_TRUE(txn->Insert(kTable, "inserted", "v").ok());
    ASSERT_TRUE(txn->Delete(kTable, "to-delete").ok());
    ASSERT_TRUE(txn->Delete(kTable, "absent").ok());  // deleted nothing: nothing changed
    ASSERT_TRUE(txn->Put(kTable, std::string("bin\0\xff", 5), "v").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  PutAndCommit(*storage, kTable, "last");
  ASSERT_TRUE(meta.WaitForKey("last"));
  std::vector<std::string> keys = meta.keys();
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> expected = {"inserted", "last", "put", "to-delete", std::string("bin\0\xff", 5)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_TRUE(accounts.keys().empty());
  // Only "anything changed" (the listener connecting), if at all.
  EXPECT_EQ(accounts.whole_table(), meta_whole_table + meta.whole_table());
}

TEST_P(StorageTest, ChangeFeedAnnouncesABigTransactionAsTheWholeTable) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ChangeRecorder meta;
  ChangeSubscription sub = storage->change_feed()->Subscribe(kTable, meta.Handler());
  WaitUntilListening(*storage, meta, kTable);
  const int before = meta.whole_table();
  {
    auto txn = Write(*storage);
    for (size_t i = 0; i <= internal::ChangeSet::kMaxKeysPerTable; ++i) {
      ASSERT_TRUE(txn->Put(kTable, "bulk-" + std::to_string(i), "v").ok());
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_TRUE(meta.WaitForWholeTable(before + 1));
}

TEST_P(StorageTest, ResetSubscriptionIsNeverCalledAgain) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ChangeRecorder first, second;
  ChangeSubscription first_sub = storage->change_feed()->Subscribe(kTable, first.Handler());
  ChangeSubscription second_sub = storage->change_feed()->Subscribe(kTable, second.Handler());
  WaitUntilListening(*storage, first, kTable);
  first_sub.Reset();
  EXPECT_FALSE(first_sub.active());
  first.Clear();
  PutAndCommit(*storage, kTable, "after-reset");
  ASSERT_TRUE(second.WaitForKey("after-reset"));
  EXPECT_TRUE(first.keys().empty());
  // A subscription may outlive its Storage.
  storage.reset();
  second_sub.Reset();
}

TEST_P(StorageTest, SqliteIsAlwaysTheLeaderAndPostgresElectsOne) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ASSERT_NE(storage->leadership(), nullptr);
  if (GetParam() == Backend::kSqlite) {
    EXPECT_TRUE(storage->leadership()->IsLeader());
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!storage->leadership()->IsLeader() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(storage->leadership()->IsLeader());
}

TEST_P(PostgresStorageTest, ChangesOnOneFrontendReachTheOtherWithinASecond) {
  auto writer = Open();
  auto reader = Open();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  ChangeRecorder recorder;
  ChangeSubscription sub = reader->change_feed()->Subscribe(tables::kKeys, recorder.Handler());
  WaitUntilListening(*writer, recorder, tables::kKeys);
  std::vector<double> delays_ms;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "key-" + std::to_string(i);
    auto start = std::chrono::steady_clock::now();
    PutAndCommit(*writer, tables::kKeys, key);
    ASSERT_TRUE(recorder.WaitForKey(key, std::chrono::seconds(1))) << key;
    delays_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(delays_ms.begin(), delays_ms.end());
  std::printf("commit -> other frontend's handler: p50 %.2f ms, max %.2f ms\n", delays_ms[delays_ms.size() / 2],
              delays_ms.back());
}

TEST_P(PostgresStorageTest, LeadershipMovesWhenTheLeaderGoes) {
  std::vector<std::unique_ptr<Storage>> frontends;
  for (int i = 0; i < 3; ++i) {
    frontends.push_back(Open());
    ASSERT_NE(frontends.back(), nullptr);
  }
  auto leaders = [&] {
    int count = 0, index = -1;
    for (size_t i = 0; i < frontends.size(); ++i) {
      if (frontends[i] != nullptr && frontends[i]->leadership()->IsLeader()) {
        ++count;
        index = static_cast<int>(i);
      }
    }
    return std::make_pair(count, index);
  };
  auto wait_for_one = [&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (leaders().first != 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return leaders();
  };
  auto [count, first_leader] = wait_for_one();
  ASSERT_EQ(count, 1);
  // Never two at once while it settles.
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE(leaders().first, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto gone = std::chrono::steady_clock::now();
  frontends[first_leader].reset();  // closes its listener session: PostgreSQL releases the lock
  auto [after, second_leader] = wait_for_one();
  ASSERT_EQ(after, 1);
  EXPECT_NE(second_leader, first_leader);
  EXPECT_LT(std::chrono::steady_clock::now() - gone, std::chrono::seconds(3));
}

TEST_P(PostgresStorageTest, ListenerSaysEverythingChangedAfterARestartAndListensAgain) {
  LocalPostgres* cluster = TestPostgres::Get().cluster();
  if (cluster == nullptr) GTEST_SKIP() << "needs the cluster this test binary starts (MERIDIAN_TEST_POSTGRES is set)";
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  ChangeRecorder recorder;
  ChangeSubscription sub = storage->change_feed()->Subscribe(kTable, recorder.Handler());
  WaitUntilListening(*storage, recorder, kTable);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!storage->leadership()->IsLeader() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(storage->leadership()->IsLeader());
  const int before = recorder.whole_table();
  ASSERT_TRUE(cluster->Stop().ok());
  EXPECT_TRUE(recorder.WaitForWholeTable(before + 1));  // the connection is gone
  EXPECT_FALSE(storage->leadership()->IsLeader());
  ASSERT_TRUE(cluster->Restart().ok());
  // Lost (connection gone) and re-established: two "anything may have changed".
  EXPECT_TRUE(recorder.WaitForWholeTable(before + 2));
  recorder.Clear();
  WaitUntilListening(*storage, recorder, kTable);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!storage->leadership()->IsLeader() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(storage->leadership()->IsLeader());
}

}  // namespace
}  // namespace meridian::storage
