#include "common/wake_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace meridian {
namespace {

TEST(WakeBatch, WithoutBatchWakesAtOnce) {
  int runs = 0;
  int token = 0;
  EXPECT_FALSE(WakeBatch::Active());
  WakeBatch::Wake(&token, [&] { ++runs; });
  EXPECT_EQ(runs, 1);
  WakeBatch::Wake(&token, [&] { ++runs; });
  EXPECT_EQ(runs, 2);
}

TEST(WakeBatch, OneWakePerTokenAtTheEndInFirstRecordedOrder) {
  std::string order;
  int a = 0, b = 0;
  {
    WakeBatch batch;
    EXPECT_TRUE(WakeBatch::Active());
    WakeBatch::Wake(&a, [&] { order += 'a'; });
    WakeBatch::Wake(&b, [&] { order += 'b'; });
    WakeBatch::Wake(&a, [&] { order += 'A'; });  // dropped: a's wake is recorded already
    EXPECT_EQ(order, "");
  }
  EXPECT_EQ(order, "ab");
  EXPECT_FALSE(WakeBatch::Active());
}

TEST(WakeBatch, NestedBatchesWakeAtTheOutermostEnd) {
  int runs = 0;
  int token = 0;
  {
    WakeBatch outer;
    {
      WakeBatch inner;
      WakeBatch::Wake(&token, [&] { ++runs; });
    }
    EXPECT_EQ(runs, 0);
    WakeBatch::Wake(&token, [&] { ++runs; });
    EXPECT_TRUE(WakeBatch::Active());
  }
  EXPECT_EQ(runs, 1);
}

TEST(WakeBatch, ABatchBelongsToItsThread) {
  int here = 0, there = 0;
  WakeBatch batch;
  std::thread other([&] {
    EXPECT_FALSE(WakeBatch::Active());
    WakeBatch::Wake(&there, [&] { ++there; });  // no batch on this thread: at once
  });
  other.join();
  EXPECT_EQ(there, 1);
  WakeBatch::Wake(&here, [&] { ++here; });
  EXPECT_EQ(here, 0);
}

}  // namespace
}  // namespace meridian
