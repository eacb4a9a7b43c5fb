// AuditLog: records, chain, rotation, digests, recovery, group commit and failure policy.
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "audit/digest.h"
#include "audit/log_format.h"
#include "audit/test_util.h"
#include "audit/verify.h"
#include "common/encoding.h"

namespace meridian::audit {
namespace {

using testing::Lines;
using testing::ReadFile;
using testing::SampleRecord;

class AuditLogTest : public testing::AuditDirTest {
 protected:
  // All record lines of the directory, in file order.
  std::vector<std::string> AllLines() {
    std::vector<std::string> out;
    auto files = ListLogFiles(dir());
    EXPECT_TRUE(files.ok());
    for (const auto& f : *files)
      for (auto& l : Lines(ReadFile(f.path))) out.push_back(l);
    return out;
  }
  VerifyReport Verify() {
    auto report = VerifyAuditDirectory(VerifyOptions{dir(), {}, {}, "", ""});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }
  size_t CountFiles(bool (*parse)(std::string_view, uint32_t&)) {
    size_t n = 0;
    uint32_t num;
    for (const auto& e : std::filesystem::directory_iterator(dir())) n += parse(e.path().filename().string(), num);
    return n;
  }
};

TEST_F(AuditLogTest, EachAppendIsOneChainedLineWithTheRecordsFields) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  for (int i = 1; i <= 10; ++i) {
    AuditRecord r = SampleRecord(i, i % 2 ? "Encrypt" : "Decrypt");
    if (i == 4) {  // an unauthenticated, denied call is recorded too
      r.user_identity = UserIdentity{};
      r.error_code = "IncompleteSignatureException";
      r.authorization.decision = "NotEvaluated";
    }
    uint64_t seq = 0;
    ASSERT_TRUE(log->Append(std::move(r), &seq).ok());
    EXPECT_EQ(seq, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(log->stats().records_written, 10u);
  EXPECT_EQ(log->stats().last_sequence, 10u);
  auto lines = AllLines();
  ASSERT_EQ(lines.size(), 10u);
  ChainHash previous = GenesisHash();
  for (size_t i = 0; i < lines.size(); ++i) {
    LineHeader h;
    ASSERT_TRUE(ParseLineHeader(lines[i], h)) << lines[i];
    EXPECT_EQ(h.sequence, i + 1);
    EXPECT_EQ(h.previous, previous);
    previous = LineHash(lines[i]);
    rapidjson::Document d;
    d.Parse(lines[i].c_str());
    ASSERT_FALSE(d.HasParseError());
    EXPECT_EQ(d["sequence"].GetUint64(), i + 1);
    EXPECT_STREQ(d["eventName"].GetString(), (i + 1) % 2 ? "Encrypt" : "Decrypt");
    EXPECT_STREQ(d["requestID"].GetString(), ("req-" + std::to_string(i + 1)).c_str());
    EXPECT_EQ(std::string(d["eventID"].GetString()).size(), 36u);  // assigned by the log
    EXPECT_STREQ(d["awsRegion"].GetString(), "us-east-1");
  }
  rapidjson::Document denied;
  denied.Parse(lines[3].c_str());
  EXPECT_STREQ(denied["userIdentity"]["type"].GetString(), "Unknown");
  EXPECT_STREQ(denied["errorCode"].GetString(), "IncompleteSignatureException");
  ASSERT_TRUE(log->Close().ok());
  EXPECT_TRUE(Verify().intact);
}

TEST_F(AuditLogTest, StampsTimeIdAndRegionWhenMissing) {
  ManualClock clock(1714564800000);
  auto o = Options();
  o.clock = &clock;
  o.region = "eu-west-1";
  auto log = OpenLog(o);
  AuditRecord r;
  r.event_source = std::string(kKmsEventSource);
  r.event_name = "ListKeys";
  ASSERT_TRUE(log->Append(r).ok());
  ASSERT_TRUE(log->Close().ok());
  auto rec = ParseRecord(AllLines().at(0));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->event_time_ms, 1714564800000);
  EXPECT_EQ(rec->aws_region, "eu-west-1");
  EXPECT_FALSE(rec->event_id.empty());
}

TEST_F(AuditLogTest, RotatesBySizeAndKeepsOneChain) {
  auto o = Options();
  o.max_file_bytes = 3000;
  auto log = OpenLog(o);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  ASSERT_TRUE(log->Close().ok());
  auto files = ListLogFiles(dir());
  ASSERT_TRUE(files.ok());
  EXPECT_GE(files->size(), 5u);
  for (const auto& f : *files) EXPECT_LT(std::filesystem::file_size(f.path), 3000u + 1500u);
  EXPECT_EQ(AllLines().size(), 40u);
  auto report = Verify();
  EXPECT_TRUE(report.intact);
  EXPECT_EQ(report.last_sequence, 40u);
  EXPECT_EQ(report.last_signed_sequence, 40u);
}

TEST_F(AuditLogTest, RotatesByAge) {
  ManualClock clock(1714564800000);
  auto o = Options();
  o.clock = &clock;
  o.max_file_age_ms = 60'000;
  auto log = OpenLog(o);
  ASSERT_TRUE(log->Append(SampleRecord(1)).ok());
  ASSERT_TRUE(log->Append(SampleRecord(2)).ok());
  clock.Advance(61'000);
  ASSERT_TRUE(log->Append(SampleRecord(3)).ok());
  ASSERT_TRUE(log->Close().ok());
  auto files = ListLogFiles(dir());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ(Lines(ReadFile((*files)[0].path)).size(), 2u);
  EXPECT_EQ(Lines(ReadFile((*files)[1].path)).size(), 1u);
  EXPECT_TRUE(Verify().intact);
}

TEST_F(AuditLogTest, WritesChainedSignedDigestsOnScheduleAndAtClose) {
  ManualClock clock(1714564800000);
  auto o = Options();
  o.clock = &clock;
  o.digest_interval_ms = 60'000;
  auto log = OpenLog(o);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  EXPECT_EQ(CountFiles(&ParseDigestFileName), 0u);
  clock.Advance(61'000);  // the writer notices within a second
  for (int i = 0; i < 300 && log->stats().digests_written < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(log->stats().digests_written, 1u);
  // Nothing new: the next interval writes no digest.
  clock.Advance(61'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(log->stats().digests_written, 1u);
  for (int i = 5; i < 8; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(log->stats().digests_written, 2u);

  auto d1 = ParseDigest(ReadFile(path(DigestFileName(1))));
  auto d2 = ParseDigest(ReadFile(path(DigestFileName(2))));
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_TRUE(VerifyDigestSignature(*d1, log->public_key()));
  EXPECT_TRUE(VerifyDigestSignature(*d2, log->public_key()));
  EXPECT_EQ(d1->digest.first_sequence, 1u);
  EXPECT_EQ(d1->digest.last_sequence, 5u);
  EXPECT_EQ(d2->digest.first_sequence, 6u);
  EXPECT_EQ(d2->digest.last_sequence, 8u);
  EXPECT_TRUE(d1->digest.previous_digest_signature.empty());
  EXPECT_EQ(d2->digest.previous_digest_signature, d1->digest.signature);
  EXPECT_EQ(d1->digest.region, "us-east-1");
  ASSERT_EQ(d2->digest.files.size(), 1u);
  EXPECT_EQ(d2->digest.files[0].file, LogFileName(1));
  auto lines = AllLines();
  EXPECT_EQ(d1->digest.chain_head_hash, HexEncode(LineHash(lines[4])));
  EXPECT_EQ(d2->digest.chain_head_hash, HexEncode(LineHash(lines[7])));
  // A digest cannot be altered without breaking its signature.
  std::string text = ReadFile(path(DigestFileName(1)));
  text[text.find("\"lastSequence\":5") + 15] = '4';
  auto altered = ParseDigest(text);
  ASSERT_TRUE(altered.ok());
  EXPECT_FALSE(VerifyDigestSignature(*altered, log->public_key()));
}

TEST_F(AuditLogTest, WriteDigestNowCoversEverythingAppended) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(SampleRecord(1)).ok());
  ASSERT_TRUE(log->Append(SampleRecord(2)).ok());
  ASSERT_TRUE(log->WriteDigestNow().ok());
  auto d = ParseDigest(ReadFile(path(DigestFileName(1))));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->digest.last_sequence, 2u);
  EXPECT_TRUE(log->WriteDigestNow().ok());  // nothing new: no digest
  EXPECT_EQ(log->stats().digests_written, 1u);
}

TEST_F(AuditLogTest, ReopenContinuesTheChainInANewFile) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  }  // destructor closes
  {
    auto log = OpenLog();
    uint64_t seq = 0;
    ASSERT_TRUE(log->Append(SampleRecord(5), &seq).ok());
    EXPECT_EQ(seq, 6u);
    for (int i = 6; i < 10; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  }
  auto files = ListLogFiles(dir());
  ASSERT_EQ(files->size(), 2u);
  auto d2 = ParseDigest(ReadFile(path(DigestFileName(2))));
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(d2->digest.first_sequence, 6u);
  EXPECT_EQ(d2->digest.last_sequence, 10u);
  auto report = Verify();
  EXPECT_TRUE(report.intact);
  EXPECT_TRUE(report.findings.empty()) << VerifyReportToText(report);
}

TEST_F(AuditLogTest, RecoversUndigestedRecordsAfterACrash) {
  // A first run whose final digest never happened (as after kill -9): remove it.
  {
    auto log = OpenLog();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(log->WriteDigestNow().ok());
    for (int i = 3; i < 6; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  }
  ASSERT_TRUE(std::filesystem::remove(path(DigestFileName(2))));
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(SampleRecord(6)).ok());
  }
  auto d2 = ParseDigest(ReadFile(path(DigestFileName(2))));
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(d2->digest.first_sequence, 4u);  // the records of the crashed run are signed now
  EXPECT_EQ(d2->digest.last_sequence, 7u);
  ASSERT_EQ(d2->digest.files.size(), 2u);
  EXPECT_EQ(d2->digest.files[0].file, LogFileName(1));
  EXPECT_EQ(d2->digest.files[0].first_sequence, 4u);
  EXPECT_EQ(d2->digest.files[1].file, LogFileName(2));
  EXPECT_TRUE(Verify().intact);
}

TEST_F(AuditLogTest, RefusesToOpenALogShorterThanItsLastDigest) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  }
  auto lines = Lines(ReadFile(path(LogFileName(1))));
  lines.pop_back();
  testing::WriteFile(path(LogFileName(1)), testing::JoinLines(lines));
  auto log = AuditLog::Open(Options(), root_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("records were removed"), std::string::npos) << log.status().ToString();
}

