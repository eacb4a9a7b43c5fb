#include "storage/postgres_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace meridian::storage {
namespace {

namespace fs = std::filesystem;

Status ClusterError(std::string message) { return Status("StorageException", "postgres: " + std::move(message), 500); }

// The last few lines of `path`, to explain a failure.
std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  std::string tail;
  for (size_t i = lines.size() > 4 ? lines.size() - 4 : 0; i < lines.size(); ++i) tail += "\n  " + lines[i];
  return tail;
}

bool IsRoot() { return geteuid() == 0; }

// `argv` run as the postgres user when this process is root.
std::vector<std::string> AsPostgresUser(std::vector<std::string> argv) {
  if (IsRoot()) {
    const char* runuser = access("/usr/sbin/runuser", X_OK) == 0 ? "/usr/sbin/runuser" : "/sbin/runuser";
    argv.insert(argv.begin(), {runuser, "-u", "postgres", "--"});
  }
  return argv;
}

// In a child after fork (async-signal-safe calls only): stdin from /dev/null, output appended to
// `log_path`, and no other file inherited (the server pg_ctl starts, or a watchdog, must not hold
// this process's pipes or sockets open), working directory "/".
void RedirectToLog(const char* log_path) {
  int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(126);
  close_range(3, ~0U, 0);
  if (chdir("/") != 0) _exit(126);  // the postgres user may not be allowed into our directory
}

[[noreturn]] void ExecWithLog(char* const* args, const char* log_path) {
  RedirectToLog(log_path);
  execv(args[0], args);
  _exit(127);
}

// Runs `argv` (as the postgres user when this process is root) with its output appended to
// `log_path`, and waits for it.
Status RunProgram(std::vector<std::string> argv, const std::string& log_path) {
  argv = AsPostgresUser(std::move(argv));
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return ClusterError("fork failed: " + std::string(std::strerror(errno)));
  if (pid == 0) ExecWithLog(args.data(), log_path.c_str());
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ClusterError("waitpid failed: " + std::string(std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return ClusterError(fs::path(argv[IsRoot() ? 4 : 0]).filename().string() + " failed (status " +
                        std::to_string(status) + "); " + log_path + " says:" + Tail(log_path));
  }
  return Status::Ok();
}

Result<uint16_t> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ClusterError("socket failed: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) return ClusterError("cannot find a free loopback port");
  return ntohs(addr.sin_port);
}

// A fresh random superuser password in `path` (0600, owned by whoever runs PostgreSQL).
Status WritePasswordFile(const std::string& path) {
  unsigned char random[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(random), sizeof(random))) return ClusterError("cannot read /dev/urandom");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string password;
  for (unsigned char b : random) {
    password += kHex[b >> 4];
    password += kHex[b & 15];
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ClusterError("cannot create " + path + ": " + std::strerror(errno));
  password += "\n";
  bool ok = write(fd, password.data(), password.size()) == static_cast<ssize_t>(password.size());
  if (IsRoot()) {
    const passwd* pg = getpwnam("postgres");
    ok = ok && pg != nullptr && fchown(fd, pg->pw_uid, pg->pw_gid) == 0;
  }
  close(fd);
  return ok ? Status::Ok() : ClusterError("cannot write " + path);
}

}  // namespace

Result<std::string> LocalPostgres::FindBinaries() {
  if (const char* bin = std::getenv("MERIDIAN_PG_BIN"); bin != nullptr && *bin != '\0') {
    if (access((fs::path(bin) / "initdb").c_str(), X_OK) != 0) {
      return ClusterError(std::string("MERIDIAN_PG_BIN=") + bin + " holds no initdb");
    }
    return std::string(bin);
  }
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (access((entry.path() / "bin" / "initdb").c_str(), X_OK) != 0) continue;
    int version = std::atoi(name.c_str());
    if (version > best_version) {
      best_version = version;
      best = (entry.path() / "bin").string();
    }
  }
  if (best.empty()) {
    return ClusterError("no PostgreSQL server programs found (/usr/lib/postgresql/*/bin/initdb); install the "
                        "Debian package 'postgresql' or set MERIDIAN_PG_BIN");
  }
  return best;
}

Status LocalPostgres::RunAsServerUser(std::vector<std::string> argv, const std::string& log_path) {
  return RunProgram(std::move(argv), log_path);
}

