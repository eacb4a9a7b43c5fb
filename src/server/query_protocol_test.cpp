#include "server/query_protocol.h"

#include <random>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace meridian::server::query {
namespace {

std::string ToText(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string ParamsOf(std::string_view body) {
  auto parsed = ParseFormBody(body);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? ToText(parsed->params) : "";
}

std::string ErrorOf(std::string_view body, const ParseLimits& limits = {}) {
  auto parsed = ParseFormBody(body, limits);
  EXPECT_FALSE(parsed.ok()) << body;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().http_status(), 400);
  return parsed.status().type();
}

// The GET form: the same pairs in the query string; SigV4 query-authentication parameters are
// the verifier's, not the operation's; the operation's parameters follow the same strict rules.
TEST(QueryParse, GetQueryStringLeavesOutSignatureParameters) {
  auto parsed = ParseQueryString(
      "Action=ListUsers&Version=2010-05-08&MaxItems=5&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      "&X-Amz-Credential=AKIDEXAMPLE%2F20270115%2Fus-east-1%2Fiam%2Faws4_request&X-Amz-Date=20270115T080000Z"
      "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok&X-Amz-Signature=abcd");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->action, "ListUsers");
  EXPECT_EQ(parsed->version, "2010-05-08");
  EXPECT_EQ(ToText(parsed->params), R"({"MaxItems":"5"})");
  // A POST body keeps such names as ordinary parameters (they are not authentication there).
  auto body = ParseFormBody("Action=ListUsers&X-Amz-Date=x");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(ToText(body->params), R"({"X-Amz-Date":"x"})");
  EXPECT_EQ(ParseQueryString("Action=GetUser&UserName=a&UserName=b").status().type(), "InvalidQueryParameter");
  EXPECT_EQ(ParseQueryString("Action=GetUser&UserName=%zz").status().type(), "MalformedQueryString");
}

// The body the aws cli sends for `aws iam create-user --user-name bob --tags Key=a,Value=b`.
TEST(QueryParse, AwsCliCreateUser) {
  auto parsed = ParseFormBody("Action=CreateUser&Version=2010-05-08&UserName=bob&Tags.member.1.Key=a&Tags.member.1.Value=b");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->action, "CreateUser");
  EXPECT_EQ(parsed->version, "2010-05-08");
  EXPECT_EQ(ToText(parsed->params), R"({"Tags":[{"Key":"a","Value":"b"}],"UserName":"bob"})");
}

TEST(QueryParse, ScalarsAreStringsAndFormDecoded) {
  EXPECT_EQ(ParamsOf("MaxItems=10&SetAsDefault=true&Path=%2Fteam%2F&Description=a+b%2Bc&Empty="),
            R"({"Description":"a b+c","Empty":"","MaxItems":"10","Path":"/team/","SetAsDefault":"true"})");
  // A policy document as botocore sends it (quote_plus of the JSON text).
  EXPECT_EQ(ParamsOf("PolicyDocument=%7B%22Version%22%3A+%222012-10-17%22%7D"),
            R"({"PolicyDocument":"{\"Version\": \"2012-10-17\"}"})");
  // UTF-8 passes through.
  EXPECT_EQ(ParamsOf("Description=caf%C3%A9"), "{\"Description\":\"caf\xC3\xA9\"}");
}

TEST(QueryParse, ListsAreOrderedByIndexNotByText) {
  EXPECT_EQ(ParamsOf("ActionNames.member.10=c&ActionNames.member.2=b&ActionNames.member.1=a"),
            R"({"ActionNames":["a","b","c"]})");
  // Gaps are tolerated, order is kept.
  EXPECT_EQ(ParamsOf("X.member.7=b&X.member.3=a"), R"({"X":["a","b"]})");
}

TEST(QueryParse, NestedListsOfStructures) {
  // SimulatePrincipalPolicy's ContextEntries: a list of structures holding a list.
  EXPECT_EQ(ParamsOf("ContextEntries.member.1.ContextKeyName=aws%3AMultiFactorAuthPresent"
                     "&ContextEntries.member.1.ContextKeyType=boolean"
                     "&ContextEntries.member.1.ContextKeyValues.member.1=true"
                     "&ContextEntries.member.2.ContextKeyName=aws%3ASourceIp"
                     "&ContextEntries.member.2.ContextKeyValues.member.2=10.0.0.2"
                     "&ContextEntries.member.2.ContextKeyValues.member.1=10.0.0.1"),
            R"({"ContextEntries":[{"ContextKeyName":"aws:MultiFactorAuthPresent","ContextKeyType":"boolean",)"
            R"("ContextKeyValues":["true"]},{"ContextKeyName":"aws:SourceIp","ContextKeyValues":["10.0.0.1","10.0.0.2"]}]})");
  EXPECT_EQ(ParamsOf("PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX"),
            R"({"PolicyArns":[{"arn":"arn:aws:iam::aws:policy/X"}]})");
}

