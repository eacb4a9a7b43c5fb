// Policy variables (IAM UG > IAM policy elements: Variables and tags).
#include <gtest/gtest.h>

#include "iam/policy/test_util.h"

namespace meridian::iam::policy {
namespace {

using testing::Alice;
using testing::DecideIdentity;
using testing::MustParse;

bool Allowed(std::string_view policy_json, const RequestContext& context) {
  auto p = MustParse(policy_json);
  return p && DecideIdentity(context, {p}).allowed();
}

std::string S3Policy(std::string_view version) {
  return R"({"Version":")" + std::string(version) + R"(","Statement":[{"Effect":"Allow",
      "Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::mybucket/${aws:username}/*"}]})";
}

// "Variables and tags" > Introduction: ${aws:username} is replaced by the caller's friendly name
// in the Resource element.
TEST(PolicyVariables, UsernameInResource) {
  std::string policy = S3Policy("2012-10-17");
  EXPECT_TRUE(Allowed(policy, RequestContext(Alice(), "s3:GetObject", "arn:aws:s3:::mybucket/alice/notes.txt")));
  EXPECT_FALSE(Allowed(policy, RequestContext(Alice(), "s3:GetObject", "arn:aws:s3:::mybucket/bob/notes.txt")));
}

// "Variables and tags" > Note: without Version 2012-10-17, "${aws:username} ... are treated as
// literal strings in the policy".
TEST(PolicyVariables, LiteralWithoutVersion2012) {
  for (std::string_view version : {"2008-10-17"}) {
    std::string policy = S3Policy(version);
    EXPECT_FALSE(Allowed(policy, RequestContext(Alice(), "s3:GetObject", "arn:aws:s3:::mybucket/alice/x")));
    EXPECT_TRUE(Allowed(policy, RequestContext(Alice(), "s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/x")));
  }
  std::string no_version = R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}})";
  EXPECT_FALSE(Allowed(no_version, RequestContext(Alice(), "s3:GetObject", "arn:aws:s3:::b/alice")));
}

// "Variables and tags" > Condition element: variables in String and ARN operator values; tag
// variables ${aws:PrincipalTag/department}; ${aws:userid}.
TEST(PolicyVariables, ConditionValuesAndTags) {
  Principal alice = Alice();
  alice.tags = {{"department", "finance"}};
  RequestContext ctx(alice, "kms:Decrypt", std::string(testing::kKeyArn));
  ctx.Set("aws:ResourceTag/department", "finance");
  ctx.Set("s3:prefix", "home/alice/");
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"StringEquals":{"aws:ResourceTag/department":"${aws:PrincipalTag/department}"}})"), ctx));
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"StringLike":{"s3:prefix":["","home/","home/${aws:username}/"]}})"), ctx));
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"StringEquals":{"aws:userid":"${aws:userid}"}})"), ctx));
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(
                          R"({"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"}})"),
                      ctx));
  ctx.Set("aws:ResourceTag/department", "legal");
  EXPECT_FALSE(Allowed(testing::AllowAllWhen(R"({"StringEquals":{"aws:ResourceTag/department":"${aws:PrincipalTag/department}"}})"), ctx));
  // Variable keys are case-insensitive like every context key.
  ctx.Set("aws:ResourceTag/department", "finance");
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"StringEquals":{"aws:ResourceTag/department":"${AWS:PRINCIPALTAG/Department}"}})"), ctx));
}

// "Variables and tags" > Special characters: ${*}, ${?} and ${$} are a literal '*', '?', '$'.
TEST(PolicyVariables, SpecialCharacters) {
  RequestContext ctx(Alice(), "kms:Decrypt", "*");
  ctx.Set("s3:prefix", "a*b?c$");
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"StringLike":{"s3:prefix":"a${*}b${?}c${$}"}})"), ctx));
  ctx.Set("s3:prefix", "aXXbYc$");  // with real wildcards this would match
  EXPECT_FALSE(Allowed(testing::AllowAllWhen(R"({"StringLike":{"s3:prefix":"a${*}b${?}c${$}"}})"), ctx));
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"StringLike":{"s3:prefix":"a*b?c${$}"}})"), ctx));
}

