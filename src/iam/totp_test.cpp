#include "iam/totp.h"

#include <gtest/gtest.h>

namespace meridian::iam {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base32, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},           {"f", "MY"},
                                                         {"fo", "MZXQ"},     {"foo", "MZXW6"},
                                                         {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base32Encode(AsBytes(plain)), encoded);
    auto decoded = Base32Decode(encoded);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), plain);
  }
  // Padding and lower case are accepted on input; other characters are not.
  auto padded = Base32Decode("mzxw6yq=");
  ASSERT_TRUE(padded);
  EXPECT_EQ(std::string(padded->begin(), padded->end()), "foob");
  EXPECT_FALSE(Base32Decode("MZXW1"));
  EXPECT_FALSE(Base32Decode("MZ W6"));
}

// RFC 6238 appendix B, the SHA-1 rows (seed "12345678901234567890", 8 digits, T0 = 0, X = 30).
TEST(Totp, Rfc6238AppendixBSha1) {
  const Bytes seed(AsBytes("12345678901234567890").begin(), AsBytes("12345678901234567890").end());
  const std::pair<int64_t, const char*> rows[] = {{59, "94287082"},          {1111111109, "07081804"},
                                                  {1111111111, "14050471"},  {1234567890, "89005924"},
                                                  {2000000000, "69279037"},  {20000000000, "65353130"}};
  for (const auto& [t, code] : rows) EXPECT_EQ(TotpCode(seed, t, 8), code) << "T=" << t;
  // The 6-digit code AWS virtual MFA uses is the same value modulo 10^6 (RFC 4226 5.3).
  EXPECT_EQ(TotpCode(seed, 59), "287082");
  EXPECT_EQ(TotpCode(seed, 1111111109), "081804");
}

// RFC 4226 appendix D: HOTP values for counters 0..9 (6 digits).
TEST(Totp, Rfc4226AppendixD) {
  const Bytes seed(AsBytes("12345678901234567890").begin(), AsBytes("12345678901234567890").end());
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(HotpCode(seed, i), expected[i]) << i;
}

TEST(Totp, MatchAcceptsOneStepOfDriftOnly) {
  const Bytes seed(AsBytes("12345678901234567890").begin(), AsBytes("12345678901234567890").end());
  const int64_t now = 1'800'000'000;
  EXPECT_EQ(MatchTotp(seed, TotpCode(seed, now), now), static_cast<uint64_t>(now / 30));
  EXPECT_TRUE(MatchTotp(seed, TotpCode(seed, now - 30), now));
  EXPECT_TRUE(MatchTotp(seed, TotpCode(seed, now + 30), now));
  EXPECT_FALSE(MatchTotp(seed, TotpCode(seed, now - 90), now));
  EXPECT_FALSE(MatchTotp(seed, "12345", now));     // wrong length
  EXPECT_FALSE(MatchTotp(seed, "abcdef", now));
}

}  // namespace
}  // namespace meridian::iam
