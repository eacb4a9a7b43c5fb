// Secret names, ARN suffixes, and the readings of a SecretId.
#include "secrets/naming.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

namespace meridian::secrets {
namespace {

const SecretLocation kHere{"aws", "us-east-1", "111122223333"};

TEST(Naming, Names) {
  EXPECT_TRUE(ValidateSecretName("a/B_c+d=e.f@g-1").ok());
  EXPECT_TRUE(ValidateSecretName(std::string(512, 'x')).ok());
  for (const std::string& bad : {std::string(), std::string(513, 'x'), std::string("a b"), std::string("a:b"),
                                 std::string("a|b"), std::string("caf\xc3\xa9"), std::string("a*")})
    EXPECT_EQ(ValidateSecretName(bad).type(), "InvalidParameterException") << bad;
}

TEST(Naming, SuffixesAreSixRandomAlphanumerics) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string s = NewArnSuffix();
    ASSERT_EQ(s.size(), 6u);
    for (char c : s) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << s;
    seen.insert(s);
  }
  EXPECT_GT(seen.size(), 195u);
  EXPECT_EQ(SecretArn(kHere, "db/pw", "AbC123"), "arn:aws:secretsmanager:us-east-1:111122223333:secret:db/pw-AbC123");
}

TEST(Naming, SecretIdReadings) {
  auto plain = ReadSecretId("db/pw", kHere);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].name, "db/pw");
  EXPECT_FALSE(plain[0].required_arn);

  const std::string full = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db/pw-AbC123";
  auto readings = ReadSecretId(full, kHere);
  ASSERT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings[0].name, "db/pw");
  EXPECT_EQ(readings[0].required_arn, full);
  EXPECT_EQ(readings[1].name, "db/pw-AbC123");  // a name that merely looks suffixed
  EXPECT_FALSE(readings[1].required_arn);

  auto partial = ReadSecretId("arn:aws:secretsmanager:us-east-1:111122223333:secret:db/pw", kHere);
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial[0].name, "db/pw");

  for (const char* elsewhere : {"arn:aws:secretsmanager:us-west-2:111122223333:secret:x",
                                "arn:aws:secretsmanager:us-east-1:999988887777:secret:x",
                                "arn:aws-cn:secretsmanager:us-east-1:111122223333:secret:x",
                                "arn:aws:kms:us-east-1:111122223333:secret:x", "arn:aws:secretsmanager:us-east-1:111122223333:key:x",
                                "arn:aws:secretsmanager:us-east-1:111122223333:secret:", "arn:aws:secretsmanager"})
    EXPECT_TRUE(ReadSecretId(elsewhere, kHere).empty()) << elsewhere;
}

}  // namespace
}  // namespace meridian::secrets
