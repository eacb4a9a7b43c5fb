// Linter rules (lint.h): each rule fires on the dangerous pattern and stays quiet on the safe
// variant. Rules follow the IAM User Guide warnings cited per test.
#include "iam/policy/lint.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "iam/policy/test_util.h"

namespace meridian::iam::policy {
namespace {

std::vector<Finding> Findings(std::string_view json, LintOptions options = {}) {
  auto result = LintDocument(json, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : std::vector<Finding>{};
}

const Finding* Find(const std::vector<Finding>& findings, std::string_view rule) {
  auto it = std::find_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.rule == rule; });
  return it == findings.end() ? nullptr : &*it;
}

std::string Resource(std::string_view statement) {
  return R"({"Version":"2012-10-17","Statement":[)" + std::string(statement) + "]}";
}

// IAM UG > Principal > All principals: "We strongly recommend that you do not use a wildcard
// (*) in the Principal element of a resource-based policy with an Allow effect unless you intend
// to grant public or anonymous access ... further restrict access in the Condition element".
TEST(Lint, PublicPrincipal) {
  auto open = Findings(Resource(R"({"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"})"));
  const Finding* f = Find(open, "public-principal");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kHigh);
  EXPECT_EQ(f->statement_index, 0);
  EXPECT_EQ(f->sid, "Open");
  EXPECT_TRUE(FormatFinding(*f).starts_with("HIGH public-principal Statement 1 (Sid \"Open\"): ")) << FormatFinding(*f);

  auto aws_star = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"})"));
  ASSERT_NE(Find(aws_star, "public-principal"), nullptr);
  EXPECT_EQ(Find(aws_star, "public-principal")->severity, Severity::kCritical);

  // Restricted by the caller's account or endpoint: quiet.
  for (const char* condition : {R"({"StringEquals":{"aws:PrincipalAccount":"111122223333"}})",
                                R"({"StringEquals":{"aws:SourceVpce":"vpce-1"}})",
                                R"({"StringEquals":{"kms:CallerAccount":"111122223333"}})",
                                R"({"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app-*"}})",
                                R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})"}) {
    auto restricted = Findings(Resource(std::string(R"({"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":)") +
                                        condition + "}"));
    EXPECT_EQ(Find(restricted, "public-principal"), nullptr) << condition;
  }
  // Conditions that restrict nothing: still public.
  for (const char* condition : {R"({"StringLike":{"aws:PrincipalAccount":"*"}})",
                                R"({"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}})",
                                R"({"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}})",
                                R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})",
                                R"({"Bool":{"aws:SecureTransport":"true"}})"}) {
    auto loose = Findings(Resource(std::string(R"({"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":)") +
                                   condition + "}"));
    EXPECT_NE(Find(loose, "public-principal"), nullptr) << condition;
  }
  // Deny statements never fire.
  EXPECT_TRUE(Findings(Resource(R"({"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"})")).empty());
}

// IAM UG > Security best practices ("Apply least-privilege permissions"); seed 000: "Don't
// grant blanket secretsmanager:GetSecretValue", "secretsmanager:* on *".
TEST(Lint, WildcardActionOnAllResources) {
  for (const char* action : {R"("*")", R"("kms:*")", R"("secretsmanager:*")", R"(["kms:Decrypt","KMS:*"])"}) {
    auto f = Findings(std::string(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":)") + action +
                      R"(,"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}})");
    ASSERT_NE(Find(f, "wildcard-action-all-resources"), nullptr) << action;
    EXPECT_EQ(Find(f, "wildcard-action-all-resources")->severity, Severity::kHigh);
  }
  auto not_action = Findings(R"({"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}})");
  EXPECT_NE(Find(not_action, "wildcard-action-all-resources"), nullptr);
  // Scoped resource or specific actions: quiet.
  EXPECT_EQ(Find(Findings(R"({"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:us-east-1:111122223333:key/k"}})"),
                 "wildcard-action-all-resources"),
            nullptr);
  EXPECT_EQ(Find(Findings(R"({"Statement":{"Effect":"Allow","Action":"kms:Get*","Resource":"*"}})"),
                 "wildcard-action-all-resources"),
            nullptr);
  // The default key policy's account-root statement: LOW, the standard delegation.
  auto root = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"})"),
                       {.key_policy = true, .owner_account = "111122223333"});
  ASSERT_NE(Find(root, "wildcard-action-all-resources"), nullptr);
  EXPECT_EQ(Find(root, "wildcard-action-all-resources")->severity, Severity::kLow);
  EXPECT_EQ(root.size(), 1u);
  // Another account's root with kms:* on a key: HIGH.
  auto foreign = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"kms:*","Resource":"*"})"),
                          {.key_policy = true, .owner_account = "111122223333"});
  EXPECT_EQ(Find(foreign, "wildcard-action-all-resources")->severity, Severity::kHigh);
}

// IAM UG > NotPrincipal > NotPrincipal with Allow: "We strongly recommend that you do not use
// NotPrincipal in the same policy statement as "Effect": "Allow"".
TEST(Lint, NotPrincipalWithAllow) {
  auto f = Findings(Resource(R"({"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:Decrypt","Resource":"*"})"));
  ASSERT_NE(Find(f, "not-principal-with-allow"), nullptr);
  EXPECT_EQ(Find(f, "not-principal-with-allow")->severity, Severity::kHigh);
  EXPECT_EQ(Find(Findings(Resource(R"({"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"})")),
                 "not-principal-with-allow"),
            nullptr);
}

