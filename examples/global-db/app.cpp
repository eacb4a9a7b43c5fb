// global-db-app: seed 001's architecture on one machine, against a running two-region Meridian.
//
//   region A: PostgreSQL primary   <- the writer encrypts SSN and card number with the SDK
//   region B: streaming standby    <- the reader decrypts with region B's KMS only
//
// It starts both PostgreSQL servers (storage/postgres_standby.h), makes the application's
// database role with a random password, stores that password in Meridian Secrets Manager in
// region A replicated to region B, then for each key strategy (drill/key_strategies.h) writes
// customer records in A and reads them back from B's standby, the password read with
// GetSecretValue in the reader's own region. Optionally runs the JavaScript reader
// (js_reader.mjs: the AWS Encryption SDK for JavaScript) on the standby's rows, then fails region
// A for real (--region-a-pid: SIGKILL its Meridian process, crash-stop its PostgreSQL, promote
// B, read and write in B) and brings A's Meridian back alone (--region-a-config) to finish
// strategy 3's recovery.
//
// AWS credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). The
// report (--report FILE, JSON) lists the demo records it wrote, in clear, so a test can search
// the database files for them. Exit status 0 iff every strategy behaved as designed.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <signal.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "drill/encrypted_records.h"
#include "drill/key_strategies.h"
#include "drill/secrets_client.h"
#include "sdk/aws_credentials.h"
#include "storage/postgres_cluster.h"
#include "storage/postgres_standby.h"

namespace meridian::examples {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using drill::KeyStrategy;

constexpr char kDatabase[] = "globaldb";
constexpr char kAppRole[] = "app_user";
constexpr char kSecretName[] = "global-db/app-user";

struct Options {
  std::string work_dir;
  std::string region_a = "us-east-1", endpoint_a;
  std::string region_b = "eu-west-1", endpoint_b;
  int records = 20;
  std::string report_path;
  std::string js_reader;
  std::string node = "node";
  bool fsync = true;     // false: throwaway clusters (tests), faster
  int region_a_pid = 0;  // > 0: afterwards, kill region A (this Meridian process and the primary)
  // With region_a_pid: bring region A's Meridian back (`meridian server --config`) and finish
  // strategy 3's recovery (re-encrypt A's records for B on the promoted database).
  std::string meridian_bin;
  std::string region_a_config;
};

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void Say(const std::string& line) { std::cout << "global-db: " << line << std::endl; }

std::string TableFor(KeyStrategy strategy) {
  std::string name(drill::KeyStrategyName(strategy));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return "customers_" + name;
}

// n random decimal digits (demo data that no other byte string on disk matches by chance).
std::string RandomDigits(size_t n) {
  Bytes random = crypto::RandomBytes(n);
  std::string digits;
  for (uint8_t b : random) digits += static_cast<char>('0' + b % 10);
  return digits;
}

std::vector<drill::CustomerRecord> DemoRecords(int count) {
  static const char* kTenants[] = {"acme", "globex", "initech"};
  std::vector<drill::CustomerRecord> records;
  for (int i = 1; i <= count; ++i) {
    const std::string ssn = RandomDigits(9);
    records.push_back({i, kTenants[i % 3], "Customer " + std::to_string(i),
                       ssn.substr(0, 3) + "-" + ssn.substr(3, 2) + "-" + ssn.substr(5), "4" + RandomDigits(15)});
  }
  return records;
}

// The application's connection to one region's database: the role's password comes from the
// secret's JSON (read from that region's Secrets Manager), never from a file or the command line;
// the conninfo holding it is wiped once connected.
Result<std::unique_ptr<drill::EncryptedRecordStore>> OpenAppStore(const crypto::SecureBytes& secret_json,
                                                                  uint16_t port, const std::string& table) {
  MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes password, drill::JsonStringMember(secret_json, "password"));
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + kDatabase +
                         " user=" + kAppRole + " password=" +
                         std::string(reinterpret_cast<const char*>(password.data()), password.size());
  auto store = drill::EncryptedRecordStore::Connect({conninfo, table});
  crypto::Cleanse(conninfo);
  return store;
}

