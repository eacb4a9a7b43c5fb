#include "common/unique_function.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

namespace meridian {
namespace {

TEST(UniqueFunctionTest, CallsAMoveOnlyCallableStoredInline) {
  auto owned = std::make_unique<int>(41);
  UniqueFunction<int(int)> f = [p = std::move(owned)](int add) { return *p + add; };
  ASSERT_TRUE(f);
  EXPECT_EQ(f(1), 42);
  UniqueFunction<int(int)> g = std::move(f);
  EXPECT_FALSE(f);  // NOLINT: moved-from is empty
  EXPECT_EQ(g(2), 43);
}

TEST(UniqueFunctionTest, LargeCallablesGoToTheHeapAndAreDestroyedOnce) {
  auto counter = std::make_shared<int>(0);
  std::array<char, 256> big{};
  big[0] = 'x';
  {
    UniqueFunction<std::string(std::string)> f = [counter, big](std::string s) { return s + big[0]; };
    EXPECT_EQ(counter.use_count(), 2);
    UniqueFunction<std::string(std::string)> g;
    g = std::move(f);
    EXPECT_EQ(counter.use_count(), 2);
    EXPECT_EQ(g("a"), "ax");
  }
  EXPECT_EQ(counter.use_count(), 1);
}

TEST(UniqueFunctionTest, ArgumentsArePassedAsDeclared) {
  UniqueFunction<void(std::unique_ptr<int>, const std::string&, int&)> f =
      [](std::unique_ptr<int> p, const std::string& s, int& out) { out = *p + static_cast<int>(s.size()); };
  int out = 0;
  f(std::make_unique<int>(5), "abc", out);
  EXPECT_EQ(out, 8);
}

TEST(UniqueFunctionTest, ReassignAndResetDestroyTheCallable) {
  auto counter = std::make_shared<int>(0);
  UniqueFunction<void()> f = [counter] {};
  EXPECT_EQ(counter.use_count(), 2);
  f = [] {};
  EXPECT_EQ(counter.use_count(), 1);
  f = nullptr;
  EXPECT_FALSE(f);
}

}  // namespace
}  // namespace meridian
