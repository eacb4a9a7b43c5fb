#include "sigv4/authorization.h"

#include <gtest/gtest.h>

namespace meridian::sigv4::internal {
namespace {

constexpr std::string_view kHeader =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

TEST(AuthorizationHeader, ParsesAllFields) {
  AuthorizationFields f;
  ASSERT_TRUE(ParseAuthorizationHeader(kHeader, f).ok());
  EXPECT_EQ(f.algorithm, "AWS4-HMAC-SHA256");
  EXPECT_EQ(f.credential, "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request");
  EXPECT_EQ(f.scope.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(f.scope.date, "20150830");
  EXPECT_EQ(f.scope.region, "us-east-1");
  EXPECT_EQ(f.scope.service, "service");
  EXPECT_EQ(f.scope.terminator, "aws4_request");
  EXPECT_EQ(f.scope.scope, "20150830/us-east-1/service/aws4_request");
  EXPECT_EQ(f.signed_headers, "host;x-amz-date");
  EXPECT_EQ(f.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(AuthorizationHeader, AcceptsAnyOrderAndSpacing) {
  AuthorizationFields f;
  ASSERT_TRUE(ParseAuthorizationHeader(
                  "  AWS4-HMAC-SHA256   Signature=ab,SignedHeaders=host ,  "
                  "Credential=K/20150830/r/s/aws4_request  ",
                  f)
                  .ok());
  EXPECT_EQ(f.signature, "ab");
  EXPECT_EQ(f.signed_headers, "host");
  EXPECT_EQ(f.scope.service, "s");
}

TEST(AuthorizationHeader, RejectsMalformedInput) {
  AuthorizationFields f;
  Status st = ParseAuthorizationHeader("AWS4-HMAC-SHA256 Credential", f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_NE(st.message().find("not a valid key=value pair (missing equal-sign)"), std::string::npos);

  st = ParseAuthorizationHeader("AWS4-HMAC-SHA256 Credential=K/20150830/r/s/aws4_request", f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_NE(st.message().find("requires 'Signature' parameter"), std::string::npos);
  EXPECT_NE(st.message().find("requires 'SignedHeaders' parameter"), std::string::npos);
  EXPECT_EQ(st.message().find("requires 'Credential' parameter"), std::string::npos);

  st = ParseAuthorizationHeader("AWS4-HMAC-SHA512 Credential=a, SignedHeaders=b, Signature=c", f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_NE(st.message().find("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"), std::string::npos);

  st = ParseAuthorizationHeader("", f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");

  st = ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Credential=K/20150830/r/s, SignedHeaders=host, Signature=c", f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_NE(st.message().find("exactly 5 slash-delimited elements"), std::string::npos);

  st = ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Credential=K/20150830/r/s/aws4_request/x, SignedHeaders=h, Signature=c",
      f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");

  st = ParseAuthorizationHeader(
      "AWS4-HMAC-SHA256 Signature=a, Signature=b, SignedHeaders=h, "
      "Credential=K/20150830/r/s/aws4_request",
      f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_NE(st.message().find("more than one 'Signature'"), std::string::npos);
}

TEST(PresignedQuery, DetectsAndParses) {
  EXPECT_FALSE(HasPresignedParameters(""));
  EXPECT_FALSE(HasPresignedParameters("Action=ListKeys&X-Amz-Date=x"));
  EXPECT_TRUE(HasPresignedParameters("a=b&X-Amz-Signature=00"));
  EXPECT_TRUE(HasPresignedParameters("X%2DAmz%2DAlgorithm=AWS4-HMAC-SHA256"));

  PresignedQuery q;
  AuthorizationFields f;
  ASSERT_TRUE(ParsePresignedQuery(
                  "a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=K%2F20150830%2Fus-east-"
                  "1%2Fkms%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host%"
                  "3Bx-y&X-Amz-Expires=60&X-Amz-Security-Token=t%2Bk&X-Amz-Signature=abcd",
                  q, f)
                  .ok());
  EXPECT_EQ(f.scope.access_key_id, "K");
  EXPECT_EQ(f.scope.service, "kms");
  EXPECT_EQ(f.signed_headers, "host;x-y");
  EXPECT_EQ(f.signature, "abcd");
  EXPECT_EQ(q.date, "20150830T123600Z");
  EXPECT_TRUE(q.has_expires);
  EXPECT_EQ(q.expires, "60");
  EXPECT_TRUE(q.has_security_token);
  EXPECT_EQ(q.security_token, "t+k");
}

TEST(PresignedQuery, RejectsMissingAndRepeatedParameters) {
  PresignedQuery q;
  AuthorizationFields f;
  Status st = ParsePresignedQuery("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z", q, f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_EQ(st.message(),
            "AWS query-string parameters must include 'X-Amz-Credential', 'X-Amz-Signature', "
            "'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
  st = ParsePresignedQuery("X-Amz-Signature=a&X-Amz-Signature=b", q, f);
  EXPECT_EQ(st.type(), "IncompleteSignatureException");
  EXPECT_NE(st.message().find("appears more than once"), std::string::npos);
}

}  // namespace
}  // namespace meridian::sigv4::internal
