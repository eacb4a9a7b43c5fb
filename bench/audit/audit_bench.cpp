// Audit log group-commit micro-benchmark: durable appends per second.
//
//   BM_Append/synced/threads:N N threads each calling the blocking Append (one request thread
//                              waiting for its record, as a thread-per-request server would);
//   BM_Append/written/...      the same with Durability::kWritten (acknowledged after write(2));
//   BM_AppendAsync/W           one thread keeping W records in flight with AppendAsync (as an
//                              event-loop server would, completing responses from the callback).
// Counters: appends/s (items_per_second), fsyncs/s, records per write(2) batch and per fsync.
// The log directory is $AUDIT_BENCH_DIR or the system temp directory; fsync cost depends on it.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "audit/audit_log.h"
#include "audit/redaction.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"

namespace {

using meridian::audit::AuditLog;
using meridian::audit::AuditRecord;

std::string BenchDir() {
  const char* env = std::getenv("AUDIT_BENCH_DIR");
  std::filesystem::path base = env ? env : std::filesystem::temp_directory_path();
  return (base / ("meridian-audit-bench-" + std::to_string(::getpid()))).string();
}

// A typical KMS Decrypt record (~900 bytes as a line).
AuditRecord TypicalRecord() {
  AuditRecord r;
  r.event_source = std::string(meridian::audit::kKmsEventSource);
  r.event_name = "Decrypt";
  r.source_ip_address = "10.1.2.3";
  r.user_agent = "aws-sdk-java/2.25.0 Linux/6.1 OpenJDK_64-Bit_Server_VM/17";
  r.user_identity.type = "AssumedRole";
  r.user_identity.principal_id = "AROAEXAMPLE:app";
  r.user_identity.arn = "arn:aws:sts::111122223333:assumed-role/app/i-0abc";
  r.user_identity.account_id = "111122223333";
  r.user_identity.access_key_id = "ASIAEXAMPLEEXAMPLE";
  r.request_parameters = meridian::audit::RedactMessageJson(
      meridian::audit::kKmsEventSource,
      R"({"CiphertextBlob":"AQIDBAUGBwgJCgsMDQ4PEA==","EncryptionContext":{"tenant":"acme","table":"orders"},"EncryptionAlgorithm":"SYMMETRIC_DEFAULT"})");
  r.resources.push_back({"arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
                         std::string(meridian::audit::kKmsKeyResourceType), "111122223333"});
  r.request_id = "c0ffee00-1234-4abc-8def-0123456789ab";
  r.read_only = true;
  r.recipient_account_id = "111122223333";
  r.authorization.decision = "Allow";
  r.authorization.matched_statement = "AllowUseOfTheKey";
  r.authorization.policy = "key-policy";
  return r;
}

struct Fixture {
  std::string dir = BenchDir();
  meridian::crypto::RootKey root = meridian::crypto::RootKey::FromBytes(meridian::crypto::RandomBytes(32));
  std::unique_ptr<AuditLog> log;

  explicit Fixture(meridian::audit::Durability durability = meridian::audit::Durability::kSynced) {
    std::filesystem::remove_all(dir);
    meridian::audit::AuditLogOptions o;
    o.directory = dir;
    o.region = "us-east-1";
    o.durability = durability;
    auto opened = AuditLog::Open(o, root);
    if (!opened.ok()) std::abort();
    log = std::move(*opened);
  }
  ~Fixture() {
    (void)log->Close();
    log.reset();
    std::filesystem::remove_all(dir);
  }
  void Report(benchmark::State& state, meridian::audit::AuditLogStats before) {
    auto after = log->stats();
    const double records = static_cast<double>(after.records_written - before.records_written);
    const double batches = static_cast<double>(after.batches - before.batches);
    const double syncs = static_cast<double>(after.syncs - before.syncs);
    state.counters["fsyncs/s"] = benchmark::Counter(syncs, benchmark::Counter::kIsRate);
    state.counters["records/write"] = batches ? records / batches : 0;
    state.counters["records/fsync"] = syncs ? records / syncs : 0;
  }
};

Fixture* g_fixture = nullptr;
meridian::audit::AuditLogStats g_before;

template <meridian::audit::Durability kDurability>
void BM_Append(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_fixture = new Fixture(kDurability);
    g_before = g_fixture->log->stats();
  }
  const AuditRecord record = TypicalRecord();
  for (auto _ : state) {
    if (!g_fixture->log->Append(record).ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    g_fixture->Report(state, g_before);
    delete g_fixture;
    g_fixture = nullptr;
  }
}
BENCHMARK(BM_Append<meridian::audit::Durability::kSynced>)->Name("BM_Append/synced")
    ->ThreadRange(1, 16)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Append<meridian::audit::Durability::kWritten>)->Name("BM_Append/written")
    ->ThreadRange(1, 16)->UseRealTime()->MinTime(2.0);

void BM_AppendAsync(benchmark::State& state) {
  Fixture fixture;
  const auto before = fixture.log->stats();
  const AuditRecord record = TypicalRecord();
  const int64_t window = state.range(0);
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0;
  for (auto _ : state) {
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return in_flight < window; });
      ++in_flight;
    }
    fixture.log->AppendAsync(record, [&](const meridian::Status&, uint64_t) {
      std::lock_guard<std::mutex> lk(mu);
      --in_flight;
      cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lk(mu);
  cv.wait(lk, [&] { return in_flight == 0; });
  state.SetItemsProcessed(state.iterations());
  fixture.Report(state, before);
}
BENCHMARK(BM_AppendAsync)->Arg(64)->Arg(1024)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
