// Parser / compiler tests. Each test cites the IAM User Guide section ("IAM UG > ...") whose rule
// it checks, or says that the rule is Meridian's own stricter validation.
#include <gtest/gtest.h>

#include "iam/policy/statement.h"
#include "iam/policy/test_util.h"

namespace meridian::iam::policy {
namespace {

using testing::MustParse;
using testing::ParseError;

void ExpectError(std::string_view json, std::string_view fragment, PolicyKind kind = PolicyKind::kIdentity) {
  Status st = ParseError(json, kind);
  ASSERT_FALSE(st.ok()) << "accepted: " << json;
  EXPECT_EQ(st.type(), "MalformedPolicyDocumentException");
  EXPECT_EQ(st.http_status(), 400);
  EXPECT_NE(st.message().find(fragment), std::string::npos) << "message: " << st.message();
}

// IAM UG > IAM JSON policy elements: Version — "2012-10-17" and "2008-10-17"; absent means
// 2008-10-17.
TEST(PolicyParse, Versions) {
  auto p12 = MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})");
  ASSERT_TRUE(p12);
  EXPECT_EQ(p12->version(), PolicyVersion::k2012_10_17);
  auto p08 = MustParse(R"({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})");
  ASSERT_TRUE(p08);
  EXPECT_EQ(p08->version(), PolicyVersion::k2008_10_17);
  auto none = MustParse(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->version(), PolicyVersion::k2008_10_17);
  ExpectError(R"({"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})",
              "Version \"2012-10-18\" is not supported");
}

// IAM UG > IAM JSON policy elements: Id, Sid, Statement (object or array).
TEST(PolicyParse, IdSidAndStatementForms) {
  auto p = MustParse(R"({"Version":"2012-10-17","Id":"key-default-1","Statement":[
      {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
       "Action":"kms:*","Resource":"*"},
      {"Effect":"Deny","Principal":"*","Action":"kms:Delete*","Resource":"*"}]})",
                     PolicyKind::kResource);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->document_id(), "key-default-1");
  EXPECT_EQ(p->id(), "key-default-1");  // defaults to the Id element
  ASSERT_EQ(p->statement_count(), 2u);
  EXPECT_EQ(p->statement(0).sid, "Enable IAM User Permissions");
  EXPECT_EQ(p->statement(1).index, 1u);
  EXPECT_EQ(p->statement(1).effect, Effect::kDeny);
  ExpectError(R"({"Statement":[]})", "Statement must not be an empty array");
  ExpectError(R"({"Version":"2012-10-17"})", "no Statement element");
  ExpectError(R"({"Statement":"x"})", "Statement must be an object or an array");
}

// IAM UG > IAM JSON policy elements: Sid — "In IAM, the Sid value must be unique within a JSON
// policy": IAM's own documents (identity and trust policies) are refused with IAM's message;
// resource policies (KMS key policies, secret policies) may repeat a Sid, as AWS's own
// aws/secretsmanager key policy does.
TEST(PolicyParse, DuplicateSidRejectedInIamPoliciesOnly) {
  const char* doc = R"({"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},
                               {"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]})";
  ExpectError(doc, "Statement IDs (SID) in a single policy must be unique. Statement 2 (Sid \"A\") repeats Sid \"A\".");
  ParseOptions trust;
  trust.kind = PolicyKind::kTrust;
  auto t = Policy::Parse(R"({"Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
                                          {"Sid":"A","Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]})",
                         trust);
  EXPECT_EQ(t.status().type(), kMalformedPolicyDocument);
  ParseOptions resource;
  resource.kind = PolicyKind::kResource;
  auto r = Policy::Parse(R"({"Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*"},
                                          {"Sid":"A","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]})",
                         resource);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->statement_count(), 2u);
  EXPECT_EQ((*r)->statement(1).sid, "A");
  // Statements without a Sid never collide.
  EXPECT_TRUE(Policy::Parse(R"({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
                                             {"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"*"},
                                             {"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"*"}]})").ok());
}

// IAM UG > IAM JSON policy elements: Effect — "Allow" or "Deny" (case-sensitive).
TEST(PolicyParse, EffectRequiredAndExact) {
  ExpectError(R"({"Statement":{"Action":"s3:*","Resource":"*"}})", "Statement 1: missing Effect");
  ExpectError(R"({"Statement":{"Sid":"x","Effect":"allow","Action":"s3:*","Resource":"*"}})",
              "Statement 1 (Sid \"x\"): Effect must be \"Allow\" or \"Deny\"");
}

// IAM UG > IAM JSON policy element reference — "you cannot use both Action and NotAction",
// likewise Principal/NotPrincipal and Resource/NotResource.
TEST(PolicyParse, MutuallyExclusiveElements) {
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}})",
              "Action and NotAction cannot both be present");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}})",
              "Resource and NotResource cannot both be present");
  ExpectError(R"({"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"s3:*","Resource":"*"}})",
              "Principal and NotPrincipal cannot both be present", PolicyKind::kResource);
  ExpectError(R"({"Statement":{"Effect":"Allow","Resource":"*"}})", "missing Action or NotAction");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"s3:*"}})", "missing Resource or NotResource");
}

