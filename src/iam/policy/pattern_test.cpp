// Building blocks: wildcard patterns, ARN segment matching, typed values, the request context.
#include <gtest/gtest.h>

#include "iam/policy/arn.h"
#include "iam/policy/pattern.h"
#include "iam/policy/request_context.h"
#include "iam/policy/values.h"

namespace meridian::iam::policy {
namespace {

bool Like(std::string_view pattern, std::string_view text) {
  return Pattern::Compile(pattern, {.wildcards = true, .variables = false, .lower = false})
             .Match(text, false, nullptr) == MatchResult::kMatch;
}

// IAM UG > Condition operators > StringLike: '*' any run of characters (including none), '?'
// exactly one, "anywhere in the string".
TEST(PatternMatch, Wildcards) {
  EXPECT_TRUE(Like("*", ""));
  EXPECT_TRUE(Like("**", "abc"));
  EXPECT_TRUE(Like("a*", "a"));
  EXPECT_FALSE(Like("a*", ""));
  EXPECT_TRUE(Like("*a", "bbba"));
  EXPECT_FALSE(Like("*a", "bbbab"));
  EXPECT_TRUE(Like("a?c", "abc"));
  EXPECT_FALSE(Like("a?c", "ac"));
  EXPECT_FALSE(Like("a?c", "abbc"));
  EXPECT_TRUE(Like("*?", "x"));
  EXPECT_FALSE(Like("*?", ""));
  EXPECT_TRUE(Like("a*b*c*d", "aXbYYcZZZd"));
  EXPECT_FALSE(Like("a*b*c*d", "aXbYYcZZZ"));
  EXPECT_TRUE(Like("*aab", "aaab"));  // needs backtracking
  EXPECT_TRUE(Like("mississippi*", "mississippi"));
  EXPECT_TRUE(Like("*ss*ss*", "mississippi"));
  EXPECT_FALSE(Like("*ss*ss*ss*", "mississippi"));
  EXPECT_TRUE(Like("", ""));
  EXPECT_FALSE(Like("", "a"));
}

TEST(PatternMatch, LiteralModeAndCase) {
  Pattern literal = Pattern::Compile("a*b", {.wildcards = false, .variables = false, .lower = false});
  EXPECT_EQ(literal.Match("a*b", false, nullptr), MatchResult::kMatch);
  EXPECT_EQ(literal.Match("axb", false, nullptr), MatchResult::kNoMatch);
  EXPECT_EQ(literal.Match("A*B", true, nullptr), MatchResult::kMatch);
  Pattern lowered = Pattern::Compile("KMS:Re*", {.wildcards = true, .variables = false, .lower = true});
  EXPECT_EQ(lowered.Match("kms:reencryptfrom", false, nullptr), MatchResult::kMatch);
}

// IAM UG > Variables and tags: substitution, defaults, escapes, multivalued keys unusable.
TEST(PatternMatch, Variables) {
  RequestContext ctx(Principal::User("aws", "111122223333", "/", "alice", "AIDA1"), "s3:GetObject", "*");
  ctx.SetValues("aws:TagKeys", {"a", "b"});
  auto compile = [](std::string_view s) {
    return Pattern::Compile(s, {.wildcards = true, .variables = true, .lower = false});
  };
  EXPECT_EQ(compile("home/${aws:username}/*").Match("home/alice/x", false, &ctx), MatchResult::kMatch);
  EXPECT_EQ(compile("home/${aws:username}/*").Match("home/bob/x", false, &ctx), MatchResult::kNoMatch);
  // A substituted value is literal even if it contains wildcard characters.
  RequestContext star(Principal::User("aws", "111122223333", "/", "a*", "AIDA2"), "s3:GetObject", "*");
  EXPECT_EQ(compile("${aws:username}").Match("abc", false, &star), MatchResult::kNoMatch);
  EXPECT_EQ(compile("${aws:username}").Match("a*", false, &star), MatchResult::kMatch);
  EXPECT_EQ(compile("${aws:TagKeys}").Match("a", false, &ctx), MatchResult::kUnresolved);
  EXPECT_EQ(compile("${aws:TagKeys, 'x'}").Match("x", false, &ctx), MatchResult::kMatch);
  EXPECT_EQ(compile("${aws:nothing,'none'}-${*}").Match("none-*", false, &ctx), MatchResult::kMatch);
  EXPECT_EQ(compile("${aws:nothing}").Match("", false, &ctx), MatchResult::kUnresolved);
  EXPECT_FALSE(compile("${aws:nothing}").Resolvable(&ctx));
  // Malformed variables stay literal.
  EXPECT_EQ(compile("${aws:username").Match("${aws:username", false, &ctx), MatchResult::kMatch);
  EXPECT_EQ(compile("${aws:username, anon}").Match("${aws:username, anon}", false, &ctx), MatchResult::kMatch);
  EXPECT_EQ(compile("${}").Match("${}", false, &ctx), MatchResult::kMatch);
}

// IAM UG > Condition operators > ARN condition operators: six components checked separately.
TEST(ArnMatch, Segments) {
  std::array<std::string_view, 6> parts;
  ASSERT_TRUE(SplitArn("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf", parts));
  EXPECT_EQ(parts[2], "secretsmanager");
  EXPECT_EQ(parts[5], "secret:db-AbCdEf");
  EXPECT_FALSE(SplitArn("arn:aws:s3", parts));
  ArnPattern p;
  ASSERT_TRUE(ArnPattern::Compile("arn:aws:s3:::bucket/*", ArnPattern::VariableScope::kNone, p));
  EXPECT_EQ(p.Match("arn:aws:s3:::bucket/a:b:c", nullptr), MatchResult::kMatch);
  EXPECT_EQ(p.Match("arn:aws:s3:us-east-1::bucket/a", nullptr), MatchResult::kNoMatch);
  EXPECT_FALSE(ArnPattern::Compile("bucket/*", ArnPattern::VariableScope::kNone, p));
  EXPECT_FALSE(ArnPattern::Compile("aws:s3:::b:c:d", ArnPattern::VariableScope::kNone, p));
  ASSERT_TRUE(ArnPattern::Compile("*", ArnPattern::VariableScope::kNone, p));
  EXPECT_EQ(p.Match("not an arn", nullptr), MatchResult::kMatch);
  // A variable's colon does not split the pattern.
  ASSERT_TRUE(ArnPattern::Compile("arn:aws:s3:::b/${aws:username}", ArnPattern::VariableScope::kResourcePart, p));
  RequestContext ctx(Principal::User("aws", "111122223333", "/", "alice", "AIDA1"), "s3:GetObject", "*");
  EXPECT_EQ(p.Match("arn:aws:s3:::b/alice", &ctx), MatchResult::kMatch);
}

// IAM UG > Condition operators > Date / Numeric / IP address value formats.
TEST(Values, Parsing) {
  int64_t ms = 0;
  ASSERT_TRUE(ParseDate("2019-07-16T12:00:00Z", ms));
  EXPECT_EQ(ms, 1563278400000);
  ASSERT_TRUE(ParseDate("2019-07-16T14:00:00+02:00", ms));
  EXPECT_EQ(ms, 1563278400000);
  ASSERT_TRUE(ParseDate("2019-07-16T12:00Z", ms));
  EXPECT_EQ(ms, 1563278400000);
  ASSERT_TRUE(ParseDate("2019-07-16T12:00:00.250Z", ms));
  EXPECT_EQ(ms, 1563278400250);
  ASSERT_TRUE(ParseDate("1563278400", ms));
  EXPECT_EQ(ms, 1563278400000);
  ASSERT_TRUE(ParseDate("2020-02-29", ms));
  EXPECT_FALSE(ParseDate("2019-02-29", ms));
  EXPECT_FALSE(ParseDate("2019-13-01", ms));
  EXPECT_FALSE(ParseDate("2019-07-16T25:00:00Z", ms));
  EXPECT_FALSE(ParseDate("2019-07-16 12:00:00Z", ms));
  EXPECT_FALSE(ParseDate("", ms));
  double d = 0;
  EXPECT_TRUE(ParseNumber("-1.5", d));
  EXPECT_EQ(d, -1.5);
  EXPECT_TRUE(ParseNumber("+10", d));
  EXPECT_FALSE(ParseNumber("1e5", d));
  EXPECT_FALSE(ParseNumber("nan", d));
  EXPECT_FALSE(ParseNumber(".", d));
  EXPECT_FALSE(ParseNumber("1.2.3", d));
  IpNetwork net, addr;
  ASSERT_TRUE(ParseCidr("2001:DB8::/32", net));
  EXPECT_EQ(net.family, 6);
  EXPECT_EQ(net.prefix, 32);
  ASSERT_TRUE(ParseIpAddress("2001:db8:ffff::1", addr));
  EXPECT_TRUE(NetworkContains(net, addr));
  EXPECT_FALSE(ParseCidr("10.0.0.0/", net));
  EXPECT_FALSE(ParseCidr("10.0.0.256", net));
  EXPECT_FALSE(ParseCidr("fe80::1%eth0", net));
  EXPECT_FALSE(ParseCidr("::/129", net));
}

// IAM UG > Condition element: key names are case-insensitive; values are kept as given.
TEST(RequestContextTest, KeysValuesAndLifetimes) {
  RequestContext ctx(Principal::Anonymous(), "KMS:Decrypt", "*");
  EXPECT_EQ(ctx.action(), "KMS:Decrypt");
  EXPECT_EQ(ctx.action_lower(), "kms:decrypt");
  EXPECT_EQ(ctx.Find("aws:PrincipalType").front(), "Anonymous");
  ctx.Set("AWS:SourceIp", "203.0.113.7");
  EXPECT_EQ(ctx.Find("aws:sourceip").front(), "203.0.113.7");
  ctx.Set("aws:SourceIp", "198.51.100.1");  // replaces
  ASSERT_EQ(ctx.Find("aws:SourceIp").size(), 1u);
  EXPECT_EQ(ctx.Find("aws:SourceIp").front(), "198.51.100.1");
  ctx.Add("aws:TagKeys", "a");
  ctx.Set("aws:RequestedRegion", "us-east-1");
  ctx.Add("aws:TagKeys", "b");  // values of one key stay together
  ContextValues tags = ctx.Find("aws:TagKeys");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0], "a");
  EXPECT_EQ(tags[1], "b");
  std::string_view region = ctx.Find("aws:RequestedRegion").front();
  for (int i = 0; i < 200; ++i) ctx.Set("k:key" + std::to_string(i), std::string(40, 'x'));  // arena grows
  EXPECT_EQ(region, "us-east-1");  // earlier text does not move
  ctx.Erase("AWS:TAGKEYS");
  EXPECT_TRUE(ctx.Find("aws:TagKeys").empty());
  ctx.SetValues("aws:TagKeys", std::vector<std::string>{});
  EXPECT_TRUE(ctx.Find("aws:TagKeys").empty());  // no values = absent
  RequestContext moved = std::move(ctx);
  EXPECT_EQ(moved.Find("aws:RequestedRegion").front(), "us-east-1");
  EXPECT_EQ(moved.Find("k:key199").front(), std::string(40, 'x'));
}

TEST(RequestContextTest, PrincipalTags) {
  Principal p = Principal::User("aws", "111122223333", "/engineering/", "alice", "AIDA1");
  EXPECT_EQ(p.arn, "arn:aws:iam::111122223333:user/engineering/alice");
  p.tags = {{"CostCenter", "12345"}};
  RequestContext ctx(p, "s3:GetObject", "*");
  EXPECT_EQ(ctx.Find("aws:PrincipalTag/costcenter").front(), "12345");
  Principal role = Principal::AssumedRole("aws", "111122223333", "/service/", "app", "s", "AROA1");
  EXPECT_EQ(role.role_arn, "arn:aws:iam::111122223333:role/service/app");
  EXPECT_EQ(role.arn, "arn:aws:sts::111122223333:assumed-role/app/s");
}

}  // namespace
}  // namespace meridian::iam::policy
