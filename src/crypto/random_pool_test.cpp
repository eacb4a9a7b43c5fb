#include "crypto/random_pool.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace meridian::crypto {
namespace {

bool IsUuidV4(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

TEST(RandomPoolTest, UuidsAreVersion4AndDistinctAcrossRefills) {
  // Several pool refills' worth: every id well formed, none repeated.
  std::set<std::string> seen;
  const size_t n = 5 * kRandomPoolBytes / 16 + 3;
  for (size_t i = 0; i < n; ++i) {
    std::string id = PooledRandomUuid();
    EXPECT_TRUE(IsUuidV4(id)) << id;
    seen.insert(std::move(id));
  }
  EXPECT_EQ(seen.size(), n);
}

TEST(RandomPoolTest, ThreadsDrawFromDifferentPools) {
  constexpr int kThreads = 4, kPerThread = 100;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(PooledRandomUuid());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace meridian::crypto