TEST(QueryParse, MapEntriesBecomeObjects) {
  EXPECT_EQ(ParamsOf("Attrs.entry.2.key=b&Attrs.entry.2.value=2&Attrs.entry.1.key=a&Attrs.entry.1.value=1"),
            R"({"Attrs":{"a":"1","b":"2"}})");
  EXPECT_EQ(ParamsOf("Attrs.entry.1.key=k"), R"({"Attrs":{"k":""}})");
}

TEST(QueryParse, EmptyListStaysEmptyString) {
  // botocore serializes an empty list as "Name=" (no members); services read "" as [].
  EXPECT_EQ(ParamsOf("Action=TagUser&UserName=u&Tags="), R"({"Tags":"","UserName":"u"})");
}

TEST(QueryParse, EmptyBodyAndStrayAmpersands) {
  auto parsed = ParseFormBody("");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->action, "");
  EXPECT_EQ(ToText(parsed->params), "{}");
  EXPECT_EQ(ParamsOf("&&A=1&&"), R"({"A":"1"})");
  EXPECT_EQ(ParamsOf("Flag"), R"({"Flag":""})");
}

TEST(QueryParse, MalformedEscapesAndEncodings) {
  EXPECT_EQ(ErrorOf("UserName=%zz"), "MalformedQueryString");
  EXPECT_EQ(ErrorOf("UserName=%4"), "MalformedQueryString");
  EXPECT_EQ(ErrorOf("UserName=abc%"), "MalformedQueryString");
  EXPECT_EQ(ErrorOf("User%G1Name=a"), "MalformedQueryString");
  EXPECT_EQ(ErrorOf("UserName=%FF"), "MalformedQueryString");          // not UTF-8
  EXPECT_EQ(ErrorOf("UserName=%C0%AF"), "MalformedQueryString");       // overlong '/'
  EXPECT_EQ(ErrorOf("UserName=%ED%A0%80"), "MalformedQueryString");    // UTF-16 surrogate
  EXPECT_EQ(ErrorOf("UserName=%F4%90%80%80"), "MalformedQueryString"); // above U+10FFFF
  EXPECT_EQ(ErrorOf("UserName=%E2%82"), "MalformedQueryString");       // truncated sequence
}