// "Variables and tags" > Specifying default values: "${aws:userid, 'anonymous'}" for callers
// that do not populate the key.
TEST(PolicyVariables, DefaultValues) {
  RequestContext anon(Principal::Anonymous(), "s3:GetObject", "arn:aws:s3:::bucket/anonymous/x");
  auto p = MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
      "Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${aws:userid, 'anonymous'}/*"}})",
                     PolicyKind::kResource);
  ASSERT_TRUE(p);
  PolicySet set;
  set.resource = p.get();
  EXPECT_TRUE(Evaluate(anon, set).allowed());
  RequestContext alice(Alice(), "s3:GetObject", "arn:aws:s3:::bucket/AIDAALICEEXAMPLE0001/x");
  EXPECT_TRUE(Evaluate(alice, set).allowed());
  RequestContext alice_anon_path(Alice(), "s3:GetObject", "arn:aws:s3:::bucket/anonymous/x");
  EXPECT_FALSE(Evaluate(alice_anon_path, set).allowed());
}

// "Variables and tags" > Principal key values: a key that is "not present ... any attempt to
// match it fails and causes the statement to be invalid" — an invalid statement applies neither
// as Allow nor as Deny (aws:username is not present for role sessions).
TEST(PolicyVariables, UnresolvedVariableInvalidatesStatement) {
  RequestContext session(testing::AppSession(), "s3:GetObject", "arn:aws:s3:::mybucket/x/y");
  EXPECT_FALSE(Allowed(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
      "NotResource":"arn:aws:s3:::mybucket/${aws:username}/*"}})",
                       session));
  auto allow_all = MustParse(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
  auto deny = MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*",
      "Condition":{"StringNotEquals":{"s3:prefix":"${aws:username}"}}}})");
  ASSERT_TRUE(allow_all && deny);
  // The Deny cannot be evaluated for a role session: it does not apply, whether or not the
  // condition's key is present.
  EXPECT_TRUE(DecideIdentity(session, {allow_all, deny}).allowed());
  session.Set("s3:prefix", "bob");
  EXPECT_TRUE(DecideIdentity(session, {allow_all, deny}).allowed());
  // For a user it applies normally.
  RequestContext user(Alice(), "s3:GetObject", "arn:aws:s3:::mybucket/x/y");
  user.Set("s3:prefix", "bob");
  EXPECT_EQ(DecideIdentity(user, {allow_all, deny}).decision, EvalDecision::kExplicitDeny);
}

// "Variables and tags" > Resource element: variables only "in the resource portion of the ARN
// ... after the fifth colon"; before it "${...}" is literal text.
TEST(PolicyVariables, ResourceOnlyAfterFifthColon) {
  std::string in_resource_part = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*",
      "Resource":"arn:aws:sqs:us-east-2:111122223333:${aws:username}-queue"}})";
  EXPECT_TRUE(Allowed(in_resource_part, RequestContext(Alice(), "sqs:SendMessage", "arn:aws:sqs:us-east-2:111122223333:alice-queue")));
  std::string in_region = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*",
      "Resource":"arn:aws:sqs:${aws:RequestedRegion}:111122223333:q"}})";
  RequestContext ctx(Alice(), "sqs:SendMessage", "arn:aws:sqs:us-east-2:111122223333:q");
  ctx.Set("aws:RequestedRegion", "us-east-2");
  EXPECT_FALSE(Allowed(in_region, ctx));
}

// "Variables and tags" > Condition element: "You can't use a policy variable with ... Numeric,
// Date, ... IP Address" — such values are validated as literals (and rejected).
TEST(PolicyVariables, NotForNumericDateIp) {
  EXPECT_FALSE(testing::ParseError(testing::AllowAllWhen(R"({"NumericEquals":{"s3:max-keys":"${aws:username}"}})")).ok());
  EXPECT_FALSE(testing::ParseError(testing::AllowAllWhen(R"({"DateEquals":{"aws:CurrentTime":"${aws:CurrentTime}"}})")).ok());
  EXPECT_FALSE(testing::ParseError(testing::AllowAllWhen(R"({"IpAddress":{"aws:SourceIp":"${aws:SourceIp}"}})")).ok());
}

// "Variables and tags" > Condition element: Bool accepts variables (IAM UG > Condition
// operators > Boolean: "You can use a policy variable with the Boolean condition operator").
TEST(PolicyVariables, BoolWithVariable) {
  RequestContext ctx(Alice(), "kms:Decrypt", "*");
  ctx.Set("aws:SecureTransport", "true");
  ctx.Set("aws:PrincipalTag/needs-tls", "TRUE");
  EXPECT_TRUE(Allowed(testing::AllowAllWhen(R"({"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/needs-tls}"}})"), ctx));
}

}  // namespace
}  // namespace meridian::iam::policy
