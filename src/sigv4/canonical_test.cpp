#include "sigv4/canonical.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/clock.h"
#include "common/encoding.h"
#include "sigv4/signing_key.h"

namespace meridian::sigv4::internal {
namespace {

std::string Uri(std::string_view path, PathMode mode = PathMode::kNormalize) {
  std::string out;
  AppendCanonicalUri(path, mode, out);
  return out;
}

std::string Query(std::string_view query, std::string_view excluded = {}) {
  std::string out;
  const std::string_view names[] = {excluded};
  AppendCanonicalQuery(query, excluded.empty() ? std::span<const std::string_view>() : names, out);
  return out;
}

std::string Trimmed(std::string_view value) {
  std::string out;
  AppendTrimmedHeaderValue(value, out);
  return out;
}

TEST(CanonicalUri, NormalizesDotAndEmptySegments) {
  EXPECT_EQ(Uri(""), "/");
  EXPECT_EQ(Uri("/"), "/");
  EXPECT_EQ(Uri("/.."), "/");
  EXPECT_EQ(Uri("/a/./b/../c//d/"), "/a/c/d/");
  EXPECT_EQ(Uri("/a/b/.."), "/a");
  EXPECT_EQ(Uri("//"), "/");
  EXPECT_EQ(Uri("/a/."), "/a");
}

TEST(CanonicalUri, EncodesTheRawPathAgain) {
  // A raw path already carries percent-encoding; non-S3 services encode it once more.
  EXPECT_EQ(Uri("/example%20space/"), "/example%2520space/");
  EXPECT_EQ(Uri("/a b"), "/a%20b");
  EXPECT_EQ(Uri("/-._~AZaz09"), "/-._~AZaz09");
  EXPECT_EQ(Uri("/a:b@c"), "/a%3Ab%40c");
}

TEST(CanonicalUri, NoNormalizeOnlyEncodes) {
  EXPECT_EQ(Uri("//a/./b/../", PathMode::kNoNormalize), "//a/./b/../");
  EXPECT_EQ(Uri("/a b", PathMode::kNoNormalize), "/a%20b");
}

TEST(CanonicalQuery, SortsByNameThenValue) {
  EXPECT_EQ(Query(""), "");
  EXPECT_EQ(Query("b=2&a=1&a=0"), "a=0&a=1&b=2");
  // Sorting compares names before values: "a" < "a-b" even though '=' > '-'.
  EXPECT_EQ(Query("a-b=1&a=2"), "a=2&a-b=1");
  EXPECT_EQ(Query("B=1&a=2"), "B=1&a=2");  // byte order: upper case first
}

TEST(CanonicalQuery, DecodesThenEncodes) {
  EXPECT_EQ(Query("a"), "a=");
  EXPECT_EQ(Query("a=&&b"), "a=&b=");
  EXPECT_EQ(Query("%41=%7e"), "A=~");
  EXPECT_EQ(Query("k=a b+c/d"), "k=a%20b%2Bc%2Fd");
  EXPECT_EQ(Query("k=%2f%2F"), "k=%2F%2F");
  EXPECT_EQ(Query("k=%zz&j=%4"), "j=%254&k=%25zz");  // malformed escapes stay literal
  EXPECT_EQ(Query("k=a=b"), "k=a%3Db");
}

TEST(CanonicalQuery, ExcludesNamedParameter) {
  EXPECT_EQ(Query("X-Amz-Signature=abc&b=1&X-Amz-Date=x", "X-Amz-Signature"),
            "X-Amz-Date=x&b=1");
  EXPECT_EQ(Query("X%2DAmz%2DSignature=abc&b=1", "X-Amz-Signature"), "b=1");
}

TEST(CanonicalHeaders, TrimsAndCollapsesSpaces) {
  EXPECT_EQ(Trimmed("  a   b\t\tc  "), "a b c");
  EXPECT_EQ(Trimmed("\"a   b\""), "\"a b\"");
  EXPECT_EQ(Trimmed(""), "");
  EXPECT_EQ(Trimmed("   "), "");
}

TEST(CanonicalHeaders, JoinsRepeatedHeadersInOrder) {
  const Header headers[] = {{"Host", "h"}, {"My-Header", "v2"}, {"my-header", " v1 "}};
  std::string out;
  std::string_view missing;
  ASSERT_TRUE(AppendCanonicalHeaders(headers, "host;my-header", out, missing));
  EXPECT_EQ(out, "host:h\nmy-header:v2,v1\n");
}

TEST(CanonicalHeaders, ReportsMissingAndEmptyNames) {
  const Header headers[] = {{"Host", "h"}};
  std::string out;
  std::string_view missing;
  EXPECT_FALSE(AppendCanonicalHeaders(headers, "host;x-amz-date", out, missing));
  EXPECT_EQ(missing, "x-amz-date");
  out.clear();
  EXPECT_FALSE(AppendCanonicalHeaders(headers, "host;", out, missing));
  EXPECT_EQ(missing, "");
  out.clear();
  EXPECT_FALSE(AppendCanonicalHeaders(headers, "", out, missing));
}

TEST(AmzDate, ParsesAndAgreesWithCommonClock) {
  int64_t t = 0;
  ASSERT_TRUE(ParseAmzDate("20150830T123600Z", t));
  EXPECT_EQ(t, 1440938160);
  for (int64_t s : {0LL, 951782400LL, 1440938160LL, 1709164800LL, 4102444799LL}) {
    int64_t parsed = -1;
    ASSERT_TRUE(ParseAmzDate(FormatAmzDate(s), parsed)) << FormatAmzDate(s);
    EXPECT_EQ(parsed, s);
  }
  EXPECT_TRUE(ParseAmzDate("20160229T000000Z", t));
  EXPECT_FALSE(ParseAmzDate("20150229T000000Z", t));
  EXPECT_FALSE(ParseAmzDate("20151301T000000Z", t));
  EXPECT_FALSE(ParseAmzDate("20150830T240000Z", t));
  EXPECT_FALSE(ParseAmzDate("20150830T123600", t));
  EXPECT_FALSE(ParseAmzDate("2015-08-30T12:36:00Z", t));
  EXPECT_FALSE(ParseAmzDate("2015083OT123600Z", t));
  EXPECT_FALSE(ParseAmzDate("", t));
}

TEST(SigningKey, MatchesAwsDocumentationExample) {
  // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
  SigningKey key = DeriveSigningKey(AsBytes("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "20120215",
                                    "us-east-1", "iam");
  EXPECT_EQ(HexEncode(key.view()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigningKeyCache, HitsMissesAndSecretChange) {
  SigningKeyCache cache(64);
  auto secret_a = AsBytes("secret-a");
  auto secret_b = AsBytes("secret-b");
  SigningKey k1 = cache.Get("AKID", secret_a, "20150830", "us-east-1", "kms");
  SigningKey k2 = cache.Get("AKID", secret_a, "20150830", "us-east-1", "kms");
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(HexEncode(k1.view()), HexEncode(k2.view()));
  EXPECT_EQ(HexEncode(k1.view()),
            HexEncode(DeriveSigningKey(secret_a, "20150830", "us-east-1", "kms").view()));
  // Same access key, new secret: never served from the stale entry.
  SigningKey k3 = cache.Get("AKID", secret_b, "20150830", "us-east-1", "kms");
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_NE(HexEncode(k1.view()), HexEncode(k3.view()));
  // Different scope fields are different keys.
  SigningKey k4 = cache.Get("AKID", secret_b, "20150831", "us-east-1", "kms");
  EXPECT_NE(HexEncode(k3.view()), HexEncode(k4.view()));
}

TEST(SigningKeyCache, BoundedAndThreadSafe) {
  SigningKeyCache cache(32);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string id = "AKID" + std::to_string((i * 7 + t) % 100);
        SigningKey got = cache.Get(id, AsBytes("s" + id), "20150830", "us-east-1", "kms");
        SigningKey want = DeriveSigningKey(AsBytes("s" + id), "20150830", "us-east-1", "kms");
        ASSERT_EQ(HexEncode(got.view()), HexEncode(want.view()));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.hits() + cache.misses(), 8000u);
  EXPECT_GT(cache.misses(), 100u);  // 100 distinct keys cannot all fit in 32 slots
}

}  // namespace
}  // namespace meridian::sigv4::internal
