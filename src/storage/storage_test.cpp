#include "storage/storage.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

namespace meridian::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTable = tables::kMeta;

// A fresh directory per test, removed afterwards.
class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "meridian-storage-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "meridian.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Storage> Open() {
    auto storage = OpenSqlite(path_);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  fs::path dir_;
  std::string path_;
};

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

TEST_F(StorageTest, FreshDatabaseIsAtCurrentVersion) {
  auto storage = Open();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->SchemaVersion(), kCurrentSchemaVersion);
}

TEST_F(StorageTest, PutGetDelete) {
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

TEST_F(StorageTest, BinaryKeysAndValuesRoundTrip) {
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

TEST_F(StorageTest, InsertConflictsOnExistingKey) {
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

TEST_F(StorageTest, UndeclaredTablesAreRejected) {
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

TEST_F(StorageTest, ScanPrefixesAndPaging) {
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
TEST_F(StorageTest, ScanMatchesModelForAnyBytes) {
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

TEST_F(StorageTest, TransactionDestroyedWithoutCommitRollsBack) {
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

TEST_F(StorageTest, FinishedTransactionRefusesFurtherUse) {
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

TEST_F(StorageTest, SecondWriteTransactionOnOneThreadIsAnErrorNotADeadlock) {
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

TEST_F(StorageTest, ReadTransactionRefusesWrites) {
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

TEST_F(StorageTest, TransactionMayOutliveStorage) {
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

TEST_F(StorageTest, ReadTransactionSeesSnapshotFromItsBeginning) {
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
TEST_F(StorageTest, ConcurrentWritersLoseNoUpdate) {
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

TEST_F(StorageTest, DataPersistsAcrossReopen) {
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

TEST_F(StorageTest, OpeningAnOlderDatabaseMigratesItAndKeepsData) {
  {
    auto old = Open();  // a database written by this build, at kCurrentSchemaVersion
    ASSERT_NE(old, nullptr);
    auto txn = Write(*old);
    ASSERT_TRUE(txn->Put(tables::kAliases, "alias/x", "key-1").ok());
    ASSERT_TRUE(txn->Commit().ok());
    // This build does not know the table the next version adds.
    EXPECT_EQ(Write(*old)->Put("widgets", "w", "1").type(), "StorageException");
  }
  auto upgraded = OpenSqliteWithMigrations(path_, kNextMigrations);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ((*upgraded)->SchemaVersion(), kNextVersion);
  auto txn = Write(**upgraded);
  EXPECT_EQ(GetOrDie(*txn, tables::kAliases, "alias/x"), "key-1");
  ASSERT_TRUE(txn->Put("widgets", "w", "1").ok());
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  upgraded = Status("x", "close");  // reopening at the next version again applies nothing
  upgraded = OpenSqliteWithMigrations(path_, kNextMigrations);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ(GetOrDie(*Read(**upgraded), "widgets", "w"), "1");
}

// A database made by a build that knew only the first step, opened by this build.
TEST_F(StorageTest, OpeningAVersion1DatabaseMigratesItToCurrent) {
  {
    auto v1 = OpenSqliteWithMigrations(path_, std::span(kMigrations).first(1));
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

TEST_F(StorageTest, NewerDatabaseIsRefused) {
  {
    auto future = OpenSqliteWithMigrations(path_, kNextMigrations);
    ASSERT_TRUE(future.ok()) << future.status().ToString();
  }
  auto storage = OpenSqlite(path_);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().type(), "StorageException");
  EXPECT_NE(storage.status().message().find("schema version " + std::to_string(kNextVersion)), std::string::npos) << storage.status().ToString();
  EXPECT_NE(storage.status().message().find("newer"), std::string::npos) << storage.status().ToString();
}

TEST_F(StorageTest, MalformedMigrationListsAreRejected) {
  static constexpr std::string_view kBadName[] = {"bad name"};
  static constexpr std::string_view kReserved[] = {"schema_version"};
  static constexpr Migration kGap[] = {kMigrations[0], {3, kWidgetTables}};
  static constexpr Migration kTwice[] = {kMigrations[0], {2, kV1Tables}};
  static constexpr Migration kInvalid[] = {{1, kBadName}};
  static constexpr Migration kReservedName[] = {{1, kReserved}};
  for (std::span<const Migration> list : {std::span<const Migration>(kGap), std::span<const Migration>(kTwice),
                                          std::span<const Migration>(kInvalid), std::span<const Migration>(kReservedName)}) {
    auto storage = OpenSqliteWithMigrations(path_, list);
    EXPECT_FALSE(storage.ok());
  }
  EXPECT_FALSE(fs::exists(path_));  // rejected before touching the disk
}

TEST_F(StorageTest, GarbageFileIsAnErrorNotACrash) {
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 1000; ++i) out << "this is not a database ";
  }
  auto storage = OpenSqlite(path_);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().type(), "StorageException");
  EXPECT_NE(storage.status().message().find("not a database"), std::string::npos) << storage.status().ToString();
}

TEST_F(StorageTest, CorruptedPagesAreAnErrorNotACrash) {
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

TEST_F(StorageTest, UnopenablePathIsAnError) {
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
[[noreturn]] void CommitForever(const std::string& path, int first, int fd) {
  auto storage = OpenSqlite(path);
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
TEST_F(StorageTest, AcknowledgedCommitsSurviveKill9) {
  int next = 0;
  for (int kill_after : {25, 60, 140}) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      CommitForever(path_, next, fds[1]);
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

}  // namespace
}  // namespace meridian::storage
