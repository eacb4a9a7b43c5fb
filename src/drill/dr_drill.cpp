#include "drill/dr_drill.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "drill/dr_secret_rotation.h"
#include "drill/encrypted_records.h"
#include "drill/timeline.h"
#include "sdk/multi_keyring.h"
#include "storage/postgres_cluster.h"
#include "storage/postgres_standby.h"

namespace meridian::drill {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kDatabase[] = "drill";
constexpr int kConnectTimeoutSeconds = 2;
// KMS calls to a dead region are refused at once; a hung one must not stall the workload long.
constexpr milliseconds kKmsTimeout{3000};

Status DrillError(std::string message) { return Status("DrillException", std::move(message), 500); }

std::string StrategyTitle(KeyStrategy strategy) {
  switch (strategy) {
    case KeyStrategy::kMultiRegionKey:
      return "one MRK replicated";
    case KeyStrategy::kPerRegionMultiKeyring:
      return "per-region keys, multi-keyring";
    case KeyStrategy::kRegionAOnlyReEncrypt:
      return "key in A only, ReEncrypt via A";
  }
  return "?";
}

// Sleeps so that calls come at a steady rate; never bursts to catch up after a slow call.
class Pacer {
 public:
  explicit Pacer(double per_second)
      : interval_(std::chrono::microseconds(static_cast<int64_t>(1e6 / std::max(per_second, 0.1)))),
        next_(Clock::now()) {}
  void Wait() {
    const auto now = Clock::now();
    if (next_ > now) std::this_thread::sleep_until(next_);
    next_ = std::max(next_, now) + interval_;
  }

 private:
  Clock::duration interval_;
  Clock::time_point next_;
};

// What the controller and the two workload threads share.
struct Workload {
  Timeline timeline;
  std::atomic<bool> stop{false};
  // Set by the controller once B's database is promoted: the writer moves there.
  std::atomic<bool> failed_over{false};
  std::string b_conninfo;  // written before failed_over is set, read after
  // Ids below this were written in A (set by the writer before its first write in B).
  std::atomic<int64_t> first_b_id{INT64_MAX};
  std::atomic<int64_t> first_b_write_ok_us{-1};
  std::atomic<int64_t> last_read_ok_started_us{-1};

  std::mutex mu;
  std::vector<AcknowledgedWrite> acknowledged_in_a;  // guarded by mu
  std::string last_write_error, last_read_error;     // guarded by mu
};

void RunWriter(Workload& w, const std::string& a_conninfo, const StrategyKeyrings& keyrings, double rate) {
  Pacer pacer(rate);
  std::unique_ptr<EncryptedRecordStore> store;
  std::string target = a_conninfo;
  std::shared_ptr<const sdk::Keyring> keyring = keyrings.EncryptInA();
  bool in_b = false;
  int64_t next_id = 1;
  while (!w.stop.load()) {
    pacer.Wait();
    if (!in_b && w.failed_over.load()) {
      // The application moves to region B: B's database, B's keyring.
      in_b = true;
      target = w.b_conninfo;
      keyring = keyrings.EncryptInB();
      store.reset();
      w.first_b_id.store(next_id);
    }
    const int64_t started = w.timeline.NowUs();
    Status st = Status::Ok();
    if (!store) {
      auto connected = EncryptedRecordStore::Connect({target, kDefaultRecordTable, kConnectTimeoutSeconds});
      if (connected.ok())
        store = std::move(connected).value();
      else
        st = connected.status();
    }
    if (store) {
      const int64_t id = next_id++;
      st = store->Insert(DrillRecord(id), keyring);
      if (st.ok()) {
        const int64_t now = w.timeline.NowUs();
        if (in_b) {
          int64_t none = -1;
          w.first_b_write_ok_us.compare_exchange_strong(none, now);
        } else {
          std::lock_guard<std::mutex> lock(w.mu);
          w.acknowledged_in_a.push_back({id, now});
        }
      } else if (st.type() == "StorageException") {
        store.reset();  // the server went away: connect again next time
      }
    }
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(w.mu);
      w.last_write_error = st.ToString();
    }
    w.timeline.Record(Operation::kWrite, st.ok(), started);
  }
}

