// kill -9 during appends: every acknowledged record survives and the chain verifies; an
// interrupted write is reported as a crash, not as tampering.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "audit/audit_log.h"
#include "audit/test_util.h"
#include "audit/verify.h"

namespace meridian::audit {
namespace {

class CrashTest : public testing::AuditDirTest {
 protected:
  // Forks a child that appends from 4 threads and reports each acknowledged sequence number on
  // a pipe; kills it with SIGKILL after `acks` acknowledgements. Returns the highest acknowledged.
  uint64_t RunAndKill(int acks, Durability durability = Durability::kSynced) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto o = Options();
      o.max_file_bytes = 64 * 1024;  // rotate while being killed, too
      o.durability = durability;
      auto log = AuditLog::Open(o, root_);
      if (!log.ok()) ::_exit(3);
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
          for (int i = 0;; ++i) {
            uint64_t seq = 0;
            AuditRecord r = testing::SampleRecord(t * 1000000 + i);
            const size_t size = 200 + (i % 7) * 300;  // varied sizes
            r.request_parameters = "{\"keyId\":\"" + std::string(size, 'k') + "\"}";
            if (!(*log)->Append(std::move(r), &seq).ok()) ::_exit(4);
            if (::write(fds[1], &seq, sizeof seq) != sizeof seq) ::_exit(5);
          }
        });
      for (auto& th : threads) th.join();
      ::_exit(0);
    }
    ::close(fds[1]);
    uint64_t max_acked = 0, seq = 0;
    int received = 0;
    while (received < acks && ::read(fds[0], &seq, sizeof seq) == sizeof seq) {
      max_acked = std::max(max_acked, seq);
      ++received;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child ended with status " << status;
    while (::read(fds[0], &seq, sizeof seq) == sizeof seq) max_acked = std::max(max_acked, seq);
    ::close(fds[0]);
    EXPECT_EQ(received, acks);
    return max_acked;
  }

  // Returns the number of torn lines reported.
  size_t ExpectVerifiesThrough(uint64_t acked) {
    auto r = VerifyAuditDirectory(VerifyOptions{dir(), {}, {}, "", ""});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    EXPECT_TRUE(r->intact) << VerifyReportToText(*r);
    EXPECT_GE(r->last_sequence, acked) << "an acknowledged record was lost";
    size_t torn = 0;
    for (const auto& f : r->findings) torn += f.kind == FindingKind::kCrashTornTail;
    std::printf("killed after record %llu acknowledged: chain ends at %llu, %zu torn line(s), %zu file(s)\n",
                static_cast<unsigned long long>(acked), static_cast<unsigned long long>(r->last_sequence), torn,
                r->log_files);
    for (const auto& f : r->findings)
      EXPECT_TRUE(f.kind == FindingKind::kCrashTornTail || f.kind == FindingKind::kUnsignedTail)
          << VerifyReportToText(*r);
    return torn;
  }
};

TEST_F(CrashTest, SigkillDuringAppendsLeavesAVerifiableChain) {
  uint64_t acked = RunAndKill(2000);
  EXPECT_GT(acked, 1000u);
  ExpectVerifiesThrough(acked);

  // Restart after each crash, append more, crash again; then a clean run signs everything.
  for (int round = 0; round < 4; ++round) {
    acked = RunAndKill(300 + round * 400);
    ExpectVerifiesThrough(acked);
  }
  {
    auto log = OpenLog();
    ASSERT_TRUE(log);
    uint64_t seq = 0;
    ASSERT_TRUE(log->Append(testing::SampleRecord(1), &seq).ok());
    EXPECT_GT(seq, acked);
  }
  auto r = VerifyAuditDirectory(VerifyOptions{dir(), {}, {}, "", ""});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->intact) << VerifyReportToText(*r);
  EXPECT_EQ(r->last_signed_sequence, r->last_sequence);
}

// Acknowledging after write(2) (before the fsync) still survives kill -9: the page cache outlives
// the process.
TEST_F(CrashTest, WrittenDurabilitySurvivesSigkill) {
  for (int round = 0; round < 3; ++round) {
    uint64_t acked = RunAndKill(1500, Durability::kWritten);
    EXPECT_GT(acked, 1000u);
    ExpectVerifiesThrough(acked);
  }
}

}  // namespace
}  // namespace meridian::audit
