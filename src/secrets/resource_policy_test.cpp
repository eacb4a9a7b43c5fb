// Structural validation of resource policies and the broad-access check.
#include "secrets/resource_policy.h"

#include <gtest/gtest.h>

namespace meridian::secrets {
namespace {

size_t PublicFindings(const std::string& policy) {
  auto r = CheckResourcePolicy(policy);
  EXPECT_TRUE(r.ok()) << policy << ": " << r.status().ToString();
  return r.ok() ? r->public_access.size() : 99;
}

TEST(ResourcePolicy, PublicStatementsAreFound) {
  EXPECT_EQ(PublicFindings(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:*","Resource":"*"}})"), 1u);
  EXPECT_EQ(PublicFindings(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":["secretsmanager:GetSecretValue"],"Resource":"*"}]})"), 1u);
  EXPECT_EQ(PublicFindings(R"({"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"*","Resource":"*"}]})"), 1u);
  // Narrowed by a condition, denied, or naming principals: not public.
  EXPECT_EQ(PublicFindings(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]})"), 0u);
  EXPECT_EQ(PublicFindings(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"s:x","Resource":"*"}]})"), 0u);
  EXPECT_EQ(PublicFindings(R"({"Version":"2012-10-17","Id":"p1","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"NotAction":"s:Delete*","NotResource":["x","y"]}]})"), 0u);
}

TEST(ResourcePolicy, MalformedDocumentsAreRejected) {
  for (const char* bad : {
           "", "null", "{", R"({"Statement":"x"})", R"({"Statement":[1]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","NotAction":"s:y","Resource":"*"}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":{},"Action":"s:x","Resource":"*"}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"s:x","Resource":"*"}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":[]},"Action":"s:x","Resource":"*"}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:","Resource":"*"}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":5}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*","Condition":[]}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*","Condition":{"StringEquals":"x"}}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*","Sid":1}]})",
           R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s:x","Resource":"*"}],"Other":1})",
       }) {
    EXPECT_EQ(CheckResourcePolicy(bad).status().type(), "MalformedPolicyDocumentException") << bad;
  }
}

}  // namespace
}  // namespace meridian::secrets