TEST_F(AuditLogTest, SigningKeyIsWrappedUnderTheRootKeyAndPublished) {
  std::string pem;
  {
    auto log = OpenLog();
    pem = log->public_key().Pem();
  }
  EXPECT_EQ(ReadFile(path(std::string(kPublicKeyFileName))), pem);
  struct stat st {};
  ASSERT_EQ(::stat(path(std::string(kWrappedSigningKeyFileName)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The same key comes back with the same root key ...
  {
    auto log = OpenLog();
    EXPECT_EQ(log->public_key().Pem(), pem);
  }
  // ... and a different root key cannot unwrap it (it is not silently replaced).
  auto other = AuditLog::Open(Options(), crypto::RootKey::FromBytes(crypto::RandomBytes(32)));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("does not unwrap"), std::string::npos);
  // Nor does the key of another region.
  auto o = Options();
  o.region = "eu-west-1";
  EXPECT_FALSE(AuditLog::Open(o, root_).ok());
}

TEST_F(AuditLogTest, AsyncCompletionsArriveInSequenceOrderOnceDurable) {
  auto log = OpenLog();
  std::mutex mu;
  std::vector<uint64_t> completed;
  std::atomic<int> pending{200};
  for (int i = 0; i < 200; ++i)
    log->AppendAsync(SampleRecord(i), [&](const Status& st, uint64_t seq) {
      EXPECT_TRUE(st.ok());
      std::lock_guard<std::mutex> lk(mu);
      completed.push_back(seq);
      pending.fetch_sub(1);
    });
  for (int i = 0; i < 500 && pending.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(completed.size(), 200u);
  for (size_t i = 0; i < completed.size(); ++i) EXPECT_EQ(completed[i], i + 1);
  // Each completed record is already in the file.
  EXPECT_EQ(AllLines().size(), 200u);
}

// Group commit: concurrent appenders share fsyncs.
TEST_F(AuditLogTest, ConcurrentAppendersShareFsyncs) {
  auto log = OpenLog();
  constexpr int kThreads = 8, kPerThread = 250;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        if (!log->Append(SampleRecord(t * kPerThread + i)).ok()) failures.fetch_add(1);
    });
  for (auto& th : threads) th.join();
  const AuditLogStats s = log->stats();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(s.records_written, static_cast<uint64_t>(kThreads * kPerThread));
  std::printf("group commit: %llu records in %llu batches (fsyncs), largest batch %llu\n",
              static_cast<unsigned long long>(s.records_written), static_cast<unsigned long long>(s.batches),
              static_cast<unsigned long long>(s.largest_batch));
  // Each appender waits for its own record, so a batch holds up to one record per thread; with
  // 8 threads the number of fsyncs must be well under half the records.
  EXPECT_LT(s.batches * 2, s.records_written);
  EXPECT_EQ(s.syncs, s.batches);  // kSynced: one fdatasync per batch
  EXPECT_GT(s.largest_batch, 1u);
  ASSERT_TRUE(log->Close().ok());
  auto report = Verify();
  EXPECT_TRUE(report.intact);
  EXPECT_EQ(report.last_sequence, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(AuditLogTest, WrittenDurabilityAcknowledgesBeforeTheSyncAndStillSyncs) {
  auto o = Options();
  o.durability = Durability::kWritten;
  auto log = OpenLog(o);
  constexpr int kThreads = 4, kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE(log->Append(SampleRecord(t * kPerThread + i)).ok());
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(AllLines().size(), static_cast<size_t>(kThreads * kPerThread));
  ASSERT_TRUE(log->Close().ok());
  const AuditLogStats stats = log->stats();
  EXPECT_GE(stats.syncs, 1u);  // synced on its interval and before the final digest
  EXPECT_LE(stats.syncs, stats.batches + 1);
  auto report = Verify();
  EXPECT_TRUE(report.intact);
  EXPECT_EQ(report.last_signed_sequence, static_cast<uint64_t>(kThreads * kPerThread));
}

// Makes writes beyond `bytes` fail (EFBIG) for this process while alive.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit l = saved_;
    l.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &l);
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  rlimit saved_{};
};

TEST_F(AuditLogTest, FailClosedRefusesWhenTheRecordCannotBeWritten) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(SampleRecord(1)).ok());
  const auto size = std::filesystem::file_size(path(LogFileName(1)));
  {
    FileSizeLimit limit(size + 100);  // the next record only fits in part
    uint64_t seq = 99;
    Status st = log->Append(SampleRecord(2), &seq);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.type(), "InternalFailure");
    EXPECT_EQ(st.http_status(), 500);
    EXPECT_EQ(seq, 0u);
    EXPECT_FALSE(log->Health().ok());
    EXPECT_EQ(log->stats().records_failed, 1u);
    // The partial line was rolled back.
    EXPECT_EQ(std::filesystem::file_size(path(LogFileName(1))), size);
  }
  uint64_t seq = 0;
  ASSERT_TRUE(log->Append(SampleRecord(3), &seq).ok());
  EXPECT_EQ(seq, 2u);  // the failed record took no sequence number
  EXPECT_TRUE(log->Health().ok());
  ASSERT_TRUE(log->Close().ok());
  auto report = Verify();
  EXPECT_TRUE(report.intact) << VerifyReportToText(report);
  EXPECT_TRUE(report.findings.empty()) << VerifyReportToText(report);
}

