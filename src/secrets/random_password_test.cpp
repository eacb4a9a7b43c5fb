// GetRandomPassword's generator: options, required types, and an even spread of characters.
#include "secrets/random_password.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace meridian::secrets {
namespace {

std::string Make(const PasswordOptions& o) {
  auto p = GenerateRandomPassword(o);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::string(AsString(p->view())) : std::string();
}

bool Has(const std::string& s, bool (*pred)(unsigned char)) {
  for (char c : s)
    if (pred(static_cast<unsigned char>(c))) return true;
  return false;
}
bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsPunct(unsigned char c) { return c > ' ' && c < 127 && !IsLower(c) && !IsUpper(c) && !IsDigit(c); }

TEST(RandomPassword, DefaultsToThirtyTwoCharactersOfEveryType) {
  for (int i = 0; i < 200; ++i) {
    std::string p = Make({});
    ASSERT_EQ(p.size(), 32u);
    EXPECT_TRUE(Has(p, IsLower) && Has(p, IsUpper) && Has(p, IsDigit) && Has(p, IsPunct)) << p;
    EXPECT_EQ(p.find(' '), std::string::npos);
  }
}

TEST(RandomPassword, ShortPasswordsStillHoldEveryRequiredType) {
  PasswordOptions o;
  o.length = 4;
  for (int i = 0; i < 200; ++i) {
    std::string p = Make(o);
    EXPECT_TRUE(Has(p, IsLower) && Has(p, IsUpper) && Has(p, IsDigit) && Has(p, IsPunct)) << p;
  }
  o.exclude_characters = "0123456789"; // the digit type disappears entirely
  o.length = 3;
  std::string p = Make(o);
  EXPECT_TRUE(Has(p, IsLower) && Has(p, IsUpper) && Has(p, IsPunct)) << p;
}

TEST(RandomPassword, ExclusionsAndSpace) {
  PasswordOptions o;
  o.length = 2000;
  o.exclude_lowercase = o.exclude_uppercase = o.exclude_punctuation = true;
  o.exclude_characters = "13579";
  for (char c : Make(o)) EXPECT_TRUE(c == '0' || c == '2' || c == '4' || c == '6' || c == '8') << c;
  o = {};
  o.length = 2000;
  o.include_space = true;
  EXPECT_NE(Make(o).find(' '), std::string::npos);
  o = {};
  o.length = 500;
  o.exclude_numbers = true;
  o.exclude_characters = "\"'\\";
  std::string p = Make(o);
  EXPECT_FALSE(Has(p, IsDigit));
  EXPECT_EQ(p.find_first_of("\"'\\"), std::string::npos);
}

TEST(RandomPassword, CharactersAreSpreadEvenly) {
  PasswordOptions o;
  o.length = 4096;
  o.require_each_included_type = false;
  o.exclude_uppercase = o.exclude_punctuation = o.exclude_numbers = true;  // 26 letters
  std::map<char, int> counts;
  for (int i = 0; i < 25; ++i)
    for (char c : Make(o)) ++counts[c];
  ASSERT_EQ(counts.size(), 26u);
  const double expected = 25.0 * 4096 / 26;  // about 3938
  for (const auto& [c, n] : counts) EXPECT_NEAR(n, expected, expected * 0.1) << c;
}

TEST(RandomPassword, ImpossibleRequestsAreRefused) {
  PasswordOptions o;
  o.length = 3;  // four required types
  EXPECT_EQ(GenerateRandomPassword(o).status().type(), "InvalidParameterException");
  o = {};
  o.exclude_lowercase = o.exclude_uppercase = o.exclude_numbers = o.exclude_punctuation = true;
  EXPECT_EQ(GenerateRandomPassword(o).status().type(), "InvalidParameterException");
  o.include_space = true;  // only spaces: allowed
  EXPECT_EQ(Make(o), std::string(32, ' '));
  o = {};
  o.length = 0;
  EXPECT_EQ(GenerateRandomPassword(o).status().type(), "InvalidParameterException");
  o.length = 4097;
  EXPECT_EQ(GenerateRandomPassword(o).status().type(), "InvalidParameterException");
}

}  // namespace
}  // namespace meridian::secrets
