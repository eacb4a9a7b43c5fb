// PostgresStandby against real PostgreSQL servers: a primary (LocalPostgres) and a streaming
// standby of it, each in its own temporary directory. Skipped when this machine has no
// PostgreSQL server programs.
#include "storage/postgres_standby.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>

namespace meridian::storage {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A temporary directory removed at the end of the test (each cluster needs its own: the
// postgres user must reach it, and it is handed to that user).
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "meridian-standby-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) fs::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The first column of the first row of `sql` in `conninfo`, or the server's error.
std::string Query(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string out;
  if (PQstatus(conn) != CONNECTION_OK) {
    out = std::string("connect error: ") + PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      out = PQgetvalue(result, 0, 0);
    } else if (PQresultStatus(result) != PGRES_TUPLES_OK && PQresultStatus(result) != PGRES_COMMAND_OK) {
      out = std::string("error: ") + PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  PQfinish(conn);
  return out;
}

TEST(ParsePgLsn, ParsesBothHalvesAsHex) {
  EXPECT_EQ(ParsePgLsn("0/0").value(), 0u);
  EXPECT_EQ(ParsePgLsn("16/B374D848").value(), (uint64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(ParsePgLsn("FFFFFFFF/FFFFFFFF").value(), ~uint64_t{0});
  EXPECT_FALSE(ParsePgLsn("").ok());
  EXPECT_FALSE(ParsePgLsn("16").ok());
  EXPECT_FALSE(ParsePgLsn("/1").ok());
  EXPECT_FALSE(ParsePgLsn("1/").ok());
  EXPECT_FALSE(ParsePgLsn("1/xyz").ok());
  EXPECT_FALSE(ParsePgLsn("100000000/0").ok());
}

TEST(PostgresStandby, StreamsPromotesAndTakesWrites) {
  if (!LocalPostgres::FindBinaries().ok()) GTEST_SKIP() << LocalPostgres::FindBinaries().status().message();
  TempDir primary_dir, standby_dir;
  ASSERT_FALSE(primary_dir.path().empty());
  ASSERT_FALSE(standby_dir.path().empty());

  auto primary = LocalPostgres::Start({.directory = primary_dir.path(), .port = 0, .fsync = false});
  ASSERT_TRUE(primary.ok()) << primary.status().ToString();
  ASSERT_TRUE((*primary)->EnsureDatabase("app").ok());
  ASSERT_TRUE((*primary)->Execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'before')",
                                  "app").ok());

  auto standby = PostgresStandby::Start(**primary, {.directory = standby_dir.path(), .port = 0,
                                                    .slot_name = "test_standby", .streaming_timeout = 60s,
                                                    .fsync = false});
  ASSERT_TRUE(standby.ok()) << standby.status().ToString();
  PostgresStandby& b = **standby;
  EXPECT_NE(b.port(), (*primary)->port());
  EXPECT_FALSE(b.IsPromoted().value());
  // The base backup holds the row written before it.
  EXPECT_EQ(Query(b.Conninfo("app"), "SELECT v FROM t WHERE id = 1"), "before");
  // The replication role has its own password, not the superuser's; the slot is in use.
  EXPECT_EQ(Query((*primary)->Conninfo(), "SELECT active::text FROM pg_replication_slots WHERE slot_name = 'test_standby'"),
            "true");

  // A write on the primary reaches the standby by streaming.
  ASSERT_TRUE((*primary)->Execute("INSERT INTO t VALUES (2, 'streamed')", "app").ok());
  auto lsn = PostgresStandby::CurrentLsn(**primary);
  ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
  ASSERT_TRUE(b.WaitForReplay(*lsn, 20000ms).ok());
  EXPECT_GE(b.ReceiveLsn().value(), *lsn);
  EXPECT_GE(b.ReplayLsn().value(), *lsn);
  EXPECT_EQ(Query(b.Conninfo("app"), "SELECT v FROM t WHERE id = 2"), "streamed");
  // The standby is read-only before promotion.
  EXPECT_FALSE(b.server().Execute("INSERT INTO t VALUES (3, 'refused')", "app").ok());
  // Waiting for a position the primary never wrote times out with an error.
  EXPECT_FALSE(b.WaitForReplay(*lsn + (uint64_t{1} << 40), 200ms).ok());

  // The primary dies (crash stop); the standby is promoted and takes writes.
  ASSERT_TRUE((*primary)->Stop(/*immediate=*/true).ok());
  ASSERT_TRUE(b.Promote(60s).ok());
  EXPECT_TRUE(b.IsPromoted().value());
  ASSERT_TRUE(b.server().Execute("INSERT INTO t VALUES (3, 'after failover')", "app").ok());
  EXPECT_EQ(Query(b.Conninfo("app"), "SELECT count(*) FROM t"), "3");
  EXPECT_TRUE(b.Promote().ok());  // already promoted: no-op

  // It stays a primary across a restart.
  ASSERT_TRUE(b.Stop().ok());
  ASSERT_TRUE(b.Restart().ok());
  EXPECT_TRUE(b.IsPromoted().value());
  EXPECT_EQ(Query(b.Conninfo("app"), "SELECT v FROM t WHERE id = 3"), "after failover");
}

TEST(PostgresStandby, RejectsABadSlotName) {
  if (!LocalPostgres::FindBinaries().ok()) GTEST_SKIP() << LocalPostgres::FindBinaries().status().message();
  TempDir primary_dir, standby_dir;
  auto primary = LocalPostgres::Start({.directory = primary_dir.path(), .port = 0, .fsync = false});
  ASSERT_TRUE(primary.ok()) << primary.status().ToString();
  auto standby = PostgresStandby::Start(**primary, {.directory = standby_dir.path(), .slot_name = "x'; DROP"});
  EXPECT_FALSE(standby.ok());
}

}  // namespace
}  // namespace meridian::storage