// Runs argv with `env` added, returns its standard output (standard error passes through).
Result<std::string> RunAndCapture(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                                  int& exit_code) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status("ExampleError", "pipe failed", 500);
  pid_t pid = fork();
  if (pid < 0) return Status("ExampleError", "fork failed", 500);
  if (pid == 0) {
    dup2(fds[1], 1);
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return out;
}

struct StrategyOutcome {
  KeyStrategy strategy;
  std::string table;
  drill::StrategyKeys keys;
  int written = 0;
  int replicated = 0;
  int decrypted_in_b = 0;  // with region B's KMS only, values equal to what A wrote
  std::string decrypt_in_b_error;
  int decrypted_through_a = 0;
  int reencrypted_for_b = 0;  // strategy 3: ReEncryptRecordForB, then opened with B's keyring
  double write_ms = 0, decrypt_in_b_ms = 0;
  // JS reader
  int js_rows = 0, js_matched = 0;
  std::string js_error;
  // After region A died (its Meridian region process killed, its PostgreSQL crash-stopped) and
  // B's standby was promoted: the same reads again, then a write in B.
  bool failed_over = false;
  int after_failover_decrypted_in_b = 0;
  int after_failover_decrypted_through_a = 0;
  std::string after_failover_through_a_error;
  bool after_failover_write_in_b = false;
  // Region A's Meridian back (its database stays dead): strategy 3 re-encrypts A's records for B.
  bool recovered = false;
  int after_recovery_reencrypted = 0;
  int after_recovery_decrypted_in_b = 0;  // every row of the promoted table, with B's KMS only
  double recovery_ms = 0;
  bool AsDesigned(bool js_ran) const {
    if (recovered && strategy == KeyStrategy::kRegionAOnlyReEncrypt &&
        (after_recovery_reencrypted != written || after_recovery_decrypted_in_b != written + 1)) {
      return false;
    }
    if (failed_over) {
      const bool a_data_readable = strategy != KeyStrategy::kRegionAOnlyReEncrypt;
      if (after_failover_decrypted_in_b != (a_data_readable ? written : 0) || after_failover_decrypted_through_a != 0 ||
          !after_failover_write_in_b) {
        return false;
      }
    }
    const bool all_in_b = decrypted_in_b == written && written > 0 && replicated == written;
    if (strategy == KeyStrategy::kRegionAOnlyReEncrypt) {
      return decrypted_in_b == 0 && decrypted_through_a == written && reencrypted_for_b == written &&
             replicated == written && (!js_ran || (js_rows == written && js_matched == 0));
    }
    return all_in_b && (!js_ran || (js_rows == written && js_matched == written));
  }
};

class Demo {
 public:
  explicit Demo(Options options) : options_(std::move(options)) {}

