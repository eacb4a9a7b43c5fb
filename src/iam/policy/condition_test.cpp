// Condition operator decision tables. Each row: a condition, the request's keys, and whether the
// condition holds (the one-statement Allow policy then allows). Every test cites the IAM User
// Guide section it checks ("IAM UG > ...").
#include <gtest/gtest.h>

#include "iam/policy/test_util.h"

namespace meridian::iam::policy {
namespace {

using testing::Holds;
using Keys = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct Row {
  const char* condition;
  Keys keys;
  bool holds;
};

void RunTable(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    std::string keys;
    for (const auto& [k, vs] : row.keys) {
      keys += k + "=[";
      for (const auto& v : vs) keys += v + ",";
      keys += "] ";
    }
    EXPECT_EQ(Holds(row.condition, row.keys), row.holds) << row.condition << " with " << keys;
  }
}

// IAM UG > Condition operators > String condition operators: StringEquals is case-sensitive,
// StringEqualsIgnoreCase is not; StringLike has '*' and '?' wildcards "anywhere in the string"
// and is case-sensitive; '*' is literal for StringEquals.
TEST(ConditionString, Equality) {
  RunTable({
      {R"({"StringEquals":{"aws:username":"johndoe"}})", {{"aws:username", {"johndoe"}}}, true},
      {R"({"StringEquals":{"aws:username":"johndoe"}})", {{"aws:username", {"JohnDoe"}}}, false},
      {R"({"StringEquals":{"aws:username":"j*"}})", {{"aws:username", {"johndoe"}}}, false},
      {R"({"StringEquals":{"aws:username":"j*"}})", {{"aws:username", {"j*"}}}, true},
      {R"({"StringEqualsIgnoreCase":{"aws:username":"johndoe"}})", {{"aws:username", {"JohnDoe"}}}, true},
      {R"({"StringEqualsIgnoreCase":{"aws:username":"johndoe"}})", {{"aws:username", {"jane"}}}, false},
      {R"({"StringNotEquals":{"aws:username":"johndoe"}})", {{"aws:username", {"JohnDoe"}}}, true},
      {R"({"StringNotEquals":{"aws:username":"johndoe"}})", {{"aws:username", {"johndoe"}}}, false},
      {R"({"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}})", {{"aws:username", {"JOHNDOE"}}}, false},
      {R"({"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}})", {{"aws:username", {"jane"}}}, true},
  });
}