TEST(QueryParse, StructuralErrors) {
  EXPECT_EQ(ErrorOf("UserName=a&UserName=b"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Action=A&Action=B"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Version=1&Version=1"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags=&Tags.member.1.Key=k"), "InvalidQueryParameter");      // scalar and list
  EXPECT_EQ(ErrorOf("Tags.member.1.Key=k&Tags=x"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.1=a&Tags.member.1.Key=k"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.1.Key=k&Tags.Key=x"), "InvalidQueryParameter");  // list and structure
  EXPECT_EQ(ErrorOf("Tags.member.1=a&Tags.entry.1.key=k"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.0=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.01=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.-1=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.x=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.99999999999=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("Tags.member.10001=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("M.entry.1.other=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("M.entry.1=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("M.entry.1.value=a"), "InvalidQueryParameter");  // no key
  EXPECT_EQ(ErrorOf("M.entry.1.key=a&M.entry.2.key=a"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("=value"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("A..B=1"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf(".A=1"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("A.=1"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("User+Name=1"), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("User%00Name=1"), "InvalidQueryParameter");
}

TEST(QueryParse, Limits) {
  ParseLimits small;
  small.max_body_bytes = 64;
  small.max_pairs = 3;
  small.max_key_bytes = 16;
  small.max_key_segments = 4;
  EXPECT_EQ(ErrorOf(std::string(65, 'a'), small), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("A=1&B=2&C=3&D=4", small), "InvalidQueryParameter");
  EXPECT_TRUE(ParseFormBody("A=1&B=2&C=3", small).ok());
  EXPECT_EQ(ErrorOf("ABCDEFGHIJKLMNOPQ=1", small), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("%41%42%43%44%45%46%47%48%49%4A%4B%4C%4D%4E%4F%50%51=1", small), "InvalidQueryParameter");
  EXPECT_EQ(ErrorOf("A.member.1.B.member.1=x", small), "InvalidQueryParameter");
  EXPECT_TRUE(ParseFormBody("A.member.1.B=x", small).ok());
  // Default limits: 2000 pairs pass, 2001 do not.
  std::string body;
  for (int i = 1; i <= 2000; ++i) body += "L.member." + std::to_string(i) + "=v&";
  EXPECT_TRUE(ParseFormBody(body).ok());
  EXPECT_EQ(ErrorOf(body + "X=1"), "InvalidQueryParameter");
}

// Arbitrary bytes never crash the parser, and whatever it accepts is an object of strings,
// arrays and objects.
TEST(QueryParse, RandomInputNeverCrashes) {
  std::mt19937 rng(1234);
  const std::string alphabet = "AaZz09.=&%+-_member.entry.key.value.1.2.0.%C3%A9%FF%zz";
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    const size_t len = rng() % 80;
    for (size_t i = 0; i < len; ++i)
      body += (rng() % 4 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    auto parsed = ParseFormBody(body);
    if (parsed.ok()) {
      EXPECT_TRUE(parsed->params.IsObject());
    } else {
      EXPECT_EQ(parsed.status().http_status(), 400);
    }
  }
}

rapidjson::Document Json(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  EXPECT_FALSE(d.HasParseError());
  return d;
}

TEST(QueryRender, CreateUserResponse) {
  auto result = Json(R"({"User":{"Path":"/","UserName":"bob","UserId":"AIDA1","Arn":"arn:aws:iam::111122223333:user/bob",)"
                     R"("CreateDate":"2026-01-01T00:00:00Z","Tags":[{"Key":"a","Value":"b"}]}})");
  EXPECT_EQ(RenderResponse(kIamDialect, "CreateUser", result, "req-1"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateUserResult>"
            "<User><Path>/</Path><UserName>bob</UserName><UserId>AIDA1</UserId>"
            "<Arn>arn:aws:iam::111122223333:user/bob</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>"
            "<Tags><member><Key>a</Key><Value>b</Value></member></Tags></User></CreateUserResult>"
            "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateUserResponse>\n");
}

TEST(QueryRender, NoOutputOperationHasNoResultElement) {
  const std::string expected =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
      "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>\n";
  EXPECT_EQ(RenderResponse(kIamDialect, "DeleteUser", Json("{}"), "r"), expected);
  EXPECT_EQ(RenderResponse(kIamDialect, "DeleteUser", rapidjson::Value(), "r"), expected);
}

TEST(QueryRender, ScalarsListsMapsAndNulls) {
  auto result = Json(R"({"IsTruncated":false,"Count":3,"Big":12345678901234,"Neg":-2,"Gone":null,)"
                     R"("Names":["a","b"],"Empty":[],)"
                     R"("EvaluationResults":[{"EvalDecision":"allowed","EvalDecisionDetails":{"IAM Policy":"allowed"}}]})");
  EXPECT_EQ(RenderResponse(kIamDialect, "X", result, "r"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<XResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><XResult>"
            "<IsTruncated>false</IsTruncated><Count>3</Count><Big>12345678901234</Big><Neg>-2</Neg>"
            "<Names><member>a</member><member>b</member></Names><Empty></Empty>"
            "<EvaluationResults><member><EvalDecision>allowed</EvalDecision><EvalDecisionDetails>"
            "<entry><key>IAM Policy</key><value>allowed</value></entry></EvalDecisionDetails></member>"
            "</EvaluationResults></XResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
            "</XResponse>\n");
}

TEST(QueryRender, StsNamespace) {
  const std::string sts = RenderResponse(kStsDialect, "GetCallerIdentity",
                                         Json(R"({"UserId":"AIDA1","Account":"111122223333","Arn":"a"})"), "r");
  EXPECT_NE(sts.find("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                     "<GetCallerIdentityResult><UserId>AIDA1</UserId><Account>111122223333</Account><Arn>a</Arn>"
                     "</GetCallerIdentityResult>"),
            std::string::npos)
      << sts;
  // Map members are IAM's: in STS an object is a structure.
  const std::string nested = RenderResponse(kStsDialect, "X", Json(R"({"EvalDecisionDetails":{"A":"b"}})"), "r");
  EXPECT_NE(nested.find("<EvalDecisionDetails><A>b</A></EvalDecisionDetails>"), std::string::npos) << nested;
}

TEST(QueryRender, TextIsEscaped) {
  std::string out;
  AppendXmlEscaped(out, "a<b>&\"'\r\n\tc");
  EXPECT_EQ(out, "a&lt;b&gt;&amp;&quot;&apos;&#xD;\n\tc");
  out.clear();
  AppendXmlEscaped(out, std::string("x\x01y\xFFz\0w", 7));
  EXPECT_EQ(out, "x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBDw");
  out.clear();
  AppendXmlEscaped(out, "caf\xC3\xA9 \xF0\x9F\x94\x91");
  EXPECT_EQ(out, "caf\xC3\xA9 \xF0\x9F\x94\x91");
  auto result = Json(R"({"Description":"</Description><Injected>","Tags":{"<k>":"v"}})");
  const std::string xml = RenderResponse(kIamDialect, "X", result, "r");
  EXPECT_EQ(xml.find("<Injected>"), std::string::npos);
  EXPECT_NE(xml.find("&lt;/Description&gt;&lt;Injected&gt;"), std::string::npos);
}

TEST(QueryRender, ErrorResponse) {
  EXPECT_EQ(RenderError(kIamDialect, "NoSuchEntity", "The user with name bob cannot be found.", 404, "r-2"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
            "<Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error>"
            "<RequestId>r-2</RequestId></ErrorResponse>\n");
  const std::string internal = RenderError(kStsDialect, "InternalFailure", "a<b", 500, "r");
  EXPECT_NE(internal.find("<Type>Receiver</Type>"), std::string::npos);
  EXPECT_NE(internal.find("<Message>a&lt;b</Message>"), std::string::npos);
}

}  // namespace
}  // namespace meridian::server::query
