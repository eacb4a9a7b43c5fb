// Outbox / Inbox / PeerLink semantics with two real SQLite stores standing for two regions. The
// link's transport (InProcessTransport) hands batches straight to the receiving Inbox and can be
// cut to model a partition; the mutual-TLS transport between region processes is tested end to
// end.
#include "replication/peer_link.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "replication/in_process_transport.h"
#include "replication/replication.h"
#include "storage/schema.h"

namespace meridian::replication {
namespace {

using InboxTransport = InProcessTransport;

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("repl-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    a_ = std::move(*storage::OpenSqlite((dir_ / "a.db").string()));
    b_ = std::move(*storage::OpenSqlite((dir_ / "b.db").string()));
    inbox_ = std::make_unique<Inbox>(*b_);
    // The receiving "service": records every applied message in B's meta table, in order.
    inbox_->Register("test.", [this](storage::Transaction& txn, std::string_view source, const WireEntry& e) {
      applied_order_.push_back(e.sequence);
      return txn.Put(storage::tables::kMeta, "applied/" + std::string(source) + "/" + std::to_string(e.sequence),
                     e.payload);
    });
  }
  void TearDown() override {
    inbox_.reset();
    a_.reset();
    b_.reset();
    std::filesystem::remove_all(dir_);
  }
  void EnqueueN(Outbox& outbox, int from, int to) {
    for (int i = from; i <= to; ++i) {
      auto txn = std::move(*a_->BeginWrite());
      ASSERT_TRUE(outbox.Enqueue(*txn, "us-west-2", {"test.Thing", "{\"n\":" + std::to_string(i) + "}"}).ok());
      ASSERT_TRUE(txn->Commit().ok());
    }
  }
  bool WaitFor(const std::function<bool()>& cond, int ms = 5000) {
    for (int i = 0; i < ms / 10; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> a_, b_;
  std::unique_ptr<Inbox> inbox_;
  std::vector<uint64_t> applied_order_;
};

TEST_F(ReplicationTest, EnqueueIsPartOfTheCallersTransaction) {
  Outbox outbox(*a_);
  {
    auto txn = std::move(*a_->BeginWrite());
    ASSERT_TRUE(outbox.Enqueue(*txn, "us-west-2", {"test.Thing", "{}"}).ok());
    // Destroyed without Commit: rolled back with the change it described.
  }
  EXPECT_EQ(outbox.Peek("us-west-2", 10)->size(), 0u);
  EnqueueN(outbox, 1, 3);
  auto entries = outbox.Peek("us-west-2", 10);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].sequence, 1u);
  EXPECT_EQ((*entries)[2].sequence, 3u);
  EXPECT_EQ(outbox.Peek("eu-west-1", 10)->size(), 0u);  // queues are per peer
}

TEST_F(ReplicationTest, InboxAppliesInOrderExactlyOnceAndRefusesGaps) {
  std::vector<WireEntry> batch = {{1, "test.A", "{}"}, {2, "test.B", "{}"}, {3, "test.C", "{}"}};
  EXPECT_EQ(*inbox_->Apply("us-east-1", batch), 3u);
  EXPECT_EQ(*inbox_->Apply("us-east-1", batch), 3u);  // a retried batch changes nothing
  EXPECT_EQ(applied_order_, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(*inbox_->Apply("us-east-1", {{5, "test.E", "{}"}}), 3u);  // 4 is missing
  EXPECT_EQ(applied_order_.size(), 3u);
  EXPECT_EQ(*inbox_->Apply("eu-west-1", {{1, "test.X", "{}"}}), 1u);  // sources are independent
}

TEST_F(ReplicationTest, FailedHandlerRollsBackTheEntryAndStops) {
  inbox_->Register("test.fail", [](storage::Transaction& txn, std::string_view, const WireEntry&) {
    (void)txn.Put(storage::tables::kMeta, "partial", "x");
    return Status("Boom", "handler failed", 500);
  });
  auto r = inbox_->Apply("us-east-1", {{1, "test.A", "{}"}, {2, "test.fail", "{}"}, {3, "test.C", "{}"}});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(*inbox_->LastApplied("us-east-1"), 1u);
  auto txn = std::move(*b_->BeginRead());
  EXPECT_FALSE(txn->Get(storage::tables::kMeta, "partial")->has_value());
}

TEST_F(ReplicationTest, LinkDeliversEverythingAndCatchesUpAfterPartition) {
  Outbox outbox(*a_);
  auto transport = std::make_unique<InboxTransport>(*inbox_);
  InboxTransport* t = transport.get();
  PeerLink link("us-east-1", "us-west-2", outbox, std::move(transport), {});
  link.Start();
  EnqueueN(outbox, 1, 50);
  link.Wake();
  ASSERT_TRUE(WaitFor([&] { return *inbox_->LastApplied("us-east-1") == 50; }));

  t->partitioned = true;
  EnqueueN(outbox, 51, 120);
  link.Wake();
  ASSERT_TRUE(WaitFor([&] { return link.State().failures > 0; }));
  EXPECT_EQ(*inbox_->LastApplied("us-east-1"), 50u);
  EXPECT_FALSE(link.State().connected);
  EXPECT_EQ(link.State().pending, 70u);

  t->partitioned = false;
  ASSERT_TRUE(WaitFor([&] { return *inbox_->LastApplied("us-east-1") == 120; }, 10000));
  ASSERT_TRUE(WaitFor([&] { return link.State().pending == 0; }));
  link.Stop();
  ASSERT_EQ(applied_order_.size(), 120u);
  for (size_t i = 0; i < applied_order_.size(); ++i) EXPECT_EQ(applied_order_[i], i + 1);
}

TEST_F(ReplicationTest, LostAcknowledgementsNeverApplyTwice) {
  Outbox outbox(*a_);
  auto transport = std::make_unique<InboxTransport>(*inbox_);
  InboxTransport* t = transport.get();
  t->lose_ack = true;
  PeerLink link("us-east-1", "us-west-2", outbox, std::move(transport), {});
  link.Start();
  EnqueueN(outbox, 1, 10);
  link.Wake();
  ASSERT_TRUE(WaitFor([&] { return t->calls >= 2; }));
  t->lose_ack = false;
  ASSERT_TRUE(WaitFor([&] { return link.State().pending == 0; }));
  link.Stop();
  EXPECT_EQ(applied_order_.size(), 10u);  // resent batches were skipped, not re-applied
}

TEST_F(ReplicationTest, ExpanderShapesTheWirePayloadButNotTheOutbox) {
  Outbox outbox(*a_);
  std::map<std::string, Expander, std::less<>> expanders;
  expanders["test."] = [](const Message& m) -> Result<std::string> {
    return std::string("{\"expanded\":true,\"stored\":") + m.payload + "}";
  };
  PeerLink link("us-east-1", "us-west-2", outbox, std::make_unique<InboxTransport>(*inbox_), std::move(expanders));
  EnqueueN(outbox, 1, 1);
  auto stored = outbox.Peek("us-west-2", 1);
  EXPECT_EQ((*stored)[0].message.payload, "{\"n\":1}");
  link.Start();
  ASSERT_TRUE(WaitFor([&] { return *inbox_->LastApplied("us-east-1") == 1; }));
  link.Stop();
  auto txn = std::move(*b_->BeginRead());
  auto applied = txn->Get(storage::tables::kMeta, "applied/us-east-1/1");
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ(**applied, "{\"expanded\":true,\"stored\":{\"n\":1}}");
}

}  // namespace
}  // namespace meridian::replication