// IAM UG > Condition operators > StringLike / StringNotLike.
TEST(ConditionString, Like) {
  RunTable({
      {R"({"StringLike":{"s3:prefix":"home/*"}})", {{"s3:prefix", {"home/alice/x"}}}, true},
      {R"({"StringLike":{"s3:prefix":"home/*"}})", {{"s3:prefix", {"home"}}}, false},
      {R"({"StringLike":{"s3:prefix":"home/*"}})", {{"s3:prefix", {"HOME/alice"}}}, false},
      {R"({"StringLike":{"s3:prefix":"h?me/*x"}})", {{"s3:prefix", {"hime/abcx"}}}, true},
      {R"({"StringLike":{"s3:prefix":"h?me/*x"}})", {{"s3:prefix", {"hme/abcx"}}}, false},
      {R"({"StringLike":{"s3:prefix":"*"}})", {{"s3:prefix", {""}}}, true},
      {R"({"StringLike":{"s3:prefix":"a*b*c"}})", {{"s3:prefix", {"aXXbYYbZc"}}}, true},
      {R"({"StringLike":{"s3:prefix":"a*b*c"}})", {{"s3:prefix", {"aXXbYYcZ"}}}, false},
      {R"({"StringNotLike":{"s3:prefix":"home/*"}})", {{"s3:prefix", {"etc/passwd"}}}, true},
      {R"({"StringNotLike":{"s3:prefix":"home/*"}})", {{"s3:prefix", {"home/a"}}}, false},
  });
}

// IAM UG > Creating a condition with multiple keys or values > Evaluation logic: several values
// for one key are ORed; several keys and several operators are ANDed. A negated operator matches
// when the request value matches none of the values.
TEST(ConditionLogic, OrWithinKeyAndAcrossOperators) {
  RunTable({
      {R"({"StringEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}})", {{"aws:RequestedRegion", {"us-west-2"}}}, true},
      {R"({"StringEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}})", {{"aws:RequestedRegion", {"eu-west-1"}}}, false},
      {R"({"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}})", {{"aws:RequestedRegion", {"us-west-2"}}}, false},
      {R"({"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}})", {{"aws:RequestedRegion", {"eu-west-1"}}}, true},
      {R"({"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:SourceVpce":"vpce-1"}})",
       {{"aws:RequestedRegion", {"us-east-1"}}, {"aws:SourceVpce", {"vpce-1"}}}, true},
      {R"({"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:SourceVpce":"vpce-1"}})",
       {{"aws:RequestedRegion", {"us-east-1"}}, {"aws:SourceVpce", {"vpce-2"}}}, false},
      {R"({"StringEquals":{"aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}})",
       {{"aws:RequestedRegion", {"us-east-1"}}, {"aws:SecureTransport", {"false"}}}, false},
  });
}

// IAM UG > Condition element — "Context key names are not case-sensitive" ("aws:SourceIP" is
// "AWS:SourceIp"); tag-key parts of keys too ("Key names are not case-sensitive").
TEST(ConditionLogic, KeyNamesCaseInsensitive) {
  RunTable({
      {R"({"IpAddress":{"AWS:SOURCEIP":"203.0.113.0/24"}})", {{"aws:SourceIp", {"203.0.113.7"}}}, true},
      {R"({"StringEquals":{"aws:ResourceTag/Project":"x"}})", {{"aws:resourcetag/project", {"x"}}}, true},
      {R"({"StringEquals":{"kms:EncryptionContext:Department":"hr"}})", {{"kms:encryptioncontext:department", {"hr"}}}, true},
  });
}

// IAM UG > Condition operators (Important): "If the key that you specify in a policy condition is
// not present in the request context, the values do not match and the condition is false. If the
// policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and
// the right key is not present, the condition is true."
TEST(ConditionLogic, MissingKeys) {
  const Keys none;
  RunTable({
      {R"({"StringEquals":{"aws:SourceVpce":"vpce-1"}})", none, false},
      {R"({"StringLike":{"aws:SourceVpce":"*"}})", none, false},
      {R"({"StringEqualsIgnoreCase":{"aws:SourceVpce":"vpce-1"}})", none, false},
      {R"({"NumericLessThan":{"s3:max-keys":"10"}})", none, false},
      {R"({"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}})", none, false},
      {R"({"Bool":{"aws:MultiFactorAuthPresent":"true"}})", none, false},
      {R"({"Bool":{"aws:MultiFactorAuthPresent":"false"}})", none, false},
      {R"({"BinaryEquals":{"k:bin":"QmluYXJ5"}})", none, false},
      {R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", none, false},
      {R"({"ArnLike":{"aws:SourceArn":"*"}})", none, false},
      {R"({"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t"}})", none, false},
      // Negated operators are true when the key is absent.
      {R"({"StringNotEquals":{"aws:SourceVpce":"vpce-1"}})", none, true},
      {R"({"StringNotEqualsIgnoreCase":{"aws:SourceVpce":"vpce-1"}})", none, true},
      {R"({"StringNotLike":{"aws:SourceVpce":"vpce-*"}})", none, true},
      {R"({"NumericNotEquals":{"s3:max-keys":"10"}})", none, true},
      {R"({"DateNotEquals":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}})", none, true},
      {R"({"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", none, true},
      {R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t"}})", none, true},
      {R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}})", none, true},
  });
}

// IAM UG > Condition operators > ...IfExists: "If the key is not present, evaluate the condition
// element as true"; when present, the operator applies normally.
TEST(ConditionLogic, IfExists) {
  RunTable({
      {R"({"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}})", {}, true},
      {R"({"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}})", {{"ec2:InstanceType", {"t2.micro"}}}, true},
      {R"({"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}})", {{"ec2:InstanceType", {"m5.large"}}}, false},
      {R"({"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1"}})", {}, true},
      {R"({"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1"}})", {{"aws:SourceVpce", {"vpce-1"}}}, false},
      {R"({"NumericLessThanIfExists":{"s3:max-keys":"10"}})", {}, true},
      {R"({"NumericLessThanIfExists":{"s3:max-keys":"10"}})", {{"s3:max-keys", {"11"}}}, false},
      {R"({"DateLessThanIfExists":{"aws:TokenIssueTime":"2020-01-01T00:00:00Z"}})", {}, true},
      {R"({"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}})", {}, true},
      {R"({"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}})", {{"aws:MultiFactorAuthPresent", {"false"}}}, false},
      {R"({"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}})", {}, true},
      {R"({"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}})", {{"aws:SourceIp", {"192.0.2.1"}}}, false},
      {R"({"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:t"}})", {}, true},
      {R"({"BinaryEqualsIfExists":{"k:bin":"QQ=="}})", {}, true},
  });
}

// IAM UG > Condition operators > Condition operator to check existence of condition keys: Null
// "true" — the key doesn't exist; "false" — the key exists and its value is not null.
TEST(ConditionLogic, Null) {
  RunTable({
      {R"({"Null":{"aws:TokenIssueTime":"true"}})", {}, true},
      {R"({"Null":{"aws:TokenIssueTime":"true"}})", {{"aws:TokenIssueTime", {"2024-01-01T00:00:00Z"}}}, false},
      {R"({"Null":{"aws:TokenIssueTime":"false"}})", {}, false},
      {R"({"Null":{"aws:TokenIssueTime":"false"}})", {{"aws:TokenIssueTime", {"2024-01-01T00:00:00Z"}}}, true},
      {R"({"Null":{"aws:TokenIssueTime":false}})", {{"aws:TokenIssueTime", {"x"}}}, true},
      {R"({"Null":{"aws:TagKeys":"true"}})", {{"aws:TagKeys", {}}}, true},  // no values = absent
  });
}

// IAM UG > Condition operators > Numeric condition operators: integer or decimal values.
TEST(ConditionNumeric, Table) {
  auto k = [](const char* v) { return Keys{{"s3:max-keys", {v}}}; };
  RunTable({
      {R"({"NumericEquals":{"s3:max-keys":"10"}})", k("10"), true},
      {R"({"NumericEquals":{"s3:max-keys":"10"}})", k("10.0"), true},
      {R"({"NumericEquals":{"s3:max-keys":"10"}})", k("11"), false},
      {R"({"NumericNotEquals":{"s3:max-keys":"10"}})", k("11"), true},
      {R"({"NumericNotEquals":{"s3:max-keys":"10"}})", k("10"), false},
      {R"({"NumericLessThan":{"s3:max-keys":"10"}})", k("9"), true},
      {R"({"NumericLessThan":{"s3:max-keys":"10"}})", k("10"), false},
      {R"({"NumericLessThanEquals":{"s3:max-keys":"10"}})", k("10"), true},
      {R"({"NumericLessThanEquals":{"s3:max-keys":"10"}})", k("10.5"), false},
      {R"({"NumericGreaterThan":{"s3:max-keys":"10"}})", k("10.5"), true},
      {R"({"NumericGreaterThan":{"s3:max-keys":"10"}})", k("10"), false},
      {R"({"NumericGreaterThanEquals":{"s3:max-keys":"-1.5"}})", k("-1.5"), true},
      {R"({"NumericGreaterThanEquals":{"s3:max-keys":"-1.5"}})", k("-2"), false},
      {R"({"NumericLessThan":{"s3:max-keys":"10"}})", k("not-a-number"), false},
      {R"({"NumericNotEquals":{"s3:max-keys":"10"}})", k("not-a-number"), true},
  });
}

// IAM UG > Condition operators > Date condition operators: ISO 8601 (W3C profiles) or epoch
// time, with aws:CurrentTime / aws:EpochTime.
TEST(ConditionDate, Table) {
  auto now = [](const char* v) { return Keys{{"aws:CurrentTime", {v}}}; };
  auto epoch = [](const char* v) { return Keys{{"aws:EpochTime", {v}}}; };
  RunTable({
      {R"({"DateEquals":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T12:00:00Z"), true},
      {R"({"DateEquals":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T14:00:00+02:00"), true},
      {R"({"DateEquals":{"aws:CurrentTime":"2019-07-16"}})", now("2019-07-16T00:00:00Z"), true},
      {R"({"DateNotEquals":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T12:00:01Z"), true},
      {R"({"DateNotEquals":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T12:00:00Z"), false},
      {R"({"DateLessThan":{"aws:CurrentTime":"2019-07-16T15:00:00Z"}})", now("2019-07-16T14:59:59Z"), true},
      {R"({"DateLessThan":{"aws:CurrentTime":"2019-07-16T15:00:00Z"}})", now("2019-07-16T15:00:00Z"), false},
      {R"({"DateLessThanEquals":{"aws:CurrentTime":"2019-07-16T15:00:00Z"}})", now("2019-07-16T15:00:00Z"), true},
      {R"({"DateGreaterThan":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T12:00:00.001Z"), true},
      {R"({"DateGreaterThan":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T11:00:00Z"), false},
      {R"({"DateGreaterThanEquals":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("2019-07-16T12:00:00Z"), true},
      // Epoch values on either side.
      {R"({"DateGreaterThan":{"aws:EpochTime":"1563278400"}})", epoch("1563278401"), true},
      {R"({"DateGreaterThan":{"aws:EpochTime":"2019-07-16T12:00:00Z"}})", epoch("1563278401"), true},
      {R"({"DateLessThan":{"aws:CurrentTime":"1563278400"}})", now("2019-07-16T11:59:59Z"), true},
      {R"({"DateLessThan":{"aws:CurrentTime":"2019-07-16T12:00:00Z"}})", now("garbage"), false},
  });
}

// RequestContext::SetRequestTime fills aws:CurrentTime and aws:EpochTime (IAM UG > AWS global
// condition context keys) in forms the Date operators accept.
TEST(ConditionDate, RequestTimeKeys) {
  auto p = testing::MustParse(testing::AllowAllWhen(
      R"({"DateGreaterThan":{"aws:CurrentTime":"2019-07-16T12:00:00Z"},"DateLessThan":{"aws:EpochTime":"1563289200"}})"));
  ASSERT_TRUE(p);
  RequestContext inside(testing::Alice(), "kms:Decrypt", "*");
  inside.SetRequestTime(1563285600000);  // 2019-07-16T14:00:00Z
  EXPECT_TRUE(testing::DecideIdentity(inside, {p}).allowed());
  RequestContext after(testing::Alice(), "kms:Decrypt", "*");
  after.SetRequestTime(1563289200000);  // 15:00:00Z
  EXPECT_FALSE(testing::DecideIdentity(after, {p}).allowed());
}

// IAM UG > Condition operators > Boolean condition operators ("true" / "false").
TEST(ConditionBool, Table) {
  auto k = [](const char* v) { return Keys{{"aws:SecureTransport", {v}}}; };
  RunTable({
      {R"({"Bool":{"aws:SecureTransport":"true"}})", k("true"), true},
      {R"({"Bool":{"aws:SecureTransport":"true"}})", k("false"), false},
      {R"({"Bool":{"aws:SecureTransport":"false"}})", k("false"), true},
      {R"({"Bool":{"aws:SecureTransport":"TRUE"}})", k("true"), true},
      {R"({"Bool":{"aws:SecureTransport":true}})", k("true"), true},
  });
}

// IAM UG > Condition operators > Binary condition operators: byte-for-byte against the base64
// value in the policy.
TEST(ConditionBinary, Table) {
  RunTable({
      {R"({"BinaryEquals":{"k:bin":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}})", {{"k:bin", {"BinaryValueInBase64"}}}, true},
      {R"({"BinaryEquals":{"k:bin":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}})", {{"k:bin", {"BinaryValueInBase65"}}}, false},
      {R"({"BinaryEquals":{"k:bin":["AAE=","AAI="]}})", {{"k:bin", {std::string("\x00\x02", 2)}}}, true},
  });
}

// IAM UG > Condition operators > IP address condition operators: IPv4 and IPv6 CIDRs, /32 when
// no prefix is given; NotIpAddress is everything else.
TEST(ConditionIp, Table) {
  auto ip = [](const char* v) { return Keys{{"aws:SourceIp", {v}}}; };
  RunTable({
      {R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", ip("203.0.113.255"), true},
      {R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", ip("203.0.114.0"), false},
      {R"({"IpAddress":{"aws:SourceIp":"203.0.113.7"}})", ip("203.0.113.7"), true},
      {R"({"IpAddress":{"aws:SourceIp":"203.0.113.7"}})", ip("203.0.113.8"), false},
      {R"({"IpAddress":{"aws:SourceIp":"203.0.113.77/25"}})", ip("203.0.113.1"), true},  // host bits ignored
      {R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/9"}})", ip("10.127.255.255"), true},
      {R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/9"}})", ip("10.128.0.0"), false},
      {R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", ip("198.51.100.1"), true},
      {R"({"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}})", ip("2001:db8:1234:5678:abcd::1"), true},
      {R"({"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}})", ip("2001:db8:1234:5679::1"), false},
      {R"({"IpAddress":{"aws:SourceIp":"2001:DB8::/32"}})", ip("203.0.113.1"), false},       // family mismatch
      {R"({"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}})", ip("2001:db8:1234:5678::9"), true},
      {R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", ip("not-an-ip"), false},
      {R"({"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", ip("198.51.100.1"), true},
      {R"({"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", ip("203.0.113.1"), false},
      {R"({"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]}})", ip("198.51.100.1"), false},
  });
}

// IAM UG > Condition operators > ARN condition operators: case-sensitive, "each of the six
// colon-delimited components of the ARN is checked separately"; ArnEquals and ArnLike behave
// identically; the documented StringLike-vs-ArnLike example.
TEST(ConditionArn, Table) {
  auto src = [](const char* v) { return Keys{{"aws:SourceArn", {v}}}; };
  const char* doc_value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
  RunTable({
      {R"({"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}})", src(doc_value), false},
      {R"({"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}})", src(doc_value), true},
      {R"({"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic"}})", src("arn:aws:sns:us-east-1:111122223333:topic"), true},
      {R"({"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic"}})", src("arn:aws:sns:us-east-1:111122223333:topic"), true},
      {R"({"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}})", src("arn:aws:sns:us-east-1:111122223333:Topic"), false},
      {R"({"ArnLike":{"aws:SourceArn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:app/*"}})",
       src("arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf"), true},
      {R"({"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-?ast-1:*:*"}})", src("arn:aws:sns:us-east-1:111122223333:t"), true},
      {R"({"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:*:t"}})", src("not:an-arn"), false},
      {R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}})", src("arn:aws:sns:us-east-1:444455556666:t"), true},
      {R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}})", src("arn:aws:sns:us-east-1:111122223333:t"), false},
  });
}

// IAM UG > Creating a condition with multiple keys or values: ForAllValues — "every key value
// in the request matches at least one value in the policy"; "also returns true if there are no
// keys in the request, or if the key values resolve to a null data set, such as an empty
// string". ForAnyValue — at least one request value matches; false with no key or an empty set.
TEST(ConditionSets, ForAllValuesAndForAnyValue) {
  const char* all = R"({"ForAllValues:StringEquals":{"dynamodb:Attributes":["PostDateTime","Message","Tags"]}})";
  const char* any = R"({"ForAnyValue:StringEquals":{"dynamodb:Attributes":["ID","PostDateTime"]}})";
  auto attrs = [](std::vector<std::string> v) { return Keys{{"dynamodb:Attributes", std::move(v)}}; };
  RunTable({
      {all, attrs({"Message", "Tags"}), true},
      {all, attrs({"PostDateTime", "UserName"}), false},  // the documented example
      {all, {}, true},
      {all, attrs({""}), true},
      {any, attrs({"UserName", "Message", "PostDateTime"}), true},  // the documented example
      {any, attrs({"UserName"}), false},
      {any, {}, false},
      {any, attrs({""}), false},
      {R"({"ForAllValues:StringLike":{"aws:TagKeys":["Created*"]}})", {{"aws:TagKeys", {"CreatedBy", "CreatedAt"}}}, true},
      {R"({"ForAnyValue:StringLike":{"aws:TagKeys":["Created*"]}})", {{"aws:TagKeys", {"Owner", "CreatedAt"}}}, true},
  });
}

// IAM UG > Multivalued context key examples: "ForAllValues:StringNotLike" {"aws:TagKeys":
// "key1*"} — every request value must match none of the policy values.
TEST(ConditionSets, NegatedOperatorsWithSets) {
  const char* all_not = R"({"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}})";
  const char* any_not = R"({"ForAnyValue:StringNotLike":{"aws:TagKeys":"key1*"}})";
  auto tags = [](std::vector<std::string> v) { return Keys{{"aws:TagKeys", std::move(v)}}; };
  RunTable({
      {all_not, tags({"key1:legal"}), false},
      {all_not, tags({"key2:legal", "other"}), true},
      {all_not, tags({"key2:legal", "key1:x"}), false},
      {all_not, {}, true},
      {any_not, tags({"key1:legal"}), false},
      {any_not, tags({"key1:legal", "key2"}), true},
      {any_not, {}, false},
  });
}

// IAM UG > Single-valued vs. multivalued context keys: multivalued keys require a set operator.
// Without one, Meridian evaluates a multivalued key like ForAnyValue (documented choice in
// condition.h); with a single value all readings agree.
TEST(ConditionSets, UnqualifiedOperatorOnMultivaluedKey) {
  RunTable({
      {R"({"StringEquals":{"aws:TagKeys":"a"}})", {{"aws:TagKeys", {"b", "a"}}}, true},
      {R"({"StringEquals":{"aws:TagKeys":"a"}})", {{"aws:TagKeys", {"b", "c"}}}, false},
      {R"({"StringNotEquals":{"aws:TagKeys":"a"}})", {{"aws:TagKeys", {"a", "b"}}}, true},
      {R"({"StringNotEquals":{"aws:TagKeys":"a"}})", {{"aws:TagKeys", {"a"}}}, false},
  });
}

// IAM UG > Condition operators: set qualifiers combine with IfExists ("ForAllValues:...IfExists").
TEST(ConditionSets, SetWithIfExists) {
  RunTable({
      {R"({"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"a"}})", {}, true},
      {R"({"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"a"}})", {{"aws:TagKeys", {"b"}}}, false},
  });
}

}  // namespace
}  // namespace meridian::iam::policy