  Result<int> Run() {
    MERIDIAN_ASSIGN_OR_RETURN(credentials_, sdk::LoadAwsCredentials());
    kms_.region_a = options_.region_a;
    kms_.endpoint_a = options_.endpoint_a;
    kms_.region_b = options_.region_b;
    kms_.endpoint_b = options_.endpoint_b;
    kms_.credentials.access_key_id = credentials_.access_key_id;
    kms_.credentials.secret_access_key = credentials_.secret_access_key.Clone();
    kms_.http.timeout = std::chrono::milliseconds(5000);

    MERIDIAN_RETURN_IF_ERROR(StartDatabases());
    MERIDIAN_RETURN_IF_ERROR(StoreDatabasePassword());
    records_ = DemoRecords(options_.records);
    for (KeyStrategy strategy : drill::kAllKeyStrategies) {
      StrategyOutcome outcome;
      outcome.strategy = strategy;
      outcome.table = TableFor(strategy);
      MERIDIAN_RETURN_IF_ERROR(WriteInA(outcome));
      outcomes_.push_back(std::move(outcome));
    }
    MERIDIAN_RETURN_IF_ERROR(WaitForStandby());
    for (StrategyOutcome& outcome : outcomes_) MERIDIAN_RETURN_IF_ERROR(ReadInB(outcome));
    bool js_ran = false;
    if (!options_.js_reader.empty()) {
      MERIDIAN_RETURN_IF_ERROR(RunJsReader());
      js_ran = true;
    }
    if (options_.region_a_pid > 0) MERIDIAN_RETURN_IF_ERROR(FailOver());
    if (options_.region_a_pid > 0 && !options_.region_a_config.empty()) MERIDIAN_RETURN_IF_ERROR(RecoverWithRegionA());
    bool all_as_designed = true;
    for (const StrategyOutcome& o : outcomes_) {
      const bool ok = o.AsDesigned(js_ran);
      all_as_designed = all_as_designed && ok;
      std::string line = std::string(drill::KeyStrategyName(o.strategy)) + ": wrote " + std::to_string(o.written) +
                         " in " + options_.region_a + ", standby has " + std::to_string(o.replicated) + ", " +
                         options_.region_b + " decrypted " + std::to_string(o.decrypted_in_b) + " with its own KMS";
      if (o.strategy == KeyStrategy::kRegionAOnlyReEncrypt) {
        line += ", " + std::to_string(o.decrypted_through_a) + " through " + options_.region_a + "'s KMS, " +
                std::to_string(o.reencrypted_for_b) + " re-encrypted for " + options_.region_b;
      }
      if (js_ran) line += "; JS reader " + std::to_string(o.js_matched) + "/" + std::to_string(o.js_rows);
      if (o.failed_over) {
        line += "; with " + options_.region_a + " dead: " + std::to_string(o.after_failover_decrypted_in_b) +
                " decrypted in " + options_.region_b + ", " + std::to_string(o.after_failover_decrypted_through_a) +
                " through " + options_.region_a + ", write in " + options_.region_b +
                (o.after_failover_write_in_b ? " ok" : " FAILED");
      }
      if (o.recovered && o.strategy == KeyStrategy::kRegionAOnlyReEncrypt) {
        line += "; " + options_.region_a + "'s KMS back: " + std::to_string(o.after_recovery_reencrypted) +
                " re-encrypted for " + options_.region_b + " in " + std::to_string(static_cast<int>(o.recovery_ms)) +
                " ms, then " + std::to_string(o.after_recovery_decrypted_in_b) + " decrypted in " + options_.region_b;
      }
      Say(line + (ok ? "  [as designed]" : "  [NOT AS DESIGNED]"));
    }
    if (!options_.report_path.empty()) MERIDIAN_RETURN_IF_ERROR(WriteReport(js_ran));
    return all_as_designed ? 0 : 1;
  }