Status LocalPostgres::HandToServerUser(const std::string& path) {
  if (!IsRoot()) return Status::Ok();
  const passwd* pg = getpwnam("postgres");
  if (pg == nullptr) return ClusterError("running as root, and there is no 'postgres' user to run PostgreSQL as");
  if (chown(path.c_str(), pg->pw_uid, pg->pw_gid) != 0 || chmod(path.c_str(), 0700) != 0) {
    return ClusterError("cannot hand " + path + " to the postgres user: " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<std::unique_ptr<LocalPostgres>> LocalPostgres::Start(Options options) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string bin, FindBinaries());
  if (!fs::is_directory(options.directory)) return ClusterError(options.directory + " is not a directory");
  // PostgreSQL refuses root: the postgres user owns the cluster's directory.
  MERIDIAN_RETURN_IF_ERROR(HandToServerUser(options.directory));
  uint16_t port = options.port;
  if (port == 0) {
    MERIDIAN_ASSIGN_OR_RETURN(port, FreeLoopbackPort());
  }
  std::unique_ptr<LocalPostgres> cluster(new LocalPostgres(bin, options.directory, port));
  const std::string data = options.directory + "/data";
  const std::string setup_log = options.directory + "/setup.log";
  const std::string password_file = options.directory + "/superuser-password";
  if (!fs::exists(data + "/PG_VERSION")) {
    MERIDIAN_RETURN_IF_ERROR(WritePasswordFile(password_file));
    std::vector<std::string> initdb = {bin + "/initdb", "-D", data, "-U", "postgres", "-A", "scram-sha-256",
                                       "--pwfile=" + password_file, "-E", "UTF8", "--locale=C"};
    if (!options.fsync) initdb.push_back("--no-sync");
    MERIDIAN_RETURN_IF_ERROR(RunProgram(std::move(initdb), setup_log));
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# meridian (storage/postgres_cluster.cpp)\n"
         << "fsync = " << (options.fsync ? "on" : "off") << "\n"
         << "max_connections = 200\n"
         << "unix_socket_directories = ''\n"  // TCP on 127.0.0.1 only: no socket file among the data
         << "log_min_messages = warning\n";
    if (!conf) return ClusterError("cannot write " + data + "/postgresql.conf");
  }
  {
    std::ifstream in(password_file);
    std::getline(in, cluster->password_);
    if (cluster->password_.empty()) return ClusterError("cannot read " + password_file);
  }
  // A server left running by an owner that was killed holds the directory: stop it first.
  if (fs::exists(data + "/postmaster.pid") &&
      RunProgram({bin + "/pg_ctl", "status", "-D", data}, setup_log).ok()) {
    MERIDIAN_RETURN_IF_ERROR(
        RunProgram({bin + "/pg_ctl", "stop", "-D", data, "-m", "fast", "-w", "-t", "60"}, setup_log));
  }
  MERIDIAN_RETURN_IF_ERROR(cluster->StartServer());
  return cluster;
}

Status LocalPostgres::StartServer() {
  // The directory comes from the caller (never from requests); pg_ctl starts the server through
  // a shell command line, so refuse anything that would need quoting.
  for (char c : directory_) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' || c == '.')) {
      return ClusterError("directory " + directory_ + " has characters pg_ctl cannot pass on safely");
    }
  }
  const std::string server_options = "-p " + std::to_string(port_) + " -c listen_addresses=127.0.0.1";
  MERIDIAN_RETURN_IF_ERROR(RunProgram({bin_ + "/pg_ctl", "start", "-D", directory_ + "/data", "-l",
                                       directory_ + "/postgres.log", "-w", "-t", "60", "-o", server_options},
                                      directory_ + "/setup.log"));
  running_ = true;
  return Status::Ok();
}

LocalPostgres::~LocalPostgres() { Stop(); }

Status LocalPostgres::Stop(bool immediate) {
  if (!running_) return Status::Ok();
  Status stopped = RunProgram({bin_ + "/pg_ctl", "stop", "-D", directory_ + "/data", "-m",
                               immediate ? "immediate" : "fast", "-w", "-t", "60"},
                              directory_ + "/setup.log");
  if (stopped.ok()) running_ = false;
  return stopped;
}

Status LocalPostgres::StopWhenThisProcessDies() {
  std::vector<std::string> argv =
      AsPostgresUser({bin_ + "/pg_ctl", "stop", "-D", directory_ + "/data", "-m", "fast", "-w", "-t", "60"});
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const std::string log_path = directory_ + "/setup.log";
  const pid_t owner = getpid();
  // The watchdog waits for SIGTERM, which the kernel sends it when its parent (this process)
  // dies; the terminal's SIGINT/SIGHUP, meant for the owner, are ignored.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  pid_t pid = fork();
  if (pid < 0) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return ClusterError("fork failed: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    RedirectToLog(log_path.c_str());
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() == owner) {
      int received = 0;
      while (sigwait(&term, &received) != 0) {
      }
    }
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ExecWithLog(args.data(), log_path.c_str());  // becomes pg_ctl stop
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return Status::Ok();
}

Status LocalPostgres::Restart() {
  if (running_) return Status::Ok();
  return StartServer();
}

std::string LocalPostgres::Conninfo(std::string_view dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres password=" + password_ +
         " dbname=" + std::string(dbname);
}

Status LocalPostgres::EnsureDatabase(std::string_view name) const {
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos) {
    return ClusterError("'" + std::string(name) + "' is not a database name this tool creates ([a-z0-9_]+)");
  }
  // CREATE DATABASE cannot run inside a DO block; a duplicate is the one error to ignore.
  Status created = Execute("CREATE DATABASE \"" + std::string(name) + "\"");
  if (!created.ok() && created.message().find("already exists") == std::string::npos) return created;
  return Status::Ok();
}

Status LocalPostgres::Execute(const std::string& sql, std::string_view dbname) const {
  PGconn* conn = PQconnectdb(Conninfo(dbname).c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  while (!error.empty() && error.back() == '\n') error.pop_back();
  return error.empty() ? Status::Ok() : ClusterError(error);
}

}  // namespace meridian::storage