// Reads records written in A, in B, at random among those B's database has.
void RunReader(Workload& w, const std::string& b_conninfo, std::shared_ptr<const sdk::Keyring> keyring, double rate) {
  Pacer pacer(rate);
  std::unique_ptr<EncryptedRecordStore> store;
  std::vector<int64_t> known;  // ids written in A that B's database has
  int64_t cursor = INT64_MIN;
  std::mt19937_64 random(static_cast<uint64_t>(::getpid()));
  for (uint64_t round = 0; !w.stop.load(); ++round) {
    pacer.Wait();
    const int64_t started = w.timeline.NowUs();
    Status st = Status::Ok();
    if (!store) {
      auto connected = EncryptedRecordStore::Connect({b_conninfo, kDefaultRecordTable, kConnectTimeoutSeconds});
      if (connected.ok())
        store = std::move(connected).value();
      else
        st = connected.status();
    }
    if (store && (known.empty() || round % 5 == 0)) {
      auto fresh = store->ListSealed(cursor, 500);
      if (fresh.ok()) {
        const int64_t first_b_id = w.first_b_id.load();  // after the list: see Workload::first_b_id
        for (const auto& r : *fresh) {
          cursor = r.id;
          if (r.id < first_b_id) known.push_back(r.id);
        }
      } else {
        st = fresh.status();
      }
    }
    if (st.ok() && known.empty()) continue;  // nothing replicated yet: no request to count
    if (st.ok()) {
      const int64_t id = known[random() % known.size()];
      auto record = store->Get(id, keyring);
      if (!record.ok())
        st = record.status();
      else if (!(*record == DrillRecord(id)))
        st = DrillError("record " + std::to_string(id) + " decrypted to something else than was written");
    }
    if (st.ok()) {
      w.last_read_ok_started_us.store(started);
    } else {
      if (st.type() == "StorageException") store.reset();
      std::lock_guard<std::mutex> lock(w.mu);
      w.last_read_error = st.ToString();
    }
    w.timeline.Record(Operation::kRead, st.ok(), started);
  }
}

// The writer and reader threads; the destructor stops and joins them.
class WorkloadThreads {
 public:
  WorkloadThreads(Workload& w, std::thread writer, std::thread reader)
      : w_(w), writer_(std::move(writer)), reader_(std::move(reader)) {}
  ~WorkloadThreads() { Stop(); }
  void Stop() {
    w_.stop.store(true);
    if (writer_.joinable()) writer_.join();
    if (reader_.joinable()) reader_.join();
  }

 private:
  Workload& w_;
  std::thread writer_, reader_;
};

// Opens every record `ids` in B's database with `keyring` and compares it with what was written.
DecryptCheck CheckDecrypts(const std::string& conninfo, const std::vector<int64_t>& ids,
                           const std::shared_ptr<const sdk::Keyring>& keyring) {
  DecryptCheck check;
  check.checked = ids.size();
  auto store = EncryptedRecordStore::Connect({conninfo, kDefaultRecordTable, kConnectTimeoutSeconds});
  if (!store.ok()) {
    check.first_error = store.status().ToString();
    return check;
  }
  for (int64_t id : ids) {
    auto record = (*store)->Get(id, keyring);
    if (record.ok() && *record == DrillRecord(id)) {
      ++check.decrypted;
    } else if (check.first_error.empty()) {
      check.first_error = record.ok() ? "record " + std::to_string(id) + " decrypted to something else"
                                      : record.status().ToString();
    }
  }
  return check;
}

Result<std::vector<int64_t>> IdsWrittenInA(const std::string& conninfo, int64_t first_b_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto store,
                            EncryptedRecordStore::Connect({conninfo, kDefaultRecordTable, kConnectTimeoutSeconds}));
  MERIDIAN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, store->ListIds());
  ids.erase(std::remove_if(ids.begin(), ids.end(), [&](int64_t id) { return id >= first_b_id; }), ids.end());
  return ids;
}