 private:
  Status StartDatabases() {
    const std::string dir_a = options_.work_dir + "/postgres-" + options_.region_a;
    const std::string dir_b = options_.work_dir + "/postgres-" + options_.region_b;
    for (const std::string& dir : {dir_a, dir_b}) {
      if (fs::exists(dir)) return errors::Validation(dir + " exists: give a fresh --work-dir");
      fs::create_directories(dir);
    }
    auto start = Clock::now();
    MERIDIAN_ASSIGN_OR_RETURN(primary_, storage::LocalPostgres::Start({dir_a, 0, options_.fsync}));
    MERIDIAN_RETURN_IF_ERROR(primary_->StopWhenThisProcessDies());
    // The application's role: its password is random, known only to Secrets Manager after this.
    crypto::SecureBytes random = crypto::RandomSecret(24);
    std::string password = HexEncode(random.view());
    std::string sql = std::string("CREATE ROLE ") + kAppRole + " LOGIN PASSWORD '" + password + "'";
    Status created = primary_->Execute(sql);
    crypto::Cleanse(sql);
    MERIDIAN_RETURN_IF_ERROR(created);
    MERIDIAN_RETURN_IF_ERROR(primary_->Execute(std::string("CREATE DATABASE ") + kDatabase + " OWNER " + kAppRole));
    std::string secret = std::string("{\"username\":\"") + kAppRole + "\",\"password\":\"" + password + "\"}";
    crypto::Cleanse(password);
    pending_secret_ = crypto::SecureBytes(ByteView(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
    crypto::Cleanse(secret);
    Say("PostgreSQL primary for " + options_.region_a + " on 127.0.0.1:" + std::to_string(primary_->port()));
    MERIDIAN_ASSIGN_OR_RETURN(standby_, storage::PostgresStandby::Start(*primary_, {dir_b, 0, "region_b_standby", std::chrono::seconds(60), options_.fsync}));
    MERIDIAN_RETURN_IF_ERROR(standby_->StopWhenThisProcessDies());
    Say("PostgreSQL standby for " + options_.region_b + " on 127.0.0.1:" + std::to_string(standby_->port()) +
        ", streaming (" + std::to_string(static_cast<int>(MillisSince(start))) + " ms)");
    return Status::Ok();
  }

  Status StoreDatabasePassword() {
    MERIDIAN_ASSIGN_OR_RETURN(secrets_a_, drill::SecretsClient::Create(options_.region_a, options_.endpoint_a, credentials_));
    MERIDIAN_ASSIGN_OR_RETURN(secrets_b_, drill::SecretsClient::Create(options_.region_b, options_.endpoint_b, credentials_));
    MERIDIAN_ASSIGN_OR_RETURN(secret_arn_,
                              secrets_a_->CreateReplicatedSecret(kSecretName, pending_secret_, {options_.region_b}));
    pending_secret_ = crypto::SecureBytes(0);  // wiped by SecureBytes
    Say("database password stored in Secrets Manager " + options_.region_a + " as " + kSecretName +
        ", replicated to " + options_.region_b);
    return Status::Ok();
  }

  Status WriteInA(StrategyOutcome& outcome) {
    MERIDIAN_ASSIGN_OR_RETURN(outcome.keys,
                              drill::CreateStrategyKeys(outcome.strategy, kms_, "meridian global-db example"));
    MERIDIAN_ASSIGN_OR_RETURN(auto keyrings, drill::StrategyKeyrings::Create(outcome.keys, kms_));
    // Region A's application: password from region A's Secrets Manager, records to the primary.
    MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes secret, secrets_a_->GetSecretString(kSecretName));
    MERIDIAN_ASSIGN_OR_RETURN(auto store, OpenAppStore(secret, primary_->port(), outcome.table));
    MERIDIAN_RETURN_IF_ERROR(store->CreateTable());
    auto start = Clock::now();
    for (const drill::CustomerRecord& record : records_) {
      MERIDIAN_RETURN_IF_ERROR(store->Insert(record, keyrings.EncryptInA()));
      ++outcome.written;
    }
    outcome.write_ms = MillisSince(start);
    Say(std::string(drill::KeyStrategyName(outcome.strategy)) + ": " + std::to_string(outcome.written) +
        " records written in " + options_.region_a + " under " + outcome.keys.key_a_arn);
    return Status::Ok();
  }

  Status WaitForStandby() {
    auto start = Clock::now();
    MERIDIAN_ASSIGN_OR_RETURN(uint64_t lsn, storage::PostgresStandby::CurrentLsn(*primary_));
    MERIDIAN_RETURN_IF_ERROR(standby_->WaitForReplay(lsn, std::chrono::seconds(30)));
    Say("standby replayed the primary's WAL up to byte " + std::to_string(lsn) + " (" +
        std::to_string(static_cast<int>(MillisSince(start))) + " ms)");
    return Status::Ok();
  }

  Status ReadInB(StrategyOutcome& outcome) {
    MERIDIAN_ASSIGN_OR_RETURN(auto keyrings, drill::StrategyKeyrings::Create(outcome.keys, kms_));
    // Region B's application: password from region B's Secrets Manager (the replica), rows from
    // region B's standby.
    MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes secret,
                              secrets_b_->WaitForSecretString(kSecretName, std::chrono::seconds(30)));
    MERIDIAN_ASSIGN_OR_RETURN(auto store, OpenAppStore(secret, standby_->port(), outcome.table));
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, store->ListSealed());
    outcome.replicated = static_cast<int>(rows.size());
    std::map<int64_t, const drill::CustomerRecord*> written;
    for (const auto& r : records_) written[r.id] = &r;
    auto start = Clock::now();
    for (const drill::SealedRecord& row : rows) {
      auto opened = drill::OpenRecord(row, outcome.table, keyrings.DecryptInB());
      if (opened.ok() && written.contains(row.id) && *opened == *written[row.id]) {
        ++outcome.decrypted_in_b;
      } else if (!opened.ok() && outcome.decrypt_in_b_error.empty()) {
        outcome.decrypt_in_b_error = opened.status().ToString();
      }
    }
    outcome.decrypt_in_b_ms = MillisSince(start);
    if (outcome.strategy == KeyStrategy::kRegionAOnlyReEncrypt) {
      for (const drill::SealedRecord& row : rows) {
        auto through_a = drill::OpenRecord(row, outcome.table, keyrings.DecryptThroughA());
        if (through_a.ok() && *through_a == *written[row.id]) ++outcome.decrypted_through_a;
        auto resealed = drill::ReEncryptRecordForB(row, outcome.table, keyrings);
        if (!resealed.ok()) continue;
        auto reopened = drill::OpenRecord(*resealed, outcome.table, keyrings.DecryptInB());
        if (reopened.ok() && *reopened == *written[row.id]) ++outcome.reencrypted_for_b;
      }
    }
    return Status::Ok();
  }

  // Region A dies: its Meridian region process is killed (SIGKILL) and its PostgreSQL crash-stops;
  // region B's standby is promoted; B reads everything again and writes, with B's KMS only.
  Status FailOver() {
    auto start = Clock::now();
    if (kill(options_.region_a_pid, SIGKILL) != 0) {
      return Status("ExampleError", "cannot kill region A's process " + std::to_string(options_.region_a_pid), 500);
    }
    MERIDIAN_RETURN_IF_ERROR(primary_->Stop(/*immediate=*/true));
    MERIDIAN_RETURN_IF_ERROR(standby_->Promote());
    Say(options_.region_a + " killed (Meridian SIGKILL, PostgreSQL immediate stop); " + options_.region_b +
        "'s standby promoted in " + std::to_string(static_cast<int>(MillisSince(start))) + " ms");
    std::map<int64_t, const drill::CustomerRecord*> written;
    for (const auto& r : records_) written[r.id] = &r;
    for (StrategyOutcome& outcome : outcomes_) {
      outcome.failed_over = true;
      MERIDIAN_ASSIGN_OR_RETURN(auto keyrings, drill::StrategyKeyrings::Create(outcome.keys, kms_));
      MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes secret, secrets_b_->GetSecretString(kSecretName));
      MERIDIAN_ASSIGN_OR_RETURN(auto store, OpenAppStore(secret, standby_->port(), outcome.table));
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, store->ListSealed());
      for (const drill::SealedRecord& row : rows) {
        auto local = drill::OpenRecord(row, outcome.table, keyrings.DecryptInB());
        if (local.ok() && written.contains(row.id) && *local == *written[row.id]) ++outcome.after_failover_decrypted_in_b;
        auto through_a = drill::OpenRecord(row, outcome.table, keyrings.DecryptThroughA());
        if (through_a.ok()) {
          ++outcome.after_failover_decrypted_through_a;
        } else if (outcome.after_failover_through_a_error.empty()) {
          outcome.after_failover_through_a_error = through_a.status().ToString();
        }
      }
      // A new customer in region B, on the promoted database, with B's KMS.
      drill::CustomerRecord fresh = DemoRecords(1).front();
      fresh.id = static_cast<int64_t>(records_.size()) + 1;
      Status wrote = store->Insert(fresh, keyrings.EncryptInB());
      auto read_back = wrote.ok() ? store->Get(fresh.id, keyrings.DecryptInB()) : Result<drill::CustomerRecord>(wrote);
      outcome.after_failover_write_in_b = read_back.ok() && *read_back == fresh;
      failover_records_.push_back(fresh);
    }
    return Status::Ok();
  }

  // Region A's Meridian comes back (a new `meridian server` on its data; A's PostgreSQL stays
  // dead, B's promoted database is the primary now). Strategy 3 can recover only now: each of A's
  // records is re-encrypted through A's KMS for B's key and rewritten in B.
  Status RecoverWithRegionA() {
    restarted_a_ = fork();
    if (restarted_a_ < 0) return Status("ExampleError", "fork failed", 500);
    if (restarted_a_ == 0) {
      const std::string log = options_.work_dir + "/meridian-" + options_.region_a + "-restarted.log";
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
      // `meridian up` gives its region processes the administrator's credentials this way.
      setenv("MERIDIAN_ADMIN_ACCESS_KEY_ID", credentials_.access_key_id.c_str(), 1);
      const std::string secret(reinterpret_cast<const char*>(credentials_.secret_access_key.data()),
                               credentials_.secret_access_key.size());
      setenv("MERIDIAN_ADMIN_SECRET_ACCESS_KEY", secret.c_str(), 1);
      execl(options_.meridian_bin.c_str(), options_.meridian_bin.c_str(), "server", "--config",
            options_.region_a_config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    auto start = Clock::now();
    for (StrategyOutcome& outcome : outcomes_) {
      if (outcome.strategy != KeyStrategy::kRegionAOnlyReEncrypt) continue;
      outcome.recovered = true;
      MERIDIAN_ASSIGN_OR_RETURN(auto keyrings, drill::StrategyKeyrings::Create(outcome.keys, kms_));
      const std::string describe = "{\"KeyId\":\"" + outcome.keys.key_a_arn + "\"}";
      Status up = errors::Validation("not tried");
      while (MillisSince(start) < 30000 && !(up = keyrings.kms_a()->Call("DescribeKey", describe).status()).ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      MERIDIAN_RETURN_IF_ERROR(up);
      Say(options_.region_a + "'s Meridian is back after " + std::to_string(static_cast<int>(MillisSince(start))) +
          " ms (its PostgreSQL stays dead)");
      MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes secret, secrets_b_->GetSecretString(kSecretName));
      MERIDIAN_ASSIGN_OR_RETURN(auto store, OpenAppStore(secret, standby_->port(), outcome.table));
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, store->ListSealed());
      auto recovery_start = Clock::now();
      for (const drill::SealedRecord& row : rows) {
        if (row.id > static_cast<int64_t>(records_.size())) continue;  // written in B: already B's key
        auto resealed = drill::ReEncryptRecordForB(row, outcome.table, keyrings);
        if (resealed.ok() && store->Write(*resealed, /*replace=*/true).ok()) ++outcome.after_recovery_reencrypted;
      }
      outcome.recovery_ms = MillisSince(recovery_start);
      MERIDIAN_ASSIGN_OR_RETURN(rows, store->ListSealed());
      for (const drill::SealedRecord& row : rows) {
        if (drill::OpenRecord(row, outcome.table, keyrings.DecryptInB()).ok()) ++outcome.after_recovery_decrypted_in_b;
      }
    }
    return Status::Ok();
  }

  void StopRestartedRegionA() {
    if (restarted_a_ <= 0) return;
    kill(restarted_a_, SIGTERM);
    int status = 0;
    while (waitpid(restarted_a_, &status, 0) < 0 && errno == EINTR) {
    }
    restarted_a_ = 0;
  }

 public:
  ~Demo() { StopRestartedRegionA(); }

 private:
  Status RunJsReader() {
    std::string tables;
    for (const StrategyOutcome& o : outcomes_) tables += (tables.empty() ? "" : ",") + o.table;
    std::map<std::string, std::string> env = {
        {"GLOBALDB_REGION", options_.region_b},   {"GLOBALDB_KMS_ENDPOINT", options_.endpoint_b},
        {"GLOBALDB_SECRET_ID", kSecretName},      {"GLOBALDB_PG_PORT", std::to_string(standby_->port())},
        {"GLOBALDB_DATABASE", kDatabase},         {"GLOBALDB_TABLES", tables},
        {"NODE_NO_WARNINGS", "1"}};
    int exit_code = 0;
    MERIDIAN_ASSIGN_OR_RETURN(std::string out, RunAndCapture({options_.node, options_.js_reader}, env, exit_code));
    rapidjson::Document doc;
    doc.Parse(out);
    crypto::Cleanse(out);
    if (exit_code != 0 || doc.HasParseError() || !doc.IsObject() || !doc.HasMember("tables") ||
        !doc["tables"].IsObject()) {
      return Status("ExampleError", "the JavaScript reader failed (exit " + std::to_string(exit_code) + ")", 500);
    }
    std::map<int64_t, const drill::CustomerRecord*> written;
    for (const auto& r : records_) written[r.id] = &r;
    for (StrategyOutcome& o : outcomes_) {
      if (!doc["tables"].HasMember(o.table.c_str())) continue;
      const auto& t = doc["tables"][o.table.c_str()];
      if (t.HasMember("rows") && t["rows"].IsInt()) o.js_rows = t["rows"].GetInt();
      if (t.HasMember("first_error") && t["first_error"].IsString()) o.js_error = t["first_error"].GetString();
      if (!t.HasMember("decrypted") || !t["decrypted"].IsArray()) continue;
      for (auto& row : t["decrypted"].GetArray()) {
        if (!row.IsObject() || !row.HasMember("id") || !row["id"].IsInt64() || !row.HasMember("ssn") ||
            !row["ssn"].IsString() || !row.HasMember("card_number") || !row["card_number"].IsString()) {
          continue;
        }
        auto it = written.find(row["id"].GetInt64());
        if (it != written.end() && it->second->ssn == row["ssn"].GetString() &&
            it->second->card_number == row["card_number"].GetString()) {
          ++o.js_matched;
        }
      }
    }
    return Status::Ok();
  }

  Status WriteReport(bool js_ran) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("region_a"); w.String(options_.region_a);
    w.Key("region_b"); w.String(options_.region_b);
    w.Key("secret_arn"); w.String(secret_arn_);
    w.Key("postgres_primary_dir"); w.String(options_.work_dir + "/postgres-" + options_.region_a);
    w.Key("postgres_standby_dir"); w.String(options_.work_dir + "/postgres-" + options_.region_b);
    w.Key("js_reader_ran"); w.Bool(js_ran);
    // Synthetic demo data, listed so that tests can search the database files for it.
    w.Key("records");
    w.StartArray();
    std::vector<drill::CustomerRecord> all = records_;
    all.insert(all.end(), failover_records_.begin(), failover_records_.end());
    for (const auto& r : all) {
      w.StartObject();
      w.Key("id"); w.Int64(r.id);
      w.Key("tenant"); w.String(r.tenant);
      w.Key("ssn"); w.String(r.ssn);
      w.Key("card_number"); w.String(r.card_number);
      w.EndObject();
    }
    w.EndArray();
    w.Key("strategies");
    w.StartArray();
    for (const StrategyOutcome& o : outcomes_) {
      w.StartObject();
      w.Key("strategy"); w.String(std::string(drill::KeyStrategyName(o.strategy)));
      w.Key("table"); w.String(o.table);
      w.Key("key_a"); w.String(o.keys.key_a_arn);
      w.Key("key_b"); w.String(o.keys.key_b_arn);
      w.Key("written"); w.Int(o.written);
      w.Key("replicated"); w.Int(o.replicated);
      w.Key("decrypted_in_b"); w.Int(o.decrypted_in_b);
      w.Key("decrypt_in_b_error"); w.String(o.decrypt_in_b_error);
      w.Key("decrypted_through_a"); w.Int(o.decrypted_through_a);
      w.Key("reencrypted_for_b"); w.Int(o.reencrypted_for_b);
      w.Key("write_ms"); w.Double(o.write_ms);
      w.Key("decrypt_in_b_ms"); w.Double(o.decrypt_in_b_ms);
      w.Key("js_rows"); w.Int(o.js_rows);
      w.Key("js_matched"); w.Int(o.js_matched);
      w.Key("js_first_error"); w.String(o.js_error);
      w.Key("failed_over"); w.Bool(o.failed_over);
      w.Key("after_failover_decrypted_in_b"); w.Int(o.after_failover_decrypted_in_b);
      w.Key("after_failover_decrypted_through_a"); w.Int(o.after_failover_decrypted_through_a);
      w.Key("after_failover_through_a_error"); w.String(o.after_failover_through_a_error);
      w.Key("after_failover_write_in_b"); w.Bool(o.after_failover_write_in_b);
      w.Key("recovered"); w.Bool(o.recovered);
      w.Key("after_recovery_reencrypted"); w.Int(o.after_recovery_reencrypted);
      w.Key("after_recovery_decrypted_in_b"); w.Int(o.after_recovery_decrypted_in_b);
      w.Key("recovery_ms"); w.Double(o.recovery_ms);
      w.Key("as_designed"); w.Bool(o.AsDesigned(js_ran));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::ofstream out(options_.report_path, std::ios::trunc);
    out << buffer.GetString() << "\n";
    if (!out) return Status("ExampleError", "cannot write " + options_.report_path, 500);
    return Status::Ok();
  }

  Options options_;
  sigv4::Credentials credentials_;
  drill::TwoRegionKms kms_;
  std::unique_ptr<storage::LocalPostgres> primary_;
  std::unique_ptr<storage::PostgresStandby> standby_;
  crypto::SecureBytes pending_secret_{0};
  std::unique_ptr<drill::SecretsClient> secrets_a_, secrets_b_;
  std::string secret_arn_;
  std::vector<drill::CustomerRecord> records_;
  std::vector<drill::CustomerRecord> failover_records_;
  pid_t restarted_a_ = 0;
  std::vector<StrategyOutcome> outcomes_;
};

}  // namespace
}  // namespace meridian::examples

