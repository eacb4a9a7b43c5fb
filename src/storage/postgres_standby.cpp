#include "storage/postgres_standby.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace meridian::storage {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Status StandbyError(std::string message) {
  return Status("StorageException", "postgres standby: " + std::move(message), 500);
}

bool IsSimpleName(std::string_view name) {
  return !name.empty() && name.size() <= 63 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos &&
         !(name[0] >= '0' && name[0] <= '9');
}

// 32 hex characters from /dev/urandom (a password PostgreSQL and SQL need no quoting for).
Result<std::string> RandomHexPassword() {
  unsigned char random[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(random), sizeof(random))) return StandbyError("cannot read /dev/urandom");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string password;
  for (unsigned char b : random) {
    password += kHex[b >> 4];
    password += kHex[b & 15];
  }
  return password;
}

// Writes `content` + "\n" to `path` with mode 0600 (only this process reads it back).
Status WriteSecretFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return StandbyError("cannot create " + path + ": " + std::strerror(errno));
  const std::string line = content + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = close(fd) == 0 && ok;
  return ok ? Status::Ok() : StandbyError("cannot write " + path);
}

// The first column of the first row of a query; `present` is false for no row or NULL.
struct QueryValue {
  bool present = false;
  std::string text;
};

Result<QueryValue> QueryOne(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb((conninfo + " connect_timeout=5").c_str());
  std::string error;
  QueryValue value;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(result);
    } else if (PQntuples(result) > 0 && PQnfields(result) > 0 && !PQgetisnull(result, 0, 0)) {
      value.present = true;
      value.text = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(conn);
  while (!error.empty() && error.back() == '\n') error.pop_back();
  if (!error.empty()) return StandbyError(error);
  return value;
}

Result<uint64_t> QueryLsn(const std::string& conninfo, const std::string& sql) {
  MERIDIAN_ASSIGN_OR_RETURN(auto text, QueryOne(conninfo, sql));
  if (!text.present) return uint64_t{0};
  return ParsePgLsn(text.text);
}

// Polls `done` every 50 ms until it returns true or an error, or `timeout` passes.
template <typename Predicate>
Status PollUntil(std::chrono::milliseconds timeout, const std::string& what, Predicate done) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error;
  for (;;) {
    Result<bool> finished = done();
    if (finished.ok() && *finished) return Status::Ok();
    if (!finished.ok()) last_error = finished.status().message();
    if (Clock::now() >= deadline) {
      return StandbyError("timed out after " + std::to_string(timeout.count()) + " ms waiting for " + what +
                          (last_error.empty() ? "" : " (last error: " + last_error + ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

Result<uint64_t> ParsePgLsn(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size()) {
    return StandbyError("'" + std::string(text) + "' is not a pg_lsn");
  }
  auto parse_half = [](std::string_view half, uint64_t& out) {
    if (half.size() > 8) return false;
    auto [end, ec] = std::from_chars(half.data(), half.data() + half.size(), out, 16);
    return ec == std::errc() && end == half.data() + half.size();
  };
  uint64_t high = 0, low = 0;
  if (!parse_half(text.substr(0, slash), high) || !parse_half(text.substr(slash + 1), low)) {
    return StandbyError("'" + std::string(text) + "' is not a pg_lsn");
  }
  return (high << 32) | low;
}

Result<std::unique_ptr<PostgresStandby>> PostgresStandby::Start(const LocalPostgres& primary, Options options) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string bin, LocalPostgres::FindBinaries());
  if (!fs::is_directory(options.directory)) return StandbyError(options.directory + " is not a directory");
  if (!IsSimpleName(options.slot_name)) {
    return StandbyError("slot name '" + options.slot_name + "' is not [a-z_][a-z0-9_]{0,62}");
  }
  const std::string data = options.directory + "/data";
  if (!fs::exists(data + "/PG_VERSION")) {
    // The replication role is named after the slot, so that each standby has its own password.
    MERIDIAN_ASSIGN_OR_RETURN(std::string password, RandomHexPassword());
    const std::string& role = options.slot_name;
    MERIDIAN_RETURN_IF_ERROR(primary.Execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role + "') THEN CREATE ROLE \"" +
        role + "\" LOGIN REPLICATION; END IF; END $$; ALTER ROLE \"" + role + "\" PASSWORD '" + password + "';"));
    // A slot left by an earlier, abandoned standby of the same name would make -C fail.
    MERIDIAN_RETURN_IF_ERROR(primary.Execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                                             "WHERE slot_name = '" + role + "' AND NOT active"));
    MERIDIAN_RETURN_IF_ERROR(WriteSecretFile(options.directory + "/replication-password", password));
    // The standby is a copy of the primary's cluster: same superuser and password.
    MERIDIAN_RETURN_IF_ERROR(WriteSecretFile(options.directory + "/superuser-password", primary.password()));
    MERIDIAN_RETURN_IF_ERROR(LocalPostgres::HandToServerUser(options.directory));
    // -R writes standby.signal and primary_conninfo (with this role's password) into the copy.
    const std::string source = "host=127.0.0.1 port=" + std::to_string(primary.port()) + " user=" + role +
                               " password=" + password + " application_name=" + role;
    std::vector<std::string> backup = {bin + "/pg_basebackup", "-D", data, "-d", source, "-R", "-X", "stream",
                                       "-C", "-S", role, "-c", "fast"};
    if (!options.fsync) backup.push_back("--no-sync");
    MERIDIAN_RETURN_IF_ERROR(LocalPostgres::RunAsServerUser(std::move(backup), options.directory + "/setup.log"));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto server, LocalPostgres::Start({options.directory, options.port, options.fsync}));
  std::unique_ptr<PostgresStandby> standby(new PostgresStandby(options.directory, std::move(server)));
  if (fs::exists(data + "/standby.signal")) {
    const std::string conninfo = standby->Conninfo();
    MERIDIAN_RETURN_IF_ERROR(PollUntil(options.streaming_timeout, "the standby to stream from the primary",
                                       [&]() -> Result<bool> {
                                         MERIDIAN_ASSIGN_OR_RETURN(
                                             auto status, QueryOne(conninfo, "SELECT status FROM pg_stat_wal_receiver"));
                                         return status.present && status.text == "streaming";
                                       }));
  }
  return standby;
}