// Strategy (3)'s recovery: every record written in A, re-encrypted for B (needs A's KMS).
Status ReEncryptForB(const std::string& conninfo, const std::vector<int64_t>& ids, const StrategyKeyrings& keyrings,
                     size_t& done) {
  MERIDIAN_ASSIGN_OR_RETURN(auto store,
                            EncryptedRecordStore::Connect({conninfo, kDefaultRecordTable, kConnectTimeoutSeconds}));
  for (int64_t id : ids) {
    MERIDIAN_ASSIGN_OR_RETURN(SealedRecord sealed, store->GetSealed(id));
    MERIDIAN_ASSIGN_OR_RETURN(SealedRecord resealed, ReEncryptRecordForB(sealed, kDefaultRecordTable, keyrings));
    MERIDIAN_RETURN_IF_ERROR(store->Write(resealed, /*replace=*/true));
    ++done;
  }
  return Status::Ok();
}

// Waits until `ready()` or the timeout; false on timeout.
template <typename Ready>
bool WaitFor(Ready ready, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

// PostgreSQL runs as the postgres user when this process is root: it must get through `dir`.
Status MakeDirectory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return DrillError("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), ::geteuid() == 0 ? 0711 : 0700);
  return Status::Ok();
}

class StrategyRun {
 public:
  StrategyRun(KeyStrategy strategy, const DrillOptions& o, const RegionLauncher& launch, StrategyResult& result)
      : strategy_(strategy), o_(o), launch_(launch), result_(result) {}

  Status Run(const std::string& dir) {
    const std::string& a = o_.regions[0];
    const std::string& b = o_.regions[1];
    MERIDIAN_RETURN_IF_ERROR(MakeDirectory(dir));
    MERIDIAN_RETURN_IF_ERROR(MakeDirectory(dir + "/meridian"));
    MERIDIAN_RETURN_IF_ERROR(MakeDirectory(dir + "/pg-" + a));
    MERIDIAN_RETURN_IF_ERROR(MakeDirectory(dir + "/pg-" + b));

    // Declared in this order so that they stop in the reverse one: workload, standby, primary, regions.
    Progress("starting Meridian regions");
    MERIDIAN_ASSIGN_OR_RETURN(std::unique_ptr<RegionProcesses> regions, launch_(dir + "/meridian", o_.regions));
    Progress("starting PostgreSQL primary (" + a + ") and streaming standby (" + b + ")");
    MERIDIAN_ASSIGN_OR_RETURN(auto primary,
                              storage::LocalPostgres::Start({.directory = dir + "/pg-" + a, .port = 0, .fsync = true}));
    MERIDIAN_RETURN_IF_ERROR(primary->StopWhenThisProcessDies());
    MERIDIAN_RETURN_IF_ERROR(primary->EnsureDatabase(kDatabase));
    {
      MERIDIAN_ASSIGN_OR_RETURN(auto store, EncryptedRecordStore::Connect({primary->Conninfo(kDatabase)}));
      MERIDIAN_RETURN_IF_ERROR(store->CreateTable());
    }
    MERIDIAN_ASSIGN_OR_RETURN(auto standby, storage::PostgresStandby::Start(*primary, {.directory = dir + "/pg-" + b}));
    MERIDIAN_RETURN_IF_ERROR(standby->StopWhenThisProcessDies());
    const std::string b_conninfo = standby->Conninfo(kDatabase);

    Progress("creating keys");
    TwoRegionKms kms{a, regions->Endpoint(a), b, regions->Endpoint(b), regions->AdminCredentials(), {}};
    kms.http.timeout = kKmsTimeout;
    MERIDIAN_ASSIGN_OR_RETURN(StrategyKeys keys, CreateStrategyKeys(strategy_, kms, "meridian dr-drill"));
    MERIDIAN_ASSIGN_OR_RETURN(StrategyKeyrings keyrings, StrategyKeyrings::Create(keys, kms));
    // How the application in B reads A's records: (1), (2) with B's KMS alone; (3) with B's key
    // for what was re-encrypted for B, else through A's KMS.
    std::shared_ptr<const sdk::Keyring> read_in_b = keyrings.DecryptInB();
    if (strategy_ == KeyStrategy::kRegionAOnlyReEncrypt) {
      MERIDIAN_ASSIGN_OR_RETURN(read_in_b, sdk::MultiKeyring::Create(nullptr, {keyrings.DecryptInB(),
                                                                              keyrings.DecryptThroughA()}));
    }

    // The application's database password, mid-rotation when A fails (drill/dr_secret_rotation.h).
    std::optional<SecretRotationDrill> rotation;
    if (o_.secret_rotation) {
      Progress("database password in Secrets Manager (replicated to " + b + "), rotation started");
      auto begun = SecretRotationDrill::Begin(kms, *primary, kDatabase, kDefaultRecordTable);
      if (begun.ok()) {
        rotation.emplace(std::move(begun).value());
      } else {
        result_.secret_rotation.attempted = true;
        result_.secret_rotation.note = "could not start: " + begun.status().ToString();
      }
    }

    Workload w;
    w.b_conninfo = b_conninfo;
    Progress("workload: " + std::to_string(static_cast<int>(o_.rate)) + " writes/s in " + a + ", as many reads/s in " +
             b + ", for " + std::to_string(o_.duration.count()) + " ms");
    WorkloadThreads threads(w, std::thread(RunWriter, std::ref(w), primary->Conninfo(kDatabase), std::cref(keyrings), o_.rate),
                            std::thread(RunReader, std::ref(w), b_conninfo, read_in_b, o_.rate));
    std::this_thread::sleep_for(o_.duration);

    // The failure: region A's Meridian process and its PostgreSQL die.
    Progress("killing region " + a + " (SIGKILL of its Meridian process, immediate stop of its PostgreSQL)");
    const int64_t killed_at_us = w.timeline.NowUs();
    const auto killed_at = Clock::now();
    MERIDIAN_RETURN_IF_ERROR(regions->Kill(a));
    MERIDIAN_RETURN_IF_ERROR(primary->Stop(/*immediate=*/true));

    // Failover: promote B's standby, move the application there.
    const auto promote_start = Clock::now();
    MERIDIAN_RETURN_IF_ERROR(
        standby->Promote(std::chrono::duration_cast<std::chrono::seconds>(o_.recovery_timeout)));
    result_.promotion_ms = MsSince(promote_start);
    Progress("standby promoted in " + std::to_string(result_.promotion_ms) + " ms; the application moves to " + b);
    w.failed_over.store(true);
    if (!WaitFor([&] { return w.first_b_write_ok_us.load() >= 0; }, o_.recovery_timeout)) {
      std::lock_guard<std::mutex> lock(w.mu);
      return DrillError("no write succeeded in " + b + " after failover: " + w.last_write_error);
    }
    MERIDIAN_ASSIGN_OR_RETURN(std::vector<int64_t> a_ids, IdsWrittenInA(b_conninfo, w.first_b_id.load()));
    if (rotation) {
      Progress("the application reads its database password in " + b + "; the rotation finishes there");
      result_.secret_rotation = rotation->FinishInB(standby->server());
    }

    int64_t restored_at_us = -1;
    if (strategy_ != KeyStrategy::kRegionAOnlyReEncrypt) {
      Progress("decrypting every record written in " + a + " in " + b + " (" + std::to_string(a_ids.size()) + ")");
      result_.decrypt_while_a_down = CheckDecrypts(b_conninfo, a_ids, keyrings.DecryptInB());
    } else {
      Progress("decrypting every record written in " + a + " in " + b + " while " + a + " is down");
      result_.decrypt_while_a_down = CheckDecrypts(b_conninfo, a_ids, read_in_b);
      std::this_thread::sleep_until(killed_at + o_.region_a_down);
      Progress("restarting region " + a + "'s Meridian process (its database stays lost)");
      restored_at_us = w.timeline.NowUs();
      result_.region_a_restored_at_ms = MsSince(killed_at);
      MERIDIAN_RETURN_IF_ERROR(regions->Restart(a));
      if (!WaitFor([&] { return w.last_read_ok_started_us.load() >= restored_at_us; }, o_.recovery_timeout)) {
        std::lock_guard<std::mutex> lock(w.mu);
        return DrillError("no read succeeded in " + b + " after region " + a + " came back: " + w.last_read_error);
      }
      Progress("re-encrypting every record written in " + a + " for " + b + " through " + a + "'s KMS");
      const auto reencrypt_start = Clock::now();
      Status reencrypted = ReEncryptForB(b_conninfo, a_ids, keyrings, result_.reencrypted_records);
      result_.reencrypt_ms = MsSince(reencrypt_start);
      if (!reencrypted.ok()) result_.reencrypt_error = reencrypted.ToString();
      result_.decrypt_after_a_restored = CheckDecrypts(b_conninfo, a_ids, keyrings.DecryptInB());
    }
    std::this_thread::sleep_for(o_.observe);
    threads.Stop();

    // Figures.
    const std::vector<TimelineEvent> events = w.timeline.Events();
    result_.requests = events.size();
    result_.timeline = BucketTimeline(events, killed_at_us, o_.bucket_ms);
    // The outage as the operator sees it: from the kill on.
    std::vector<TimelineBucket> after_kill;
    for (const auto& bucket : result_.timeline)
      if (bucket.start_ms >= 0) after_kill.push_back(bucket);
    result_.longest_outage_ms = LongestOutageMs(after_kill, o_.bucket_ms);
    const int64_t write_back = FirstSuccessSentAtOrAfter(events, Operation::kWrite, killed_at_us);
    const int64_t read_back = FirstSuccessSentAtOrAfter(events, Operation::kRead, killed_at_us);
    if (write_back >= 0 && read_back >= 0) {
      const int64_t served = std::max(write_back, read_back);
      result_.rto_ms = (served - killed_at_us) / 1000;
      result_.recovered_without_region_a = restored_at_us < 0 || served < restored_at_us;
    }
    std::set<int64_t> present_in_b;
    {
      MERIDIAN_ASSIGN_OR_RETURN(auto store, EncryptedRecordStore::Connect({b_conninfo}));
      MERIDIAN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, store->ListIds());
      present_in_b.insert(ids.begin(), ids.end());
    }
    {
      std::lock_guard<std::mutex> lock(w.mu);
      result_.rpo = ComputeRpo(w.acknowledged_in_a, present_in_b, killed_at_us);
    }
    result_.completed = true;
    Progress("done: RPO " + std::to_string(result_.rpo.lost) + " writes, RTO " + std::to_string(result_.rto_ms) +
             " ms; stopping");
    return Status::Ok();
  }

 private:
  void Progress(const std::string& line) const {
    if (o_.progress != nullptr)
      *o_.progress << "dr-drill: strategy " << static_cast<int>(strategy_) << " (" << KeyStrategyName(strategy_)
                   << "): " << line << std::endl;
  }

  KeyStrategy strategy_;
  const DrillOptions& o_;
  const RegionLauncher& launch_;
  StrategyResult& result_;
};

}  // namespace

