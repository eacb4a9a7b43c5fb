#include "audit/record.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "audit/test_util.h"

namespace meridian::audit {
namespace {

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

std::string Str(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return "<missing>";
  return it->value.GetString();
}

TEST(AuditRecordTest, SerializesCloudTrailFields) {
  AuditRecord r = testing::SampleRecord(7, "Decrypt");
  r.vpc_endpoint_id = "vpce-0abc";
  r.event_id = "e-1";
  r.user_identity.type = "AssumedRole";
  r.user_identity.session_context.present = true;
  r.user_identity.session_context.mfa_authenticated = true;
  r.user_identity.session_context.issuer_arn = "arn:aws:iam::111122223333:role/app";
  r.user_identity.session_context.creation_time_ms = 1714560000000;
  r.response_elements = "{\"keyId\":\"arn:aws:kms:us-east-1:111122223333:key/k\"}";
  r.error_code = "AccessDeniedException";
  r.error_message = "not allowed";
  r.authorization.decision = "Deny";
  r.authorization.matched_statement = "DenyOtherRegions";
  r.additional_event_data = {{"peerRegion", "eu-west-1"}};
  const std::string json = SerializeRecord(r);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  auto d = Parse(json);
  EXPECT_EQ(Str(d, "eventVersion"), "1.08");
  EXPECT_EQ(Str(d, "eventTime"), "2024-05-01T12:00:07Z");
  EXPECT_EQ(Str(d, "eventSource"), "kms.amazonaws.com");
  EXPECT_EQ(Str(d, "eventName"), "Decrypt");
  EXPECT_EQ(Str(d, "awsRegion"), "us-east-1");
  EXPECT_EQ(Str(d, "sourceIPAddress"), "10.0.0.7");
  EXPECT_EQ(Str(d, "vpcEndpointId"), "vpce-0abc");
  EXPECT_EQ(Str(d, "userAgent"), "aws-cli/2.15");
  const auto& u = d["userIdentity"];
  EXPECT_EQ(Str(u, "type"), "AssumedRole");
  EXPECT_EQ(Str(u, "principalId"), "AIDAEXAMPLE1");
  EXPECT_EQ(Str(u, "arn"), "arn:aws:iam::111122223333:user/user1");
  EXPECT_EQ(Str(u, "accountId"), "111122223333");
  EXPECT_EQ(Str(u, "accessKeyId"), "AKIAEXAMPLE1");
  EXPECT_EQ(Str(u["sessionContext"]["attributes"], "mfaAuthenticated"), "true");
  EXPECT_EQ(Str(u["sessionContext"]["attributes"], "creationDate"), "2024-05-01T10:40:00Z");
  EXPECT_EQ(Str(u["sessionContext"]["sessionIssuer"], "arn"), "arn:aws:iam::111122223333:role/app");
  EXPECT_EQ(Str(d["requestParameters"], "keyId"), "alias/app");
  EXPECT_EQ(Str(d["responseElements"], "keyId"), "arn:aws:kms:us-east-1:111122223333:key/k");
  ASSERT_TRUE(d["resources"].IsArray());
  ASSERT_EQ(d["resources"].Size(), 1u);
  EXPECT_EQ(Str(d["resources"][0], "ARN"), "arn:aws:kms:us-east-1:111122223333:key/1234abcd-1");
  EXPECT_EQ(Str(d["resources"][0], "type"), "AWS::KMS::Key");
  EXPECT_EQ(Str(d, "errorCode"), "AccessDeniedException");
  EXPECT_EQ(Str(d, "errorMessage"), "not allowed");
  EXPECT_EQ(Str(d, "requestID"), "req-7");
  EXPECT_EQ(Str(d, "eventID"), "e-1");
  EXPECT_TRUE(d["readOnly"].GetBool());
  EXPECT_EQ(Str(d, "eventType"), "AwsApiCall");
  EXPECT_EQ(Str(d, "recipientAccountId"), "111122223333");
  EXPECT_EQ(Str(d["authorization"], "decision"), "Deny");
  EXPECT_EQ(Str(d["authorization"], "matchedStatement"), "DenyOtherRegions");
  EXPECT_EQ(Str(d["additionalEventData"], "peerRegion"), "eu-west-1");
}

TEST(AuditRecordTest, UnauthenticatedRecordHasNullsNotGarbage) {
  AuditRecord r;
  r.event_time_ms = 1714564800000;
  r.event_source = std::string(kKmsEventSource);
  r.event_name = "Encrypt";
  r.error_code = "IncompleteSignatureException";
  r.error_message = "bad signature";
  auto d = Parse(SerializeRecord(r));
  EXPECT_EQ(Str(d["userIdentity"], "type"), "Unknown");
  EXPECT_FALSE(d["userIdentity"].HasMember("sessionContext"));
  EXPECT_TRUE(d["requestParameters"].IsNull());
  EXPECT_TRUE(d["responseElements"].IsNull());
  EXPECT_TRUE(d["vpcEndpointId"].IsNull());
  EXPECT_EQ(Str(d["authorization"], "decision"), "NotEvaluated");
  EXPECT_EQ(d["resources"].Size(), 0u);
}

TEST(AuditRecordTest, ParseRoundTrips) {
  AuditRecord r = testing::SampleRecord(3);
  r.user_identity.session_context.present = true;
  r.user_identity.session_context.mfa_authenticated = true;
  r.error_code = "DisabledException";
  r.error_message = "key disabled";
  r.event_id = "abc";
  const std::string json = SerializeRecord(r);
  auto back = ParseRecord(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializeRecord(*back), json);
  EXPECT_FALSE(ParseRecord("not json").ok());
}

// The serializer escapes strings exactly as RapidJSON's Writer does (the verifier and the search
// tools read lines with RapidJSON), whatever the position of a byte that needs escaping.
TEST(AuditRecordTest, EscapesLikeRapidJson) {
  std::string hostile;
  for (int c = 1; c < 0x80; ++c) hostile.push_back(static_cast<char>(c));
  hostile += "\xc3\xa9 \"quoted\" back\\slash";
  for (size_t offset = 0; offset < 9; ++offset) {
    AuditRecord r;
    r.event_name = std::string(offset, 'x') + hostile;
    r.user_agent = hostile.substr(offset);
    r.additional_event_data.emplace_back("k\"ey\n" + std::string(offset, 'y'), r.event_name);
    const std::string line = SerializeRecord(r);
    rapidjson::StringBuffer expected_name;
    rapidjson::Writer<rapidjson::StringBuffer> w(expected_name);
    w.String(r.event_name.data(), static_cast<rapidjson::SizeType>(r.event_name.size()));
    EXPECT_NE(line.find(std::string("\"eventName\":") + expected_name.GetString()), std::string::npos) << offset;
    auto parsed = ParseRecord(line);
    ASSERT_TRUE(parsed.ok()) << line;
    EXPECT_EQ(parsed->event_name, r.event_name);
    EXPECT_EQ(parsed->user_agent, r.user_agent);
    ASSERT_EQ(parsed->additional_event_data.size(), 1u);
    EXPECT_EQ(parsed->additional_event_data[0], r.additional_event_data[0]);
  }
}

TEST(AuditRecordTest, EventTimes) {
  EXPECT_EQ(FormatEventTime(1714564800123), "2024-05-01T12:00:00Z");
  EXPECT_EQ(*ParseEventTime("2024-05-01T12:00:00Z"), 1714564800000);
  EXPECT_EQ(*ParseEventTime("2024-05-01T12:00:00.250Z"), 1714564800250);
  EXPECT_EQ(*ParseEventTime("2024-05-01"), 1714521600000);
  for (const char* bad : {"", "2024-13-01", "2024-05-01T12:00", "2024-05-01T12:00:00", "yesterday", "2024-05-01T25:00:00Z"})
    EXPECT_FALSE(ParseEventTime(bad).ok()) << bad;
}

TEST(AuditRecordTest, ReadOnlyEvents) {
  for (const char* e : {"Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey", "ListKeys", "GetSecretValue",
                        "GetCallerIdentity", "GenerateRandom"})
    EXPECT_TRUE(IsReadOnlyEvent(e)) << e;
  for (const char* e : {"CreateKey", "PutSecretValue", "ScheduleKeyDeletion", "AssumeRole", "ReplicateKey"})
    EXPECT_FALSE(IsReadOnlyEvent(e)) << e;
}

TEST(AuditRecordTest, EventIdsAreUuids) {
  std::string a = NewEventId(), b = NewEventId();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
}

}  // namespace
}  // namespace meridian::audit