// IAM UG > IAM JSON policy elements: Principal — "You cannot use the Principal element in an
// identity-based policy"; resource-based policies must use it. Role trust policies need no
// Resource.
TEST(PolicyParse, PrincipalPlacement) {
  ExpectError(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}})",
              "an identity-based policy must not specify a Principal");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}})",
              "must specify a Principal or NotPrincipal", PolicyKind::kResource);
  auto trust = MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
      "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}})",
                         PolicyKind::kTrust);
  ASSERT_TRUE(trust);
  EXPECT_FALSE(trust->statement(0).has_resource);
}

// IAM UG > IAM JSON policy elements: Principal — account ids, account root ARNs (equivalent),
// user/role/session ARNs, Service, Federated, "*"; "You cannot use a wildcard to match part of a
// principal name or ARN".
TEST(PolicyParse, PrincipalForms) {
  auto p = MustParse(R"({"Statement":{"Effect":"Allow","Principal":{
      "AWS":["111122223333","arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:user/bob",
             "arn:aws:iam::111122223333:role/app","arn:aws:sts::111122223333:assumed-role/app/s1"],
      "Service":"rds.amazonaws.com","Federated":"accounts.google.com"},
      "Action":"kms:Decrypt","Resource":"*"}})",
                     PolicyKind::kResource);
  ASSERT_TRUE(p);
  const PrincipalSpec& spec = p->statement(0).principal;
  EXPECT_FALSE(spec.any);
  EXPECT_EQ(spec.accounts, (std::vector<std::string>{"111122223333", "444455556666"}));
  EXPECT_EQ(spec.arns.size(), 3u);
  EXPECT_EQ(spec.services, (std::vector<std::string>{"rds.amazonaws.com"}));
  EXPECT_EQ(spec.providers, (std::vector<std::string>{"accounts.google.com"}));

  auto star = MustParse(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}})",
                        PolicyKind::kResource);
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->statement(0).principal.any);

  ExpectError(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},
                  "Action":"kms:*","Resource":"*"}})",
              "invalid principal \"arn:aws:iam::111122223333:user/*\"", PolicyKind::kResource);
  ExpectError(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"kms:*","Resource":"*"}})",
              "invalid principal \"12345\"", PolicyKind::kResource);
  ExpectError(R"({"Statement":{"Effect":"Allow","Principal":"111122223333","Action":"kms:*","Resource":"*"}})",
              "Principal must be \"*\" or an object", PolicyKind::kResource);
  ExpectError(R"({"Statement":{"Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"kms:*","Resource":"*"}})",
              "unknown element \"CanonicalUser\"", PolicyKind::kResource);
}

// IAM UG > IAM JSON policy elements: Action — "service:action", wildcards; Meridian rejects
// wildcards in the service prefix and anything without one.
TEST(PolicyParse, ActionSyntax) {
  EXPECT_TRUE(MustParse(R"({"Statement":{"Effect":"Allow","Action":["*","kms:*","kms:Re*","KMS:DeCrypt"],"Resource":"*"}})"));
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"Decrypt","Resource":"*"}})",
              "Action \"Decrypt\" must be \"*\" or \"service:action\"");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"k*s:Decrypt","Resource":"*"}})",
              "Action \"k*s:Decrypt\"");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}})", "must not be an empty array");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":true,"Resource":"*"}})", "must be a string or an array");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":5,"Resource":"*"}})", "Action \"5\" must be");
}