TEST_F(AuditLogTest, BestEffortLetsRequestsThroughAndCountsLostRecords) {
  auto o = Options();
  o.failure_policy = FailurePolicy::kBestEffort;
  auto log = OpenLog(o);
  ASSERT_TRUE(log->Append(SampleRecord(1)).ok());
  const auto size = std::filesystem::file_size(path(LogFileName(1)));
  {
    FileSizeLimit limit(size + 100);
    uint64_t seq = 99;
    EXPECT_TRUE(log->Append(SampleRecord(2), &seq).ok());
    EXPECT_EQ(seq, 0u);  // not recorded
    EXPECT_EQ(log->stats().records_dropped, 1u);
  }
  ASSERT_TRUE(log->Append(SampleRecord(3)).ok());
  ASSERT_TRUE(log->Close().ok());
  EXPECT_TRUE(Verify().intact);
  // After Close: best-effort drops, fail-closed refuses.
  EXPECT_TRUE(log->Append(SampleRecord(4)).ok());
  EXPECT_EQ(log->stats().records_dropped, 2u);
}

TEST_F(AuditLogTest, AppendAfterCloseFailsClosed) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Close().ok());
  Status st = log->Append(SampleRecord(1));
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.type(), "InternalFailure");
  EXPECT_FALSE(log->Health().ok());
  EXPECT_EQ(CountFiles(&ParseDigestFileName), 0u);  // nothing to sign
}

}  // namespace
}  // namespace meridian::audit