CustomerRecord DrillRecord(int64_t id) {
  // Digits derived from the id (a fixed mix), so that neighbouring records differ everywhere.
  uint64_t x = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 29;
  auto digits = [&x](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      s += static_cast<char>('0' + (x >> 33) % 10);
    }
    return s;
  };
  CustomerRecord r;
  r.id = id;
  r.tenant = "tenant-" + std::to_string(id % 7);
  r.name = "Customer " + std::to_string(id);
  r.ssn = digits(3) + "-" + digits(2) + "-" + digits(4);
  r.card_number = "4" + digits(15);
  return r;
}

Result<DrillReport> RunDrill(const DrillOptions& options, const RegionLauncher& launch_regions) {
  if (options.strategies.empty()) return errors::Validation("dr-drill: no strategy to run");
  if (options.regions.size() < 2) return errors::Validation("dr-drill: needs two regions (A fails, B takes over)");
  if (options.rate <= 0) return errors::Validation("dr-drill: the rate must be positive");
  if (options.bucket_ms <= 0) return errors::Validation("dr-drill: the bucket width must be positive");
  MERIDIAN_RETURN_IF_ERROR(MakeDirectory(options.data_dir));
  DrillReport report;
  report.regions = options.regions;
  report.duration_s = static_cast<double>(options.duration.count()) / 1000.0;
  report.bucket_ms = options.bucket_ms;
  for (KeyStrategy strategy : options.strategies) {
    StrategyResult result;
    result.strategy = static_cast<int>(strategy);
    result.name = StrategyTitle(strategy);
    const std::string dir = options.data_dir + "/strategy-" + std::to_string(result.strategy);
    Status st = StrategyRun(strategy, options, launch_regions, result).Run(dir);
    if (!st.ok()) {
      result.completed = false;
      result.error = st.ToString();
      if (options.progress != nullptr)
        *options.progress << "dr-drill: strategy " << result.strategy << " failed: " << result.error << std::endl;
    }
    if (!options.keep) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
    report.strategies.push_back(std::move(result));
  }
  return report;
}

}  // namespace meridian::drill