// IAM UG > IAM JSON policy elements: Resource — "You specify a resource using an ARN" or "*".
TEST(PolicyParse, ResourceSyntax) {
  EXPECT_TRUE(MustParse(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::bucket/*","*"]}})"));
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket/*"}})",
              "Resource \"bucket/*\" must be \"*\" or an ARN");
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*"}})",
              "must be \"*\" or an ARN");
}

// IAM UG > IAM JSON policy elements: Condition operators — unknown operators, IfExists on Null,
// values that do not fit the operator type.
TEST(PolicyParse, ConditionSyntax) {
  auto bad = [](std::string_view condition, std::string_view fragment) {
    ExpectError(testing::AllowAllWhen(condition), fragment);
  };
  bad(R"({"StringEqual":{"aws:username":"a"}})", "unknown condition operator \"StringEqual\"");
  bad(R"({"NullIfExists":{"aws:username":"true"}})", "unknown condition operator \"NullIfExists\"");
  bad(R"({"ForAllValues:Null":{"aws:TagKeys":"true"}})", "unknown condition operator");
  bad(R"({"NumericLessThan":{"s3:max-keys":"ten"}})", "value \"ten\" for key \"s3:max-keys\" is not a number");
  bad(R"({"DateGreaterThan":{"aws:CurrentTime":"yesterday"}})", "is not an ISO 8601 date");
  bad(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}})", "is not an IPv4 or IPv6 address or CIDR range");
  bad(R"({"Bool":{"aws:SecureTransport":"yes"}})", "is not \"true\" or \"false\"");
  bad(R"({"BinaryEquals":{"k:bin":"!!"}})", "is not base64");
  bad(R"({"ArnLike":{"aws:SourceArn":"not-an-arn"}})", "is not an ARN");
  bad(R"({"Null":{"aws:TokenIssueTime":"maybe"}})", "is not \"true\" or \"false\"");
  bad(R"({"StringEquals":{"username":"a"}})", "condition key \"username\" must be \"service:name\"");
  bad(R"({"StringEquals":{}})", "must be a non-empty object");
  bad(R"({"StringEquals":{"aws:username":[]}})", "must not be an empty array");
  bad(R"({"StringEquals":{"aws:username":"a","AWS:UserName":"b"}})", "duplicate condition key");
  // The message names the statement and the operator.
  ExpectError(R"({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
                               {"Sid":"Pin","Effect":"Deny","Action":"s3:*","Resource":"*",
                                "Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}]})",
              "Statement 2 (Sid \"Pin\"): Condition DateLessThan: value \"soon\"");
}

// JSON numbers and booleans are accepted as condition values (IAM UG > Condition operators
// examples use "10" and "false"; policies in the wild also use 10 and false).
TEST(PolicyParse, ScalarConditionValues) {
  auto p = MustParse(testing::AllowAllWhen(R"({"NumericLessThanEquals":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}})"));
  ASSERT_TRUE(p);
  const Statement& s = p->statement(0);
  ASSERT_EQ(s.conditions.size(), 2u);
  EXPECT_EQ(s.conditions[0].values(), (std::vector<std::string>{"10"}));
  EXPECT_EQ(s.conditions[1].values(), (std::vector<std::string>{"true"}));
}

// Meridian's own validation: unknown elements and duplicate keys are errors (a misspelt
// "Conditon" must not silently widen an Allow), as are invalid JSON and oversize documents.
TEST(PolicyParse, UnknownDuplicateAndMalformedInput) {
  ExpectError(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Conditon":{}}})",
              "Statement 1: unknown element \"Conditon\"");
  ExpectError(R"({"Statement":{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}})",
              "duplicate element \"Effect\"");
  ExpectError(R"({"Versionn":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})",
              "Policy document: unknown element \"Versionn\"");
  ExpectError(R"({"Statement":{"Effect":"Allow",)", "not valid JSON");
  ExpectError(R"([1,2])", "must be a JSON object");
  ExpectError("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"\xff\"}}", "not valid JSON");
  // A long number that crashed RapidJSON's full-precision number parsing (policy_fuzz).
  ExpectError(testing::AllowAllWhen(R"({"NumericEquals":{"s3:max-keys":5555555555555857.5000000000555555505555555555555555555555555555555555}})"),
              "is not a number");
  std::string deep(100000, '[');
  ExpectError(deep, "not valid JSON");  // iterative parser: no stack overflow
  ParseOptions small;
  small.max_document_bytes = 16;
  auto big = Policy::Parse(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})", small);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("the limit is 16"), std::string::npos);
}

// The explicit policy id (e.g. a managed policy ARN) overrides the Id element for reporting.
TEST(PolicyParse, ExplicitPolicyId) {
  auto p = MustParse(R"({"Id":"doc","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})",
                     PolicyKind::kIdentity, "arn:aws:iam::111122223333:policy/ReadOnly");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id(), "arn:aws:iam::111122223333:policy/ReadOnly");
  EXPECT_EQ(p->document_id(), "doc");
}

}  // namespace
}  // namespace meridian::iam::policy