#include "audit/resources.h"

namespace meridian::audit {
namespace {

rapidjson::Document Doc(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return d;
}

TEST(InferResourcesTest, KmsKeysFromResponseAndRequest) {
  ResourceContext ctx{"aws", "us-east-1", "111122223333"};
  auto req = Doc(R"({"KeyId":"alias/app","Plaintext":"AAAA"})");
  auto resp = Doc(R"({"KeyId":"arn:aws:kms:us-east-1:111122223333:key/k1","CiphertextBlob":"AAAA"})");
  auto r = InferResources(kKmsEventSource, ctx, &req, &resp);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].arn, "arn:aws:kms:us-east-1:111122223333:key/k1");
  EXPECT_EQ(r[0].type, "AWS::KMS::Key");
  EXPECT_EQ(r[0].account_id, "111122223333");
  EXPECT_EQ(r[1].arn, "arn:aws:kms:us-east-1:111122223333:alias/app");
  EXPECT_EQ(r[1].type, "AWS::KMS::Alias");

  // A failed call (no response) with a bare key id; ReEncrypt's two keys.
  auto denied = Doc(R"({"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"})");
  r = InferResources(kKmsEventSource, ctx, &denied, nullptr);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].arn, "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
  auto reencrypt = Doc(R"({"DestinationKeyId":"arn:aws:kms:eu-west-1:444455556666:key/k2"})");
  auto reresp = Doc(R"({"SourceKeyId":"arn:aws:kms:us-east-1:111122223333:key/k1","KeyId":"arn:aws:kms:eu-west-1:444455556666:key/k2"})");
  r = InferResources(kKmsEventSource, ctx, &reencrypt, &reresp);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].account_id, "444455556666");
  EXPECT_EQ(r[1].arn, "arn:aws:kms:us-east-1:111122223333:key/k1");
  // DescribeKey names the key in KeyMetadata.
  auto describe = Doc(R"({"KeyMetadata":{"Arn":"arn:aws:kms:us-east-1:111122223333:key/k3"}})");
  r = InferResources(kKmsEventSource, ctx, nullptr, &describe);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].arn, "arn:aws:kms:us-east-1:111122223333:key/k3");
}

TEST(InferResourcesTest, Secrets) {
  ResourceContext ctx{"aws", "us-east-1", "111122223333"};
  auto req = Doc(R"({"SecretId":"prod/db"})");
  auto resp = Doc(R"({"ARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf","SecretString":"x"})");
  auto r = InferResources(kSecretsManagerEventSource, ctx, &req, &resp);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, "AWS::SecretsManager::Secret");
  EXPECT_TRUE(InferResources(kSecretsManagerEventSource, ctx, &req, nullptr).empty());
  EXPECT_TRUE(InferResources("sts.amazonaws.com", ctx, &req, &resp).empty());
}

}  // namespace
}  // namespace meridian::audit