int main(int argc, char** argv) {
  meridian::examples::Options options;
  CLI::App app{"Client-side-encrypted customer records written in region A, read from a PostgreSQL standby in "
               "region B, under three key strategies. See examples/global-db/README.md."};
  app.add_option("--work-dir", options.work_dir, "Fresh directory for the two PostgreSQL clusters")->required();
  app.add_option("--region-a", options.region_a, "Writer region");
  app.add_option("--endpoint-a", options.endpoint_a, "Region A's Meridian endpoint")->required();
  app.add_option("--region-b", options.region_b, "Reader region");
  app.add_option("--endpoint-b", options.endpoint_b, "Region B's Meridian endpoint")->required();
  app.add_option("--records", options.records, "Customer records per strategy")->check(CLI::Range(1, 100000));
  app.add_option("--report", options.report_path, "Write a JSON report here");
  app.add_option("--js-reader", options.js_reader, "Also run this JavaScript reader (js_reader.mjs) on B's rows");
  app.add_option("--node", options.node, "Node.js executable for --js-reader");
  app.add_option("--meridian-bin", options.meridian_bin, "With --region-a-pid: the meridian binary, to restart A");
  app.add_option("--region-a-config", options.region_a_config,
                 "With --region-a-pid: region A's server.json; A's Meridian is restarted from it after the "
                 "failover reads, and strategy 3's records are re-encrypted for B");
  app.add_flag("!--no-fsync", options.fsync, "Throwaway PostgreSQL clusters without fsync (tests)");
  app.add_option("--region-a-pid", options.region_a_pid,
                 "Afterwards, fail region A: SIGKILL this process (region A's `meridian server`), crash-stop A's "
                 "PostgreSQL, promote B's standby, and read and write in B again");
  CLI11_PARSE(app, argc, argv);
  meridian::examples::Demo demo(std::move(options));
  auto result = demo.Run();
  if (!result.ok()) {
    std::cerr << "global-db: " << result.status().ToString() << std::endl;
    return 2;
  }
  return *result;
}