// IAM UG > IAM JSON policy elements: NotResource — Allow with NotResource grants every other
// resource, including ones created later.
TEST(Lint, NotResourceWithAllow) {
  auto f = Findings(R"({"Statement":{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::private/*"}})");
  ASSERT_NE(Find(f, "not-resource-with-allow"), nullptr);
  EXPECT_EQ(Find(Findings(R"({"Statement":{"Effect":"Deny","Action":"s3:GetObject","NotResource":"arn:aws:s3:::public/*"}})"),
                 "not-resource-with-allow"),
            nullptr);
}

// IAM UG > Single-valued vs. multivalued context keys > ForAllValues: "Use caution if you use
// ForAllValues with an Allow effect because it can be overly permissive if the presence of
// missing context keys ... in the request context is unexpected"; the Null check guards it.
TEST(Lint, ForAllValuesWithAllow) {
  auto f = Findings(R"({"Statement":{"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
      "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["Dept"]}}}})");
  ASSERT_NE(Find(f, "for-all-values-with-allow"), nullptr);
  EXPECT_EQ(Find(f, "for-all-values-with-allow")->severity, Severity::kMedium);
  auto guarded = Findings(R"({"Statement":{"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
      "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["Dept"]},"Null":{"aws:TagKeys":"false"}}}})");
  EXPECT_EQ(Find(guarded, "for-all-values-with-allow"), nullptr);
  auto deny = Findings(R"({"Statement":{"Effect":"Deny","Action":"iam:TagUser","Resource":"*",
      "Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":["key1*"]}}}})");
  EXPECT_EQ(Find(deny, "for-all-values-with-allow"), nullptr);
}

// Seed 000 "IAM policies for cross-region access": scope grants to regions with
// aws:RequestedRegion, or to VPC endpoints with aws:SourceVpce.
TEST(Lint, UnpinnedCrossRegionGrant) {
  auto identity = [](std::string_view resource, std::string_view condition = "") {
    std::string s = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":")" +
                    std::string(resource) + "\"";
    if (!condition.empty()) s += R"(,"Condition":)" + std::string(condition);
    return Findings(s + "}}");
  };
  EXPECT_NE(Find(identity("*"), "unpinned-cross-region-grant"), nullptr);
  EXPECT_NE(Find(identity("arn:aws:kms:*:111122223333:key/*"), "unpinned-cross-region-grant"), nullptr);
  EXPECT_NE(Find(identity("arn:aws:kms:us-*:111122223333:key/*"), "unpinned-cross-region-grant"), nullptr);
  EXPECT_EQ(Find(identity("arn:aws:kms:us-east-1:111122223333:key/*"), "unpinned-cross-region-grant"), nullptr);
  EXPECT_EQ(Find(identity("*", R"({"StringEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}})"),
                 "unpinned-cross-region-grant"),
            nullptr);
  EXPECT_EQ(Find(identity("*", R"({"StringEquals":{"aws:SourceVpce":"vpce-1"}})"), "unpinned-cross-region-grant"), nullptr);
  // Pins that do not pin: wildcards, IfExists, negation.
  EXPECT_NE(Find(identity("*", R"({"StringLike":{"aws:RequestedRegion":"us-*"}})"), "unpinned-cross-region-grant"), nullptr);
  EXPECT_NE(Find(identity("*", R"({"StringEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}})"),
                 "unpinned-cross-region-grant"),
            nullptr);
  EXPECT_NE(Find(identity("*", R"({"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}})"),
                 "unpinned-cross-region-grant"),
            nullptr);
  // Other services are out of scope; in a key policy "*" is the (regional) key itself.
  EXPECT_EQ(Find(Findings(R"({"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}})"),
                 "unpinned-cross-region-grant"),
            nullptr);
  auto key = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:Decrypt","Resource":"*"})"),
                      {.key_policy = true});
  EXPECT_EQ(Find(key, "unpinned-cross-region-grant"), nullptr);
  auto unpinned = identity("*");
  const Finding* f = Find(unpinned, "unpinned-cross-region-grant");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kMedium);
}

// AWS KMS: the default key policy's account statement lets IAM policies administer the key;
// without it the key can become unmanageable (the lockout the PutKeyPolicy safety check guards).
TEST(Lint, KeyPolicyWithoutAccountRoot) {
  LintOptions key{.key_policy = true, .owner_account = "111122223333"};
  auto missing = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:*","Resource":"*"})"), key);
  const Finding* f = Find(missing, "key-policy-without-account-root");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kHigh);
  EXPECT_EQ(f->statement_index, -1);
  EXPECT_TRUE(FormatFinding(*f).starts_with("HIGH key-policy-without-account-root Policy: ")) << FormatFinding(*f);
  // Root statement present (id form, admin actions only): quiet.
  auto admin = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["kms:Describe*","kms:Put*"],"Resource":"*"})"), key);
  EXPECT_EQ(Find(admin, "key-policy-without-account-root"), nullptr);
  // Another account's root does not count; a Deny does not count.
  auto foreign = Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"kms:*","Resource":"*"})"), key);
  EXPECT_NE(Find(foreign, "key-policy-without-account-root"), nullptr);
  // Not a key policy: the rule does not apply.
  EXPECT_EQ(Find(Findings(Resource(R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:Decrypt","Resource":"*"})")),
                 "key-policy-without-account-root"),
            nullptr);
}

// Parse errors surface as the MalformedPolicyDocumentException status; the kind is guessed.
TEST(Lint, DocumentHandling) {
  auto bad = LintDocument(R"({"Statement":{"Effect":"Allow"}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().type(), "MalformedPolicyDocumentException");
  // A trust policy (no Resource) parses as kTrust.
  auto trust = LintDocument(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}})");
  ASSERT_TRUE(trust.ok()) << trust.status().ToString();
  EXPECT_NE(Find(*trust, "public-principal"), nullptr);
}

}  // namespace
}  // namespace meridian::iam::policy
