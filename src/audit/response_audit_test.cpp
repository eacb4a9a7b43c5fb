#include "audit/response_audit.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "audit/redaction.h"

namespace meridian::audit {
namespace {

const ResourceContext kContext{"aws", "us-east-1", "111122223333"};

// The reference: the whole response parsed, then redacted and searched for resources.
ResponseAudit Reference(std::string_view source, const std::string& json) {
  ResponseAudit out;
  out.response_elements = RedactMessageJson(source, json);
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (!d.HasParseError()) out.resources = InferResources(source, kContext, nullptr, &d);
  return out;
}

void ExpectSameAsReference(std::string_view source, const std::string& json) {
  SCOPED_TRACE(json);
  const ResponseAudit want = Reference(source, json);
  const ResponseAudit got = AuditResponse(source, kContext, json);
  EXPECT_EQ(got.response_elements, want.response_elements);
  ASSERT_EQ(got.resources.size(), want.resources.size());
  for (size_t i = 0; i < want.resources.size(); ++i) {
    EXPECT_EQ(got.resources[i].arn, want.resources[i].arn);
    EXPECT_EQ(got.resources[i].type, want.resources[i].type);
    EXPECT_EQ(got.resources[i].account_id, want.resources[i].account_id);
  }
}

constexpr char kKeyArn[] = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

TEST(AuditResponseTest, KeepsRecordedMembersAndSkipsTheRest) {
  const std::string json = std::string("{\"CiphertextBlob\":\"UExBSU5URVhULVNFQ1JFVA==\",\"KeyId\":\"") + kKeyArn +
                           "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}";
  const ResponseAudit got = AuditResponse(kKmsEventSource, kContext, json);
  EXPECT_EQ(got.response_elements,
            std::string("{\"keyId\":\"") + kKeyArn + "\",\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}");
  ASSERT_EQ(got.resources.size(), 1u);
  EXPECT_EQ(got.resources[0].arn, kKeyArn);
  EXPECT_EQ(got.response_elements.find("UExBSU5URVhU"), std::string::npos);
  ExpectSameAsReference(kKmsEventSource, json);
}

TEST(AuditResponseTest, MatchesAFullParseOnEveryShape) {
  const std::string arn = kKeyArn;
  for (const std::string& json : std::vector<std::string>{
           // Decrypt / GenerateDataKey: plaintext first, last, with escapes inside skipped strings.
           "{\"Plaintext\":\"c2VjcmV0\",\"KeyId\":\"" + arn + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}",
           "{\"KeyId\":\"" + arn + "\",\"Plaintext\":\"a\\\"b\\\\\",\"CiphertextBlob\":\"x\\\\\"}",
           "{\"Plaintext\":\"\\\\\\\"\\\\\",\"KeyId\":\"" + arn + "\"}",
           // Nested objects and arrays kept and skipped, numbers, booleans, null, empty strings.
           "{\"KeyMetadata\":{\"KeyId\":\"k\",\"Arn\":\"" + arn +
               "\",\"Enabled\":true,\"EncryptionAlgorithms\":[\"SYMMETRIC_DEFAULT\"],\"Secret\":\"s\"},"
               "\"Unknown\":{\"a\":[1,{\"b\":\"}]\"}],\"c\":null},\"Truncated\":false,\"Limit\":10,\"Marker\":\"\"}",
           "{\"Keys\":[{\"KeyId\":\"k1\",\"KeyArn\":\"" + arn + "\"},{\"KeyId\":\"k2\"}],\"Truncated\":true}",
           "{\"SourceKeyId\":\"" + arn + "\",\"CiphertextBlob\":\"eA==\",\"KeyId\":\"" + arn + "\"}",
           "{\"KeyId\":\"caf\\u00e9\\n\\\"quoted\\\"\"}",
           "{}",
           "{\"Plaintext\":\"only-a-secret\"}",
           // Not what the writer produces: whitespace, escaped member names, broken text, not an object.
           "{ \"KeyId\" : \"" + arn + "\" , \"Plaintext\" : \"x\" }",
           "{\"Key\\u0049d\":\"" + arn + "\",\"Plaintext\":\"x\"}",
           "{\"KeyId\":\"" + arn + "\",\"Plaintext\":\"unterminated}",
           "{\"KeyId\":\"" + arn + "\"}trailing",
           "{\"KeyId\":}",
           "[\"KeyId\"]",
           "",
       })
    ExpectSameAsReference(kKmsEventSource, json);
}

TEST(AuditResponseTest, SecretsManagerResourcesAndValues) {
  const std::string arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf";
  const std::string batch = "{\"SecretValues\":[{\"ARN\":\"" + arn +
                            "\",\"Name\":\"db\",\"SecretString\":\"hunter2\"}],\"Errors\":[]}";
  ExpectSameAsReference(kSecretsManagerEventSource, batch);
  const ResponseAudit got = AuditResponse(kSecretsManagerEventSource, kContext, batch);
  ASSERT_EQ(got.resources.size(), 1u);
  EXPECT_EQ(got.resources[0].arn, arn);
  EXPECT_EQ(got.response_elements.find("hunter2"), std::string::npos);
  ExpectSameAsReference(kSecretsManagerEventSource,
                        "{\"ARN\":\"" + arn + "\",\"Name\":\"db\",\"SecretString\":\"hunter2\",\"VersionId\":\"v1\"}");
}

TEST(AuditResponseTest, UnknownServiceRecordsNothing) {
  const ResponseAudit got = AuditResponse("example.amazonaws.com", kContext, "{\"KeyId\":\"k\"}");
  EXPECT_EQ(got.response_elements, "");
  EXPECT_TRUE(got.resources.empty());
}

}  // namespace
}  // namespace meridian::audit