PostgresStandby::~PostgresStandby() = default;

Result<bool> PostgresStandby::IsPromoted() const {
  Result<QueryValue> in_recovery = QueryOne(Conninfo(), "SELECT pg_is_in_recovery()");
  if (!in_recovery.ok()) return in_recovery.status();
  if (!in_recovery->present) return StandbyError("pg_is_in_recovery() returned nothing");
  return in_recovery->text == "f";
}

Status PostgresStandby::Promote(std::chrono::seconds timeout) {
  MERIDIAN_ASSIGN_OR_RETURN(bool promoted, IsPromoted());
  if (promoted) return Status::Ok();
  MERIDIAN_ASSIGN_OR_RETURN(auto answer, QueryOne(Conninfo(), "SELECT pg_promote(true, " +
                                                                  std::to_string(timeout.count()) + ")"));
  if (!answer.present || answer.text != "t") return StandbyError("pg_promote did not finish within the timeout");
  return PollUntil(timeout, "the promoted standby to accept writes", [this]() { return IsPromoted(); });
}

Result<uint64_t> PostgresStandby::ReceiveLsn() const {
  return QueryLsn(Conninfo(), "SELECT pg_last_wal_receive_lsn()");
}

Result<uint64_t> PostgresStandby::ReplayLsn() const {
  return QueryLsn(Conninfo(), "SELECT pg_last_wal_replay_lsn()");
}

Result<uint64_t> PostgresStandby::CurrentLsn(const LocalPostgres& primary) {
  return QueryLsn(primary.Conninfo(), "SELECT pg_current_wal_lsn()");
}

Status PostgresStandby::WaitForReplay(uint64_t lsn, std::chrono::milliseconds timeout) const {
  uint64_t replayed = 0;
  Status waited = PollUntil(timeout, "replay", [&]() -> Result<bool> {
    MERIDIAN_ASSIGN_OR_RETURN(replayed, ReplayLsn());
    return replayed >= lsn;
  });
  if (!waited.ok()) {
    return StandbyError("replayed up to byte " + std::to_string(replayed) + ", not " + std::to_string(lsn) + ": " +
                        waited.message());
  }
  return Status::Ok();
}

Status PostgresStandby::Stop(bool immediate) { return server_->Stop(immediate); }
Status PostgresStandby::Restart() { return server_->Restart(); }
Status PostgresStandby::StopWhenThisProcessDies() { return server_->StopWhenThisProcessDies(); }

}  // namespace meridian::storage
