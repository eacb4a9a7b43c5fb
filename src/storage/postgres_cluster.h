// LocalPostgres: a PostgreSQL cluster of its own in a directory, started and stopped by this
// process: for tests, and for `meridian up --storage postgres` on one machine.
//
// PostgreSQL refuses to run as root. When this process is root, the directory is handed to the
// `postgres` user and every PostgreSQL program runs through `runuser -u postgres`; otherwise
// they run as the current user (the directory's parents must then let that user through). The
// server listens on 127.0.0.1 only (no unix socket), and requires the superuser's
// password (scram-sha-256), generated at initdb and kept in directory/superuser-password (0600);
// Conninfo() carries it. Programs come from $MERIDIAN_PG_BIN, or the newest
// /usr/lib/postgresql/<version>/bin.
//
// Start on a directory whose server is still running (its owner was killed) stops that server
// first. The destructor stops the server (fast shutdown) and leaves the files; the caller owns
// the directory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace meridian::storage {

class LocalPostgres {
 public:
  struct Options {
    std::string directory;  // must exist; the cluster lives in directory/data
    uint16_t port = 0;      // 0: a free loopback port
    bool fsync = true;      // false only for throwaway test clusters (faster commits)
  };

  // Creates the cluster if directory/data does not hold one yet, and starts it.
  static Result<std::unique_ptr<LocalPostgres>> Start(Options options);
  // The directory of the PostgreSQL programs this machine has, or an error saying none is there.
  static Result<std::string> FindBinaries();
  // Runs `argv` (a PostgreSQL program and its arguments) as the user PostgreSQL runs as (see
  // above), output appended to `log_path`, and waits for it (used by storage/postgres_standby.h).
  static Status RunAsServerUser(std::vector<std::string> argv, const std::string& log_path);
  // Hands directory `path` to that user (owner, mode 0700) when this process is root.
  static Status HandToServerUser(const std::string& path);

  ~LocalPostgres();
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;

  // Stops the server; `immediate` is a crash stop (no checkpoint, like a power cut for clients).
  Status Stop(bool immediate = false);
  // Starts a stopped server again on the same port.
  Status Restart();
  // Forks a watchdog that stops the server (fast shutdown) once this process has died, however
  // it died (SIGKILL included), so that no server outlives its owner. Call while this process is
  // single-threaded (before starting threads), once.
  Status StopWhenThisProcessDies();

  uint16_t port() const { return port_; }
  const std::string& password() const { return password_; }  // the superuser's
  // A libpq conninfo for `dbname` as the superuser over loopback TCP (it holds the password).
  std::string Conninfo(std::string_view dbname = "postgres") const;
  // Runs `sql` (one or more statements) in `dbname` as the superuser.
  Status Execute(const std::string& sql, std::string_view dbname = "postgres") const;
  // Creates database `name` ([a-z0-9_]+) unless it exists.
  Status EnsureDatabase(std::string_view name) const;

 private:
  LocalPostgres(std::string bin, std::string directory, uint16_t port)
      : bin_(std::move(bin)), directory_(std::move(directory)), port_(port) {}
  Status StartServer();

  std::string bin_;
  std::string directory_;
  uint16_t port_;
  std::string password_;
  bool running_ = false;
};

}  // namespace meridian::storage
